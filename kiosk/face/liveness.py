"""Presentation attack detection (liveness) from landmark tracks over a capture window.

NOT an ISO/IEC 30107-3 certified PAD: these checks refuse the simple attacks they model
(a still print, a print moved as a flat sheet, a photo on a screen) and are no defence
against masks, 3D replicas or a replayed video of the traveller's moving face.

A :class:`PresentationAttackDetector` looks at the :class:`Observation` list of one capture
and returns a :class:`LivenessResult`. :class:`LandmarkLiveness` combines pluggable
:class:`PadCheck` objects; a capture is live only if every check concludes and passes:

* ``natural_motion`` (passive): a living face is never perfectly still; a print held still is.
* ``not_planar`` (passive): fit one homography from the first frame's landmarks to each later
  frame's. A flat sheet or screen moves exactly as a plane, so the fit leaves only landmark
  noise; a real head turning or nodding moves its nose against its cheeks, which no plane
  explains. The residual is measured in inter-eye distances.
* ``no_flicker`` (passive): a screen's refresh beats against the camera's frame rate and
  makes the face's brightness oscillate from frame to frame.
* ``challenge`` (active): the traveller was asked to turn the head or blink; the yaw range
  or a dip of the eye aspect ratio must show it.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.face.geometry import RIGID, eye_aspect_ratio, head_pose, inter_eye_distance
from kiosk.face.tracker import Observation


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool | None  # None: not enough evidence either way
    value: float
    limit: float


@dataclass(frozen=True)
class LivenessResult:
    live: bool
    checks: tuple[CheckResult, ...]

    @property
    def reason(self) -> str:
        """The first check that did not pass, or 'live'."""
        for check in self.checks:
            if check.passed is None:
                return f"{check.name}_inconclusive"
            if not check.passed:
                return check.name
        return "live"


class PadCheck(abc.ABC):
    name: str

    @abc.abstractmethod
    def assess(self, track: Sequence[Observation]) -> CheckResult: ...


class PresentationAttackDetector(abc.ABC):
    @abc.abstractmethod
    def assess(self, observations: Sequence[Observation]) -> LivenessResult: ...


def _faces(observations: Sequence[Observation]) -> list[Observation]:
    return [o for o in observations if o.landmarks is not None and o.faces == 1]


def _unit(track: Sequence[Observation]) -> float:
    first = track[0].landmarks
    assert first is not None
    return max(1.0, inter_eye_distance(first))


class NaturalMotion(PadCheck):
    name = "natural_motion"

    def __init__(self, min_motion: float = 0.03) -> None:
        self.min_motion = min_motion

    def assess(self, track: Sequence[Observation]) -> CheckResult:
        first = track[0].landmarks
        assert first is not None
        moves = [
            float(np.linalg.norm(o.landmarks[RIGID] - first[RIGID], axis=1).mean())
            for o in track[1:]
            if o.landmarks is not None
        ]
        motion = float(np.percentile(moves, 90)) / _unit(track) if moves else 0.0
        return CheckResult(self.name, motion >= self.min_motion, motion, self.min_motion)


class NotPlanar(PadCheck):
    name = "not_planar"

    def __init__(self, min_residual: float = 0.02, min_motion: float = 0.03) -> None:
        self.min_residual = min_residual
        self.min_motion = min_motion

    def assess(self, track: Sequence[Observation]) -> CheckResult:
        first = track[0].landmarks
        assert first is not None
        source = first[RIGID].astype(np.float32)
        unit = _unit(track)
        residuals: list[float] = []
        for observation in track[1:]:
            assert observation.landmarks is not None
            target = observation.landmarks[RIGID].astype(np.float32)
            if float(np.linalg.norm(target - source, axis=1).mean()) / unit < self.min_motion:
                continue  # too little motion to tell a plane from a head
            homography, _ = cv2.findHomography(source, target, 0)
            if homography is None:
                continue
            mapped = cv2.perspectiveTransform(source[None], homography)[0]
            residuals.append(float(np.sqrt(((mapped - target) ** 2).sum(axis=1).mean())) / unit)
        if len(residuals) < 3:
            return CheckResult(self.name, None, 0.0, self.min_residual)
        residual = float(np.percentile(residuals, 90))
        return CheckResult(self.name, residual >= self.min_residual, residual, self.min_residual)


class NoFlicker(PadCheck):
    name = "no_flicker"

    def __init__(self, max_flicker: float = 0.03) -> None:
        self.max_flicker = max_flicker

    def assess(self, track: Sequence[Observation]) -> CheckResult:
        luma = np.array([o.face_luma for o in track], dtype=np.float64)
        if len(luma) < 5 or luma.mean() <= 0:
            return CheckResult(self.name, None, 0.0, self.max_flicker)
        # frame-to-frame change left after removing slow drift (second difference)
        wobble = np.abs(np.diff(luma, 2)).mean() / (2 * luma.mean())
        return CheckResult(
            self.name, bool(wobble <= self.max_flicker), float(wobble), self.max_flicker
        )


class HeadTurnOrBlink(PadCheck):
    """The active challenge: enough yaw range, or one clear blink."""

    name = "challenge"

    def __init__(self, min_yaw_range: float = 8.0, blink_ratio: float = 0.75) -> None:
        self.min_yaw_range = min_yaw_range
        self.blink_ratio = blink_ratio

    def assess(self, track: Sequence[Observation]) -> CheckResult:
        points = [o.landmarks for o in track if o.landmarks is not None]
        yaws = [head_pose(p).yaw for p in points]
        yaw_range = max(yaws) - min(yaws)
        ears = np.array([eye_aspect_ratio(p) for p in points])
        blinked = bool(ears.min() < self.blink_ratio * float(np.median(ears)))
        return CheckResult(
            self.name, yaw_range >= self.min_yaw_range or blinked, yaw_range, self.min_yaw_range
        )


class LandmarkLiveness(PresentationAttackDetector):
    def __init__(self, checks: Sequence[PadCheck] | None = None, min_frames: int = 10) -> None:
        self.checks = tuple(
            checks
            if checks is not None
            else (NaturalMotion(), NotPlanar(), NoFlicker(), HeadTurnOrBlink())
        )
        self.min_frames = min_frames

    def assess(self, observations: Sequence[Observation]) -> LivenessResult:
        track = _faces(observations)
        if len(track) < self.min_frames:
            short = CheckResult("enough_frames", False, float(len(track)), float(self.min_frames))
            return LivenessResult(False, (short,))
        results = tuple(check.assess(track) for check in self.checks)
        return LivenessResult(all(r.passed is True for r in results), results)
