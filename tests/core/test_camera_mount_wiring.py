"""GIVEN a kiosk built by the composition root with a camera mount configured WHEN its
runtime starts THEN a simulated mount is opened (homed) on its own device thread and handed
to the pipeline, and a serial mount whose controller is missing leaves the camera fixed
without naming itself among the lane's causes (degraded, not out of service)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hardware.sim.camera_mount import SimulatedCameraMount
from kiosk.app import KioskRuntime, build_kiosk, lane_report
from kiosk.config import load_config

pytest.importorskip("serial")


def _kiosk(tmp_path: Path, mount: dict[str, object]):  # type: ignore[no-untyped-def]
    config = load_config(None, data_dir=str(tmp_path / "home"), devices={"camera_mount": mount})
    return build_kiosk(config)


def test_a_simulated_mount_is_opened_on_its_thread_and_given_to_the_pipeline(
    tmp_path: Path,
) -> None:
    kiosk = _kiosk(tmp_path, {"type": "simulated", "lowest": -2})
    runtime = KioskRuntime(kiosk)
    try:
        runtime.start()
        mount = kiosk.devices.camera_mount
        assert isinstance(mount, SimulatedCameraMount)
        assert kiosk.supervisor.mount_open and mount.targets == [0]
        assert kiosk.pipeline.camera_mount is mount
        assert mount.camera is kiosk.devices.camera  # the simulated view follows it
        assert lane_report(kiosk)["driver.camera_mount"] == "simulated"
    finally:
        runtime.stop()
        kiosk.close()


def test_a_missing_mount_controller_degrades_without_closing_the_lane(tmp_path: Path) -> None:
    kiosk = _kiosk(tmp_path, {"type": "serial", "port": str(tmp_path / "no-such-tty")})
    runtime = KioskRuntime(kiosk)
    try:
        runtime.start()
        assert not kiosk.supervisor.mount_open
        causes = " ".join(f"{f.cause.value}:{f.key} {f.detail}" for f in kiosk.lane.status().faults)
        assert "mount" not in causes
    finally:
        runtime.stop()
        kiosk.close()
