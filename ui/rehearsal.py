"""A small control panel for rehearsals on simulated devices: pick a demo scenario, put its
passport on the simulated readers, take it away. Only shown when the devices are simulated."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QVBoxLayout, QWidget

from hardware.sim.chip import PassportChip
from hardware.sim.chip_reader import SimulatedChipReader
from hardware.sim.mrz_reader import SimulatedMrzReader
from kiosk.app import Kiosk
from kiosk.demo.scenarios import all_scenarios
from kiosk.demo.world import DemoWorld
from ui.theme import desk_style
from ui.workers import Worker


class RehearsalPanel(QWidget):
    def __init__(self, world: DemoWorld, kiosk: Kiosk) -> None:
        super().__init__()
        self.world, self.kiosk = world, kiosk
        self.worker = Worker("rehearsal", threads=1, parent=self)
        self.setWindowTitle("Rehearsal – simulated devices")
        self.setStyleSheet(desk_style())
        self.scenarios = {s.name: s for s in all_scenarios()}
        self.choice = QComboBox()
        for name, item in self.scenarios.items():
            self.choice.addItem(f"{name} – {item.description}", name)
        self.present_button = QPushButton("Place passport on the reader")
        self.present_button.setObjectName("primary")
        self.remove_button = QPushButton("Take passport away")
        self.status = QLabel("")
        self.status.setObjectName("muted")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Scenario"))
        layout.addWidget(self.choice)
        layout.addWidget(self.present_button)
        layout.addWidget(self.remove_button)
        layout.addWidget(self.status)
        self.present_button.clicked.connect(self.present)
        self.remove_button.clicked.connect(self.remove)

    def present(self) -> None:
        scenario = self.scenarios[str(self.choice.currentData())]
        devices = self.kiosk.devices
        self.status.setText(f"Preparing {scenario.name}…")

        def work() -> str:
            self.world._lists(self.kiosk, scenario)
            image = self.world.factory.chip_image(scenario.profile)
            if isinstance(devices.chip_reader, SimulatedChipReader):
                devices.chip_reader.insert(PassportChip(image))
            if isinstance(devices.mrz_reader, SimulatedMrzReader):
                devices.mrz_reader.present(self.world.factory.printed_mrz(scenario.profile))
            return scenario.name

        self.worker.submit(
            work,
            lambda name: self.status.setText(f"{name}: passport placed"),
            lambda e: self.status.setText(f"failed: {type(e).__name__}"),
        )

    def remove(self) -> None:
        devices = self.kiosk.devices

        def work() -> None:
            if isinstance(devices.mrz_reader, SimulatedMrzReader):
                devices.mrz_reader.remove()
            if isinstance(devices.chip_reader, SimulatedChipReader):
                devices.chip_reader.remove()

        self.worker.submit(work, lambda _: self.status.setText("passport taken away"))

    def shutdown(self) -> None:
        self.worker.close()
