"""The technician console: devices and self-tests, logs, health (sync backlog, last contact,
trust-list freshness), the effective configuration, and the diagnostics bundle export.

Device and database work runs on the console's worker threads; the GUI thread only shows
results. The console starts the camera for its live view if nobody else did, and stops it
again on close.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hardware.camera import Camera, CameraStatus
from hardware.chip_reader import ChipReader
from hardware.executor import on_device
from hardware.gate import Gate
from hardware.mrz_reader import MrzReader
from kiosk.config import KioskConfig
from kiosk.diagnostics.bundle import build_bundle, safe_config
from kiosk.diagnostics.devices import device_reports
from kiosk.diagnostics.health import sync_health, trust_health
from kiosk.diagnostics.log_buffer import LogBuffer
from kiosk.lane import Lane, LaneCause, LaneStatus
from kiosk.storage.database import Database
from ui.i18n import LANGUAGES
from ui.i18n.desk_catalogue import DeskCatalogue
from ui.lane_bridge import LaneBridge
from ui.technician.devices_tab import DevicesTab
from ui.technician.log_view import LogView
from ui.technician.trust_tab import TrustCoverageTab
from ui.theme import DESK_TYPE, LARGE_TEXT_FACTOR, desk_style
from ui.workers import Worker


def _ago(moment: str | None, tr: DeskCatalogue) -> str:
    if not moment:
        return tr("health.never")
    when = datetime.fromisoformat(moment)
    seconds = int((datetime.now(UTC) - when).total_seconds())
    if seconds < 120:
        return tr("health.ago_s", moment=f"{moment[:19]}Z", seconds=seconds)
    return tr("health.ago_min", moment=f"{moment[:19]}Z", minutes=seconds // 60)


class TechnicianWindow(QMainWindow):
    def __init__(
        self,
        config: KioskConfig,
        log_buffer: LogBuffer,
        *,
        database: Database | None = None,
        camera: Camera | None = None,
        chip_reader: ChipReader | None = None,
        mrz_reader: MrzReader | None = None,
        gate: Gate | None = None,
        lane: Lane | None = None,
        kiosk: Any = None,
        refresh_ms: int = 2000,
        language: str = "en",
    ) -> None:
        super().__init__()
        self.tr_ = DeskCatalogue(language)
        self.config = config
        self.lane = lane
        self.kiosk = kiosk
        self.database = database
        self.log_buffer = log_buffer
        self.camera = camera
        self._devices: dict[str, Any] = {
            "camera": camera,
            "chip_reader": chip_reader,
            "mrz_reader": mrz_reader,
            "gate": gate,
        }
        self.health: dict[str, Any] = {}
        self.worker = Worker("technician", threads=3, parent=self)
        self.setStyleSheet(desk_style())

        devices = config.devices
        self.devices_tab = DevicesTab(
            self.worker,
            camera=camera,
            chip_reader=chip_reader,
            mrz_reader=mrz_reader,
            gate=gate,
            drivers={
                k: getattr(devices, k).type for k in ("camera", "chip_reader", "mrz_reader", "gate")
            },
            lane=lane,
            tr=self.tr_,
        )
        self.log_view = LogView(log_buffer, self.tr_)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.devices_tab, "Devices")
        self.tabs.addTab(self.log_view, "Logs")
        self.tabs.addTab(self._health_tab(), "Health")
        self.trust_tab = TrustCoverageTab(
            self.worker, database, config.policy.eligible_issuers, tr=self.tr_
        )
        self.tabs.addTab(self.trust_tab, "Trust coverage")
        self.tabs.addTab(self._config_tab(), "Configuration")
        root = QWidget()
        root.setObjectName("deskRoot")
        layout = QVBoxLayout(root)
        self.title = QLabel("")
        self.title.setObjectName("title")
        self.language = QComboBox()
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(list(LANGUAGES).index(language))
        self.language.currentIndexChanged.connect(
            lambda _i: self.set_language(str(self.language.currentData()))
        )
        self.text_size = QPushButton("")
        self.text_size.setCheckable(True)
        self.text_size.toggled.connect(self.set_large_text)
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.language)
        top.addWidget(self.text_size)
        layout.addLayout(top)
        layout.addWidget(self._lane_bar())
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(root)

        self._started_camera = False
        if camera is not None and camera.status is CameraStatus.STOPPED:
            on_device(camera, camera.start, owner="technician", timeout_s=10.0)  # its thread
            self._started_camera = True
        self.devices_tab.preview.start()
        self.timer = QTimer(self)
        self.timer.setInterval(refresh_ms)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.retranslate()
        self.refresh()

    @classmethod
    def for_kiosk(cls, kiosk: Any, log_buffer: LogBuffer, **kwargs: Any) -> TechnicianWindow:
        """The console over a kiosk built by ``kiosk.app.build_kiosk``: its devices, its
        database and its lane."""
        d = kiosk.devices
        return cls(
            kiosk.config,
            log_buffer,
            database=kiosk.database,
            camera=d.camera,
            chip_reader=d.chip_reader,
            mrz_reader=d.mrz_reader,
            gate=d.gate,
            lane=kiosk.lane,
            kiosk=kiosk,
            **kwargs,
        )

    # --- the lane -----------------------------------------------------------------------

    def _lane_bar(self) -> QWidget:
        bar = QWidget()
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 0, 0)
        self.lane_label = QLabel(self.tr_("lane.bar_none"))
        self.lane_label.setObjectName("section")
        self.lane_label.setWordWrap(True)
        self.lane_button = QPushButton(self.tr_("lane.bar_take_out"))
        self.lane_button.clicked.connect(self.toggle_service)
        self.lane_button.setVisible(self.lane is not None)
        row.addWidget(self.lane_label, 1)
        row.addWidget(self.lane_button)
        if self.lane is not None:
            self.lane_bridge = LaneBridge(self.lane, self)
            self.lane_bridge.changed.connect(self.show_lane)
            self.show_lane(self.lane.status())
        return bar

    def show_lane(self, status: LaneStatus) -> None:
        """The lane bar: each cause in words with its code (what support asks for), and the
        device's own detail."""
        t = self.tr_
        if status.in_service:
            self.lane_label.setText(t("lane.bar_in_service"))
        else:
            causes = "; ".join(
                f"{t(f'cause.{f.cause.value}')} ({f.cause.value})"
                + (f" – {f.detail}" if f.detail else "")
                for f in status.faults
            )
            self.lane_label.setText(t("lane.bar_out_of_service", causes=causes))
        technician = LaneCause.TECHNICIAN in status.causes
        self.lane_button.setText(t("lane.bar_return" if technician else "lane.bar_take_out"))
        self.devices_tab.set_lane_in_service(status.in_service)

    def toggle_service(self) -> None:
        lane = self.lane
        if lane is None:
            return
        kiosk = self.kiosk
        if lane.has(LaneCause.TECHNICIAN):
            if kiosk is not None:
                self.worker.submit(kiosk.return_to_service, lambda _: None)
            else:
                lane.clear(LaneCause.TECHNICIAN)
        elif kiosk is not None:
            kiosk.take_out_of_service("technician console")
        else:
            lane.set(LaneCause.TECHNICIAN, "technician console")

    # --- language and size --------------------------------------------------------------

    HEALTH_KEYS = (
        "tech.backlog",
        "tech.last_contact",
        "tech.sync_error",
        "tech.trust_list",
        "tech.trust_store",
        "tech.diagnostics",
    )

    def set_language(self, language: str) -> None:
        self.tr_.set_language(language)
        if self.language.currentData() != language:
            self.language.setCurrentIndex(list(LANGUAGES).index(language))
        self.retranslate()

    def set_large_text(self, on: bool) -> None:
        """The traveller screens' large-text factor, applied to the console."""
        self.setStyleSheet(desk_style(DESK_TYPE.scaled(LARGE_TEXT_FACTOR) if on else DESK_TYPE))

    def retranslate(self) -> None:
        t, config = self.tr_, self.config
        self.setWindowTitle(t("tech.window_title", kiosk=config.kiosk_id))
        self.title.setText(t("tech.title", kiosk=config.kiosk_id, site=config.site))
        for index, key in enumerate(
            (
                "tech.tab_devices",
                "tech.tab_logs",
                "tech.tab_health",
                "tech.tab_trust",
                "tech.tab_config",
            )
        ):
            self.tabs.setTabText(index, t(key))
        self.text_size.setText(t("booth.large_text"))
        for row, key in enumerate(self.HEALTH_KEYS):
            label = self.health_form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            if label is not None and isinstance(label.widget(), QLabel):
                label.widget().setText(t(key))  # type: ignore[union-attr]
        self.export_button.setText(t("tech.export"))
        self.export_status.setText(t("tech.export_note"))
        self.devices_tab.retranslate()
        self.log_view.retranslate()
        self.trust_tab.retranslate()
        if self.lane is not None:
            self.show_lane(self.lane.status())
        else:
            self.lane_label.setText(t("lane.bar_none"))
        if getattr(self, "health", None):
            self._render_health()

    # --- tabs ---------------------------------------------------------------------------

    def _health_tab(self) -> QWidget:
        tab = QWidget()
        form = QFormLayout(tab)
        self.backlog_label = QLabel("…")
        self.contact_label = QLabel("…")
        self.sync_error_label = QLabel("…")
        self.trust_label = QLabel("…")
        self.trust_detail_label = QLabel("…")
        self.health_form = form
        form.addRow("Sync backlog (messages waiting)", self.backlog_label)
        form.addRow("Last contact with the server", self.contact_label)
        form.addRow("Last sync error", self.sync_error_label)
        form.addRow("Trust list", self.trust_label)
        form.addRow("Trust store", self.trust_detail_label)
        self.export_button = QPushButton("Export diagnostics bundle…")
        self.export_button.setObjectName("primary")
        self.export_button.clicked.connect(self._ask_export)
        self.export_status = QLabel(
            "The bundle holds no personal data: configuration (secrets "
            "masked), device status, self-tests, recent logs, versions."
        )
        self.export_status.setObjectName("muted")
        self.export_status.setWordWrap(True)
        self.export_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        form.addRow("Diagnostics", self.export_button)
        form.addRow("", self.export_status)
        return tab

    def _config_tab(self) -> QWidget:
        self.config_view = QPlainTextEdit()
        self.config_view.setReadOnly(True)
        self.config_view.setFont(QFont("DejaVu Sans Mono", 10))
        self.config_view.setPlainText(json.dumps(safe_config(self.config), indent=2))
        return self.config_view

    # --- refreshing ---------------------------------------------------------------------

    def refresh(self) -> None:
        self.devices_tab.refresh()
        self.trust_tab.refresh()
        database = self.database
        if database is None:
            self._show_health({"sync": None, "trust": None})
            return
        self.worker.submit(
            lambda: {
                "sync": sync_health(database).as_dict(),
                "trust": trust_health(database).as_dict(),
            },
            self._show_health,
        )

    def _show_health(self, health: Any) -> None:
        self.health = dict(health)
        self._render_health()

    def _render_health(self) -> None:
        tr = self.tr_
        sync, trust = self.health.get("sync"), self.health.get("trust")
        if sync is None:
            self.backlog_label.setText(tr("health.unknown_no_db"))
            self.contact_label.setText(tr("health.unknown"))
            self.sync_error_label.setText("–")
        else:
            backlog = sync["backlog"]
            self.backlog_label.setText(tr("health.unknown") if backlog is None else str(backlog))
            self.contact_label.setText(_ago(sync["last_contact_at"], tr))
            failures = sync["consecutive_failures"]
            error = sync["last_error"] or "–"
            self.sync_error_label.setText(
                tr("health.failures", error=error, failures=failures) if failures else error
            )
        if trust is None or trust["state"] == "unknown":
            self.trust_label.setText(tr("health.unknown"))
            self.trust_detail_label.setText(tr("health.no_trust"))
        else:
            self.trust_label.setText(
                tr(
                    "health.trust_state",
                    state=trust["state"],
                    updated=_ago(trust["updated_at"], tr),
                )
            )
            self.trust_detail_label.setText(
                tr(
                    "health.trust_detail",
                    certificates=trust["certificates"],
                    crls=trust["crls"],
                    next_update=trust["oldest_crl_next_update"] or "–",
                )
            )

    # --- bundle -------------------------------------------------------------------------

    def _ask_export(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        name, _ = QFileDialog.getSaveFileName(
            self,
            self.tr_("tech.export_dialog"),
            f"diagnostics-{self.config.kiosk_id}-{stamp}.zip",
            self.tr_("tech.zip_files"),
        )
        if name:
            self.export_bundle(Path(name))

    def export_bundle(self, path: Path) -> None:
        """Write the bundle on a worker thread; the status line says when it is done."""
        devices: dict[str, Any] = {k: v for k, v in self._devices.items() if v is not None}
        results = list(self.devices_tab.results.values())
        lines = self.log_buffer.lines()
        health = dict(self.health)
        config = self.config
        self.export_button.setEnabled(False)
        self.export_status.setText(self.tr_("tech.export_writing"))

        def write() -> Path:
            return build_bundle(
                path,
                config=config,
                devices=device_reports(**devices),
                selftests=results,
                log_lines=lines,
                health=health,
            )

        def done(written: Any) -> None:
            self.export_button.setEnabled(True)
            self.export_status.setText(self.tr_("tech.export_written", path=written))
            self.last_bundle = Path(written)

        def failed(error: BaseException) -> None:
            self.export_button.setEnabled(True)
            self.export_status.setText(self.tr_("tech.export_failed", error=type(error).__name__))

        self.worker.submit(write, done, failed)

    # --- life cycle ---------------------------------------------------------------------

    def shutdown(self) -> None:
        self.timer.stop()
        if getattr(self, "lane_bridge", None) is not None:
            self.lane_bridge.close()
        self.devices_tab.preview.clear()
        self.log_view.close_view()
        self.worker.close()
        if self._started_camera and self.camera is not None:
            on_device(self.camera, self.camera.stop, owner="technician", timeout_s=10.0)
            self._started_camera = False

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
