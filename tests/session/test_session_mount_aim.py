"""GIVEN the capture's aim of a simulated camera mount WHEN faces are seen low, high, centred,
several at once, or the motor stalls THEN the mount steps towards the face, stops at its
ends (a face still low at the lowest step asks once for the seated layout), and a failing
mount is left alone for the rest of the capture."""

from __future__ import annotations

from hardware.config import SimulatedCameraMountConfig
from hardware.executor import CancelToken
from hardware.sim.camera_mount import SimulatedCameraMount
from kiosk.face.quality import FrameQuality, Guidance
from kiosk.session.mount_aim import SEATED_LAYOUT, MountAim


def _face(offset: float, faces: int = 1) -> FrameQuality:
    return FrameQuality(faces=faces, guidance=Guidance.OK, vertical_offset=offset)


def _aim(lowest: int = -2, highest: int = 2) -> tuple[MountAim, SimulatedCameraMount, list[str]]:
    mount = SimulatedCameraMount(SimulatedCameraMountConfig(lowest=lowest, highest=highest))
    mount.open()
    said: list[str] = []
    aim = MountAim(mount, lambda code, _text: said.append(code), CancelToken("t"), settle_s=0.0)
    return aim, mount, said


def test_a_low_face_steps_down_to_the_end_then_asks_for_the_seated_layout() -> None:
    aim, mount, said = _aim(lowest=-2)
    for _ in range(5):
        aim.observe(_face(0.3))
    assert mount.targets == [0, -1, -2]
    assert said == [SEATED_LAYOUT] and aim.aimed


def test_a_high_face_steps_up_and_a_centred_one_stays() -> None:
    aim, mount, said = _aim()
    aim.observe(_face(-0.3))
    assert not aim.aimed
    aim.observe(_face(0.0))
    assert mount.targets == [0, 1] and aim.aimed and not said


def test_no_face_or_several_faces_move_nothing() -> None:
    aim, mount, _said = _aim()
    aim.observe(_face(0.4, faces=0))
    aim.observe(_face(0.4, faces=2))
    assert mount.targets == [0]


def test_a_stalled_motor_leaves_the_mount_alone_for_the_capture() -> None:
    aim, mount, said = _aim()
    mount.fail_next_move()
    aim.observe(_face(0.3))
    aim.observe(_face(0.3))
    assert mount.targets == [0, -1] and aim.aimed and not said


def test_a_fixed_camera_is_aimed_from_the_start() -> None:
    from hardware.camera_mount import FixedCameraMount

    aim = MountAim(FixedCameraMount(), lambda *_: None, CancelToken("t"))
    assert aim.aimed
