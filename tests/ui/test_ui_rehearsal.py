"""GIVEN the rehearsal panel over the kiosk ``build_kiosk`` made from a configuration with
simulated devices WHEN a technician rehearses THEN it runs only once the lane is out of service
for the technician, and each scenario drives that kiosk's own simulated devices, the camera's
scene included (a photo held up, nobody at the camera, an impostor's face)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from hardware.sim.camera import SimulatedCamera
from kiosk.app import KioskRuntime, build_kiosk
from kiosk.config import load_config
from kiosk.demo.scenarios import scenario
from kiosk.demo.world import DemoWorld
from kiosk.lane import LaneCause
from ui.rehearsal import RehearsalPanel

pytestmark = pytest.mark.gui


def _choose(panel: RehearsalPanel, name: str) -> None:
    panel.choice.setCurrentIndex(panel.choice.findData(name))


def test_a_rehearsal_needs_the_lane_out_of_service_and_plays_each_scene(
    qtbot: QtBot, tmp_path: Path
) -> None:
    config = load_config(None, data_dir=str(tmp_path / "home"))
    world = DemoWorld(config, import_trust=False)
    for name in ("photo-attack", "impostor"):
        world.factory.chip_image(scenario(name).profile)  # the passports, made before the clock
    kiosk = build_kiosk(world.kiosk_config(scenario("genuine-traveller"), matcher_process=False))
    runtime = KioskRuntime(kiosk)
    runtime.start()
    panel = RehearsalPanel(world, kiosk, demo=False)
    qtbot.addWidget(panel)
    try:
        camera = kiosk.devices.camera
        assert isinstance(camera, SimulatedCamera)
        # GIVEN a lane the technician has not taken out of service
        assert not panel.present_button.isEnabled()
        panel.present()
        assert "out of service first" in panel.status.text()
        # WHEN the rehearsal starts THEN the lane is out of service for the technician
        panel.toggle_rehearsal()
        assert kiosk.lane.has(LaneCause.TECHNICIAN) and kiosk.rehearsal.is_set()
        assert panel.present_button.isEnabled()
        # AND each scenario plays its scene on the kiosk's own camera
        for name, scene in (("photo-attack", "printed_photo"), ("nobody-at-camera", "nobody")):
            _choose(panel, name)
            panel.present()
            qtbot.waitUntil(lambda: "passport placed" in panel.status.text(), timeout=60_000)
            assert camera.config.scene == scene
            panel.remove()
            qtbot.waitUntil(lambda: "taken away" in panel.status.text(), timeout=60_000)
            kiosk.engine.cancel()
            assert kiosk.engine.wait_idle(60)
        _choose(panel, "impostor")
        panel.present()
        qtbot.waitUntil(lambda: "passport placed" in panel.status.text(), timeout=60_000)
        assert camera.config.scene == "traveller"
        assert (
            camera.config.face_image is not None and camera.config.face_image.name == "alex_3.jpg"
        )
        kiosk.engine.cancel()
        assert kiosk.engine.wait_idle(60)
        # WHEN it ends THEN the lane returns to service
        panel.toggle_rehearsal()
        assert not kiosk.rehearsal.is_set() and not kiosk.lane.has(LaneCause.TECHNICIAN)
    finally:
        panel.shutdown()
        runtime.stop()
        kiosk.close()
