"""GIVEN the traveller window over the REAL kiosk (``kiosk.app.build_kiosk`` with the demo's
simulated devices and a policy that admits families, children from ten accompanied) WHEN a
family chooses "Travelling as a family" and places its passports one after another as the
screens ask THEN the window shows "Family: next passport" with the progress, presents each
member's liveness challenge before it is judged, and ends on one result for the family: the
gate opened once for all, or the officer; a child alone is told at the passport step."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from hardware.sim.camera import SimulatedCamera
from hardware.sim.chip import PassportChip
from hardware.sim.chip_reader import SimulatedChipReader
from hardware.sim.gate import SimulatedGate
from hardware.sim.mrz_reader import SimulatedMrzReader
from kiosk.app import Kiosk, KioskRuntime, build_kiosk
from kiosk.config import load_config
from kiosk.demo.family import member_scenarios
from kiosk.demo.scenarios import Scenario, scenario
from kiosk.demo.world import DemoWorld, scene_config
from ui.traveller.window import TravellerWindow

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> DemoWorld:
    home: Path = tmp_path_factory.mktemp("family-ui")
    return DemoWorld(load_config(None, data_dir=str(home)), camera_fps=15)


class Gate:
    """The real kiosk and the real traveller window for one scenario."""

    def __init__(self, qtbot: QtBot, world: DemoWorld, item: Scenario) -> None:
        self.world, self.qtbot = world, qtbot
        self.members = member_scenarios(item) if item.members else [item]
        self.kiosk: Kiosk = build_kiosk(world.kiosk_config(self.members[0], matcher_process=False))
        self.runtime = KioskRuntime(self.kiosk)
        devices = self.kiosk.devices
        self.window = TravellerWindow(self.kiosk.bus, devices.camera, engine=self.kiosk.engine)
        qtbot.addWidget(self.window)
        self.screens: list[str] = []
        self.window.stack.currentChanged.connect(
            lambda _: self.screens.append(self.window.current_screen)
        )
        world._lists(self.kiosk, self.members[0])
        self.runtime.start()
        assert self.runtime.wait_in_service(60), self.kiosk.lane.status().as_dict()
        self.window.resize(1280, 800)
        self.window.show()

    def place(self, member: Scenario, first: bool) -> None:
        devices = self.kiosk.devices
        chip_reader, mrz_reader = devices.chip_reader, devices.mrz_reader
        camera = devices.camera
        assert isinstance(chip_reader, SimulatedChipReader)
        assert isinstance(mrz_reader, SimulatedMrzReader)
        assert isinstance(camera, SimulatedCamera)
        if not first:  # the last passport is lifted, the next member steps up
            mrz_reader.remove()
            chip_reader.remove()
            camera.play(scene_config(member, self.world.camera_fps))
        chip_reader.insert(PassportChip(self.world.factory.chip_image(member.profile)))
        mrz_reader.present(self.world.factory.printed_mrz(member.profile))

    def close(self) -> None:
        self.window.close()
        self.runtime.stop()
        self.kiosk.close()


@pytest.fixture
def gate_for(qtbot: QtBot, world: DemoWorld) -> Iterator[object]:
    opened: list[Gate] = []

    def make(name: str) -> Gate:
        opened.append(Gate(qtbot, world, scenario(name)))
        return opened[-1]

    yield make
    for gate in opened:
        gate.close()


def _family(gate: Gate) -> str:
    """Choose the family's size on the welcome screen, then place each passport when asked;
    returns the screen the family ends on."""
    window, qtbot = gate.window, gate.qtbot
    size = len(gate.members)
    assert window.current_screen == "welcome" and window.family.choice.isVisible()
    window.family.choice.open_button.click()
    window.family.choice.size_buttons[size].click()
    assert gate.kiosk.engine.family.size == size
    assert (
        window.family.choice.status.text()
        == f"Family of {size}: place the first passport on the reader."
    )
    sim_gate = gate.kiosk.devices.gate
    assert isinstance(sim_gate, SimulatedGate)
    sim_gate.walk_in_together(size)
    for index, member in enumerate(gate.members):
        if index:
            qtbot.waitUntil(
                lambda: window.current_screen in ("family_next", "officer"), timeout=90_000
            )
            if window.current_screen == "officer":
                break
            assert window.family.badge.text() == f"Family: passport {index + 1} of {size}"
            assert window.spoken_text("family_next").startswith("Family: next passport")
        gate.place(member, first=index == 0)
    qtbot.waitUntil(lambda: window.current_screen in ("proceed", "officer"), timeout=90_000)
    qtbot.waitUntil(lambda: gate.kiosk.engine.state.value == "waiting", timeout=30_000)
    return window.current_screen


def test_a_family_is_guided_passport_by_passport_and_passes_together(gate_for) -> None:  # type: ignore[no-untyped-def]
    gate = gate_for("family-accepted")
    assert _family(gate) == "proceed"
    assert gate.screens.count("family_next") == 1
    # each member's challenge was shown by this window and answered before it was judged
    assert len(gate.window.challenge.presented) >= 2
    assert "liveness" in gate.screens
    sim_gate = gate.kiosk.devices.gate
    assert isinstance(sim_gate, SimulatedGate)
    opened = [c.value for c in sim_gate.commands if c.value.startswith("OPEN")]
    assert opened == ["OPEN ENTRY", "OPEN EXIT"]  # one opening for the whole family


def test_a_family_with_an_impostor_goes_to_the_officer_as_one(gate_for) -> None:  # type: ignore[no-untyped-def]
    gate = gate_for("family-impostor")
    assert _family(gate) == "officer"
    sim_gate = gate.kiosk.devices.gate
    assert isinstance(sim_gate, SimulatedGate)
    assert not any(c.value.startswith("OPEN") for c in sim_gate.commands)


def test_a_child_with_a_parent_passes_in_their_family(gate_for) -> None:  # type: ignore[no-untyped-def]
    gate = gate_for("minor-accompanied")
    assert _family(gate) == "proceed"


def test_a_child_alone_is_told_at_the_passport_step(gate_for) -> None:  # type: ignore[no-untyped-def]
    gate = gate_for("minor-unaccompanied")
    gate.place(gate.members[0], first=True)
    window = gate.window
    gate.qtbot.waitUntil(lambda: window.current_screen == "officer", timeout=60_000)
    assert "camera" not in gate.screens and "liveness" not in gate.screens
