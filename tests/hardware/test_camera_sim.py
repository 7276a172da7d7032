"""The simulated camera: frames, status, reconnect after a simulated loss."""

from __future__ import annotations

import time
from pathlib import Path

from hardware.camera import CameraStatus
from hardware.config import SimulatedCameraConfig
from hardware.sim.camera import SimulatedCamera
from hardware.sim.scenes import build_scene

FACE = Path(__file__).resolve().parent.parent / "data" / "faces" / "obama" / "obama_480p.jpg"


def _wait_status(camera: SimulatedCamera, status: CameraStatus, timeout_s: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if camera.status is status:
            return True
        time.sleep(0.01)
    return False


def test_sim_camera_delivers_newest_frames() -> None:
    # GIVEN a simulated camera on the empty scene
    camera = SimulatedCamera(SimulatedCameraConfig(scene="nobody", fps=60, width=320, height=240))
    with camera:
        first = camera.wait_frame()
        second = camera.wait_frame(after_index=first.index if first else -1)
        # THEN frames arrive in order, stamped, at the configured size
        assert first is not None and second is not None
        assert second.index > first.index and second.timestamp >= first.timestamp
        assert camera.resolution == (320, 240)
        assert camera.status is CameraStatus.RUNNING
        assert camera.latest_frame() is not None
    assert camera.status is CameraStatus.STOPPED
    assert camera.latest_frame() is None


def test_sim_camera_reconnects_after_a_loss() -> None:
    camera = SimulatedCamera(SimulatedCameraConfig(scene="nobody", fps=60, width=128, height=96))
    with camera:
        assert camera.wait_frame() is not None
        # WHEN the camera is 'unplugged' for a few reads
        camera.interrupt(reads=2)
        deadline = time.monotonic() + 3.0
        while camera.losses < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        # THEN it counts both losses, reopens and runs again
        assert camera.losses == 2
        assert _wait_status(camera, CameraStatus.RUNNING)
        before = camera.latest_frame()
        assert camera.wait_frame(after_index=before.index if before else -1) is not None


def test_face_scene_without_a_photo_reports_why() -> None:
    camera = SimulatedCamera(SimulatedCameraConfig(scene="traveller", fps=30))
    with camera:
        assert _wait_status(camera, CameraStatus.RECONNECTING)
        assert camera.last_error == "camera_scene_invalid"
        assert camera.latest_frame() is None


def test_scenes_are_deterministic_and_move() -> None:
    config = SimulatedCameraConfig(scene="traveller", face_image=FACE, width=320, height=240)
    scene = build_scene(config)
    try:
        first, again, later = scene.render(3), scene.render(3), scene.render(12)
    finally:
        scene.close()
    assert (first == again).all()
    assert first.shape == (240, 320, 3)
    assert abs(first.astype(int) - later.astype(int)).mean() > 1.0
