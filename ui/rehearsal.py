"""A small control panel for rehearsals on simulated devices: pick a demo scenario, put its
passport on the simulated readers of the kiosk ``build_kiosk`` made, play its scene on the
simulated camera (the traveller, an impostor, a photo held up, nobody at the camera), take the
passport away. Shown only when the chip and MRZ readers are simulated.

In the demo (``--demo``) the panel is the demo's traveller and works while the lane is in
service. On any other lane it is a technician's rehearsal: it runs only while the technician
has taken the lane out of service ("Start rehearsal" does), and "End rehearsal" returns the
lane to service."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QVBoxLayout, QWidget

from hardware.sim.camera import SimulatedCamera
from hardware.sim.chip import PassportChip
from hardware.sim.chip_reader import SimulatedChipReader
from hardware.sim.mrz_reader import SimulatedMrzReader
from kiosk.app import Kiosk
from kiosk.demo.scenarios import all_scenarios
from kiosk.demo.world import DemoWorld, scene_config
from ui.theme import desk_style
from ui.workers import Worker


class RehearsalPanel(QWidget):
    def __init__(self, world: DemoWorld, kiosk: Kiosk, *, demo: bool = False) -> None:
        super().__init__()
        self.world, self.kiosk, self.demo = world, kiosk, demo
        self.worker = Worker("rehearsal", threads=1, parent=self)
        self.setWindowTitle("Rehearsal – simulated devices")
        self.setStyleSheet(desk_style())
        # one passport at a time here; a family is rehearsed with `kiosk demo --scenario`
        self.scenarios = {s.name: s for s in all_scenarios() if not s.members}
        self.choice = QComboBox()
        for name, item in self.scenarios.items():
            self.choice.addItem(f"{name} – {item.description}", name)
        self.rehearse_button = QPushButton("Start rehearsal (lane out of service)")
        self.present_button = QPushButton("Place passport on the reader")
        self.present_button.setObjectName("primary")
        self.remove_button = QPushButton("Take passport away")
        self.status = QLabel("")
        self.status.setObjectName("muted")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Scenario"))
        layout.addWidget(self.choice)
        if not demo:
            layout.addWidget(self.rehearse_button)
        layout.addWidget(self.present_button)
        layout.addWidget(self.remove_button)
        layout.addWidget(self.status)
        self.rehearse_button.clicked.connect(self.toggle_rehearsal)
        self.present_button.clicked.connect(self.present)
        self.remove_button.clicked.connect(self.remove)
        self._update_buttons()

    @property
    def rehearsing(self) -> bool:
        return self.kiosk.rehearsal.is_set()

    def _update_buttons(self) -> None:
        allowed = self.demo or self.rehearsing
        self.present_button.setEnabled(allowed)
        self.rehearse_button.setText(
            "End rehearsal (return to service)"
            if self.rehearsing
            else "Start rehearsal (lane out of service)"
        )

    def toggle_rehearsal(self) -> None:
        if self.rehearsing:
            self.kiosk.return_to_service()
            self.status.setText("rehearsal ended")
        else:
            self.kiosk.take_out_of_service("rehearsal")
            self.kiosk.rehearsal.set()
            self.status.setText("lane out of service: rehearsing")
        self._update_buttons()

    def present(self) -> None:
        if not (self.demo or self.rehearsing):
            self.status.setText("take the lane out of service first")
            return
        scenario = self.scenarios[str(self.choice.currentData())]
        devices = self.kiosk.devices
        self.status.setText(f"Preparing {scenario.name}…")

        def work() -> str:
            self.world._lists(self.kiosk, scenario)
            if isinstance(devices.camera, SimulatedCamera):
                devices.camera.play(scene_config(scenario, devices.camera.config.fps))
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
