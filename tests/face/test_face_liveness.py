"""Liveness and capture quality on the simulated camera's scenes."""

from __future__ import annotations

from pathlib import Path

import pytest

from hardware.config import SimulatedCameraConfig
from hardware.sim.scenes import build_scene
from kiosk.face.liveness import LandmarkLiveness, NoFlicker
from kiosk.face.quality import BestFrame, Guidance
from kiosk.face.tracker import FaceTracker, Observation

FPS = 15.0


def _observe(scene_name: str, faces_dir: Path, frames: int = 40) -> list[Observation]:
    config = SimulatedCameraConfig(
        scene=scene_name, face_image=faces_dir / "obama" / "obama_480p.jpg", fps=FPS
    )
    scene = build_scene(config)
    tracker = FaceTracker()
    try:
        return [tracker.process(scene.render(i), i / FPS) for i in range(frames)]
    finally:
        scene.close()


def test_simulated_traveller_is_live(faces_dir: Path) -> None:
    # GIVEN a live traveller turning the head and blinking WHEN assessed
    result = LandmarkLiveness().assess(_observe("traveller", faces_dir))
    # THEN every check passes
    assert result.live, result.checks
    assert result.reason == "live"


@pytest.mark.parametrize(
    ("scene", "caught_by"),
    [
        ("printed_photo", {"natural_motion"}),
        ("moved_photo", {"not_planar"}),
        ("screen_replay", {"not_planar", "no_flicker"}),
    ],
)
def test_simulated_attacks_are_refused(scene: str, caught_by: set[str], faces_dir: Path) -> None:
    # GIVEN a presentation attack WHEN assessed
    result = LandmarkLiveness().assess(_observe(scene, faces_dir))
    # THEN it is refused, by the check that models it
    assert not result.live
    failed = {c.name for c in result.checks if c.passed is False}
    assert caught_by <= failed, result.checks


def test_flicker_alone_refuses_a_screen(faces_dir: Path) -> None:
    result = LandmarkLiveness(checks=[NoFlicker()]).assess(_observe("screen_replay", faces_dir, 20))
    assert not result.live and result.reason == "no_flicker"


def test_too_few_face_frames_are_not_live(faces_dir: Path) -> None:
    result = LandmarkLiveness().assess(_observe("nobody", faces_dir, 12))
    assert not result.live and result.reason == "enough_frames"


@pytest.mark.parametrize(
    ("scene", "guidance"),
    [
        ("nobody", Guidance.NO_FACE),
        ("two_people", Guidance.SEVERAL_FACES),
        ("poor_light", Guidance.MORE_LIGHT),
        ("motion_blur", Guidance.HOLD_STILL),
    ],
)
def test_quality_guidance_per_scene(scene: str, guidance: Guidance, faces_dir: Path) -> None:
    # GIVEN a capture-quality problem WHEN frames are assessed
    observations = _observe(scene, faces_dir, 10)
    # THEN most frames carry the guidance that names it, and none is acceptable
    codes = [o.quality.guidance for o in observations]
    assert codes.count(guidance) >= 8, codes
    assert not any(o.quality.acceptable for o in observations)


def test_best_frame_of_a_capture_window(faces_dir: Path) -> None:
    # GIVEN a traveller's capture window
    observations = _observe("traveller", faces_dir, 20)
    best = BestFrame()
    for observation in observations:
        best.offer(observation.quality and _frame(), observation.quality, observation.landmarks)
    # THEN an acceptable frame is kept and it is the best scoring acceptable one
    assert best.quality is not None and best.quality.acceptable
    assert best.quality.score == max(o.quality.score for o in observations if o.quality.acceptable)
    assert best.offered == 20
    assert best.quality.as_dict()["guidance"] == {"code": "ok", "text": "Hold still"}


def _frame():  # type: ignore[no-untyped-def]
    import numpy as np

    return np.zeros((4, 4, 3), np.uint8)
