"""Devices and self-tests: every device with its driver, status and last error; a self-test
button per device; the camera's live view with frame rate and focus."""

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
from hardware.camera_mount import CameraMount
from hardware.chip_reader import ChipReader
from hardware.gate import Gate
from hardware.mrz_reader import MrzReader
from kiosk.diagnostics.devices import DeviceReport, device_reports
from kiosk.diagnostics.selftests import (
    SelfTestResult,
    camera_mount_self_test,
    camera_self_test,
    chip_reader_self_test,
    gate_self_test,
    mrz_reader_self_test,
)
from kiosk.lane import Lane
from ui.traveller.preview import CameraPreview
from ui.workers import Worker

TITLES = {
    "camera": "Camera",
    "chip_reader": "Chip reader",
    "mrz_reader": "MRZ reader",
    "gate": "Gate",
    "camera_mount": "Camera mount",
}


def _section(text: str) -> QLabel:
    label = QLabel(text)
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
        camera_mount: CameraMount | None = None,
        drivers: dict[str, str] | None = None,
        lane: Lane | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
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
                ("camera_mount", camera_mount),
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
        if camera_mount is not None:
            self.tests["camera_mount"] = lambda: camera_mount_self_test(camera_mount)
        self.reports: list[DeviceReport] = []
        self.results: dict[str, SelfTestResult] = {}

        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Device", "Driver", "Status", "Last error", "Detail"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMinimumHeight(150)

        self.results_table = QTableWidget(0, 3)
        self.results_table.setHorizontalHeaderLabels(["Self-test", "Result", "Figures"])
        self.results_table.verticalHeader().setVisible(False)
        self.results_table.horizontalHeader().setStretchLastSection(True)
        self.results_table.setWordWrap(True)
        self.results_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.buttons: dict[str, QPushButton] = {}
        buttons = QHBoxLayout()
        for kind in self.tests:
            button = QPushButton(f"Test {TITLES[kind].lower()}")
            button.clicked.connect(lambda _=False, k=kind: self.run_test(k))
            self.buttons[kind] = button
            buttons.addWidget(button)
        run_all = QPushButton("Run all self-tests")
        run_all.setObjectName("primary")
        run_all.clicked.connect(self.run_all)
        self.buttons["all"] = run_all
        buttons.addStretch(1)
        buttons.addWidget(run_all)

        self.preview = CameraPreview(camera, outline=False)
        self.preview.setFixedSize(480, 360)
        self.camera_figures = QLabel("Run the camera self-test for frame rate and focus.")
        self.camera_figures.setObjectName("muted")
        self.camera_figures.setWordWrap(True)

        grid = QGridLayout(self)
        grid.addWidget(_section("Devices"), 0, 0)
        grid.addWidget(self.table, 1, 0)
        grid.addWidget(_section("Self-tests"), 2, 0)
        grid.addLayout(buttons, 3, 0)
        grid.addWidget(self.results_table, 4, 0)
        grid.addWidget(_section("Camera live view"), 0, 1)
        right = QVBoxLayout()
        right.addWidget(self.preview)
        right.addWidget(self.camera_figures)
        right.addStretch(1)
        grid.addLayout(right, 1, 1, 4, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)

    def refresh(self) -> None:
        devices = dict(self.devices)
        self.worker.submit(lambda: device_reports(**devices), self._show_reports)

    def _show_reports(self, reports: Any) -> None:
        self.reports = list(reports)
        self.table.setRowCount(len(self.reports))
        for row, report in enumerate(self.reports):
            values = (
                TITLES.get(report.kind, report.kind),
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
        for button in self.buttons.values():
            button.setEnabled(not in_service)
            button.setToolTip("Take the lane out of service first" if in_service else "")

    def run_test(self, kind: str) -> None:
        test = self.tests[kind]
        if self.lane is not None and self.lane.in_service:
            self._show_result(
                SelfTestResult(kind, False, "not run: take the lane out of service first")
            )
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
        self.results_table.setRowCount(len(self.results))
        for row, item in enumerate(self.results.values()):
            figures = ", ".join(f"{k} {v}" for k, v in item.figures.items())
            mark = "✔ passed" if item.passed else "✖ failed"
            for column, value in enumerate(
                (TITLES.get(item.device, item.device), f"{mark} – {item.summary}", figures)
            ):
                self.results_table.setItem(row, column, QTableWidgetItem(value))
        self.results_table.resizeColumnToContents(0)
        self.results_table.resizeColumnToContents(1)
        self.results_table.resizeRowsToContents()
        if result.device == "camera":
            f = result.figures
            self.camera_figures.setText(
                f"{f.get('fps', '–')} frames/s · focus (variance of Laplacian) "
                f"{f.get('focus', '–')} · {f.get('resolution', '')}"
            )
        self.refresh()
