"""Devices and self-tests: every device with its driver, status and last error; a self-test
button per device; the camera's live view with frame rate and focus. Words come from the desk
catalogue (``dev.*``) in the console's language; device states, errors and figures are the
drivers' own codes and stay as they are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hardware.camera import Camera
from hardware.chip_reader import ChipReader
from hardware.gate import Gate
from hardware.mrz_reader import MrzReader
from kiosk.diagnostics.devices import DeviceReport, device_reports
from kiosk.diagnostics.selftests import (
    SelfTestResult,
    camera_self_test,
    chip_reader_self_test,
    gate_self_test,
    mrz_reader_self_test,
)
from kiosk.lane import Lane
from ui.i18n.desk_catalogue import DeskCatalogue
from ui.traveller.preview import CameraPreview
from ui.workers import Worker

DEVICE_COLUMNS = ("dev.col_device", "dev.col_driver", "dev.col_status", "dev.col_last_error",
                  "dev.col_detail")  # fmt: skip
RESULT_COLUMNS = ("dev.col_selftest", "dev.col_result", "dev.col_figures")
SECTIONS = ("dev.section_devices", "dev.section_selftests", "dev.section_live")
NOT_RUN = "not run: take the lane out of service first"


def _section() -> QLabel:
    label = QLabel("")
    label.setObjectName("section")
    return label


class DevicesTab(QWidget):
    def __init__(
        self,
        worker: Worker,
        *,
        camera: Camera | None = None,
        chip_reader: ChipReader | None = None,
        mrz_reader: MrzReader | None = None,
        gate: Gate | None = None,
        drivers: dict[str, str] | None = None,
        lane: Lane | None = None,
        tr: DeskCatalogue | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.tr_ = tr or DeskCatalogue()
        self.worker = worker
        # The driver each device runs, as configured (``[devices.*] type``).
        self.drivers = dict(drivers or {})
        # Self-tests and door tests run only while this lane is out of service.
        self.lane = lane
        self.devices: dict[str, Any] = {
            k: v
            for k, v in (
                ("camera", camera),
                ("chip_reader", chip_reader),
                ("mrz_reader", mrz_reader),
                ("gate", gate),
            )
            if v is not None
        }
        self.tests: dict[str, Callable[[], SelfTestResult]] = {}
        if camera is not None:
            self.tests["camera"] = lambda: camera_self_test(camera)
        if chip_reader is not None:
            self.tests["chip_reader"] = lambda: chip_reader_self_test(chip_reader)
        if mrz_reader is not None:
            self.tests["mrz_reader"] = lambda: mrz_reader_self_test(mrz_reader, timeout_s=5.0)
        if gate is not None:
            self.tests["gate"] = lambda: gate_self_test(gate)
        self.reports: list[DeviceReport] = []
        self.results: dict[str, SelfTestResult] = {}

        self.table = QTableWidget(0, len(DEVICE_COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMinimumHeight(150)

        self.results_table = QTableWidget(0, len(RESULT_COLUMNS))
        self.results_table.verticalHeader().setVisible(False)
        self.results_table.horizontalHeader().setStretchLastSection(True)
        self.results_table.setWordWrap(True)
        self.results_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.buttons: dict[str, QPushButton] = {}
        buttons = QHBoxLayout()
        for kind in self.tests:
            button = QPushButton("")
            button.clicked.connect(lambda _=False, k=kind: self.run_test(k))
            self.buttons[kind] = button
            buttons.addWidget(button)
        run_all = QPushButton("")
        run_all.setObjectName("primary")
        run_all.clicked.connect(self.run_all)
        self.buttons["all"] = run_all
        buttons.addStretch(1)
        buttons.addWidget(run_all)

        self.preview = CameraPreview(camera, outline=False)
        self.preview.setFixedSize(480, 360)
        self.camera_figures = QLabel("")
        self.camera_figures.setObjectName("muted")
        self.camera_figures.setWordWrap(True)

        self.sections = {key: _section() for key in SECTIONS}
        self.in_service = False
        grid = QGridLayout(self)
        grid.addWidget(self.sections["dev.section_devices"], 0, 0)
        grid.addWidget(self.table, 1, 0)
        grid.addWidget(self.sections["dev.section_selftests"], 2, 0)
        grid.addLayout(buttons, 3, 0)
        grid.addWidget(self.results_table, 4, 0)
        grid.addWidget(self.sections["dev.section_live"], 0, 1)
        right = QVBoxLayout()
        right.addWidget(self.preview)
        right.addWidget(self.camera_figures)
        right.addStretch(1)
        grid.addLayout(right, 1, 1, 4, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        self.retranslate()

    def retranslate(self) -> None:
        t = self.tr_
        self.table.setHorizontalHeaderLabels([t(key) for key in DEVICE_COLUMNS])
        self.results_table.setHorizontalHeaderLabels([t(key) for key in RESULT_COLUMNS])
        for key, label in self.sections.items():
            label.setText(t(key))
        for kind, button in self.buttons.items():
            button.setText(t("dev.run_all") if kind == "all" else t(f"dev.test.{kind}"))
        self.set_lane_in_service(self.in_service)
        if "camera" in self.results:
            self._show_camera(self.results["camera"])
        else:
            self.camera_figures.setText(t("dev.camera_hint"))
        self._show_reports(self.reports)
        self._show_results()

    def title(self, kind: str) -> str:
        return self.tr_(f"dev.{kind}") if self.tr_.has(f"dev.{kind}") else kind

    def refresh(self) -> None:
        devices = dict(self.devices)
        self.worker.submit(lambda: device_reports(**devices), self._show_reports)

    def _show_reports(self, reports: Any) -> None:
        self.reports = list(reports)
        self.table.setRowCount(len(self.reports))
        for row, report in enumerate(self.reports):
            values = (
                self.title(report.kind),
                self.drivers.get(report.kind, report.driver),
                report.status,
                report.last_error or "–",
                report.detail,
            )
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        for column in range(4):
            self.table.resizeColumnToContents(column)

    def set_lane_in_service(self, in_service: bool) -> None:
        """Self-tests are offered only while the lane is out of service."""
        self.in_service = in_service
        for button in self.buttons.values():
            button.setEnabled(not in_service)
            button.setToolTip(self.tr_("dev.lane_first") if in_service else "")

    def run_test(self, kind: str) -> None:
        test = self.tests[kind]
        if self.lane is not None and self.lane.in_service:
            self._show_result(SelfTestResult(kind, False, NOT_RUN))
            return
        self.buttons[kind].setEnabled(False)
        self.worker.submit(test, self._show_result, lambda e: self.buttons[kind].setEnabled(True))

    def run_all(self) -> None:
        for kind in self.tests:
            self.run_test(kind)

    def _show_result(self, result: Any) -> None:
        assert isinstance(result, SelfTestResult)
        self.results[result.device] = result
        self.buttons[result.device].setEnabled(True)
        self._show_results()
        if result.device == "camera":
            self._show_camera(result)
        self.refresh()

    def _show_results(self) -> None:
        t = self.tr_
        self.results_table.setRowCount(len(self.results))
        for row, item in enumerate(self.results.values()):
            figures = ", ".join(f"{k} {v}" for k, v in item.figures.items())
            mark = t("dev.passed") if item.passed else t("dev.failed")
            summary = t("dev.not_run") if item.summary == NOT_RUN else item.summary
            for column, value in enumerate(
                (self.title(item.device), f"{mark} – {summary}", figures)
            ):
                self.results_table.setItem(row, column, QTableWidgetItem(value))
        self.results_table.resizeColumnToContents(0)
        self.results_table.resizeColumnToContents(1)
        self.results_table.resizeRowsToContents()

    def _show_camera(self, result: SelfTestResult) -> None:
        f = result.figures
        self.camera_figures.setText(
            self.tr_(
                "dev.camera_figures",
                fps=f.get("fps", "–"),
                focus=f.get("focus", "–"),
                resolution=f.get("resolution", ""),
            )
        )
