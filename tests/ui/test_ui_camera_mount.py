"""GIVEN the traveller window over the REAL kiosk whose simulated camera sits on a simulated
motorised mount, and a traveller whose face the camera first sees low in the frame (a child,
a wheelchair user) WHEN the capture frames the face THEN the mount is commanded down until the
face is centred; when the mount is already at its lowest and the face is still low, the
window switches to the seated layout by itself; the traveller is accepted either way."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from hardware.config import SimulatedCameraMountConfig
from hardware.sim.camera_mount import SimulatedCameraMount
from hardware.sim.chip import PassportChip
from hardware.sim.chip_reader import SimulatedChipReader
from hardware.sim.mrz_reader import SimulatedMrzReader
from kiosk.app import KioskRuntime, build_kiosk
from kiosk.config import load_config
from kiosk.demo.scenarios import scenario
from kiosk.demo.world import DemoWorld
from kiosk.session.events import Guidance, SessionEvent
from ui.traveller.window import TravellerWindow

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> DemoWorld:
    home: Path = tmp_path_factory.mktemp("mount-ui")
    return DemoWorld(load_config(None, data_dir=str(home)), camera_fps=15)


def _run(
    qtbot: QtBot, world: DemoWorld, face_height: float, lowest: int
) -> tuple[SimulatedCameraMount, TravellerWindow, list[str], str]:
    genuine = scenario("genuine-traveller")
    config = world.kiosk_config(genuine, matcher_process=False)
    devices = config.devices.model_copy(
        update={
            "camera": config.devices.camera.model_copy(update={"face_height": face_height}),
            "camera_mount": SimulatedCameraMountConfig(lowest=lowest, step_fraction=0.06),
        }
    )
    kiosk = build_kiosk(config.model_copy(update={"devices": devices}))
    runtime = KioskRuntime(kiosk)
    window = TravellerWindow(kiosk.bus, kiosk.devices.camera, engine=kiosk.engine)
    qtbot.addWidget(window)
    codes: list[str] = []

    def on_event(event: SessionEvent) -> None:
        if isinstance(event, Guidance):
            codes.append(event.code)

    kiosk.bus.subscribe(on_event)
    mount = kiosk.devices.camera_mount
    assert isinstance(mount, SimulatedCameraMount)
    layouts: list[bool] = []
    window.low_reach_button.toggled.connect(layouts.append)
    try:
        world._lists(kiosk, genuine)
        runtime.start()
        assert runtime.wait_in_service(60), kiosk.lane.status().as_dict()
        window.resize(1280, 800)
        window.show()
        chip_reader, mrz_reader = kiosk.devices.chip_reader, kiosk.devices.mrz_reader
        assert isinstance(chip_reader, SimulatedChipReader)
        assert isinstance(mrz_reader, SimulatedMrzReader)
        chip_reader.insert(PassportChip(world.factory.chip_image(genuine.profile)))
        mrz_reader.present(world.factory.printed_mrz(genuine.profile))
        qtbot.waitUntil(lambda: window.current_screen in ("proceed", "officer"), timeout=90_000)
        result = window.current_screen
        qtbot.waitUntil(lambda: kiosk.engine.state.value == "waiting", timeout=30_000)
    finally:
        window.close()
        runtime.stop()
        kiosk.close()
    codes.extend("layout:seated" for on in layouts if on)
    return mount, window, codes, result


def test_the_mount_tilts_down_to_a_face_low_in_the_frame(qtbot: QtBot, world: DemoWorld) -> None:
    mount, _window, codes, result = _run(qtbot, world, face_height=0.2, lowest=-3)
    assert result == "proceed"
    assert mount.targets[0] == 0 and -1 in mount.targets  # homed, then moved down
    assert min(mount.targets) >= -3
    assert "seated_layout" not in codes and "layout:seated" not in codes


def test_a_face_still_low_at_the_lowest_step_switches_to_the_seated_layout(
    qtbot: QtBot, world: DemoWorld
) -> None:
    mount, _window, codes, result = _run(qtbot, world, face_height=0.26, lowest=-1)
    assert result == "proceed"
    assert mount.targets[:2] == [0, -1]  # down as far as it goes
    assert codes.count("seated_layout") == 1
    assert "layout:seated" in codes  # the window switched by itself
