"""The live loop's face tracker: detect now and then, follow the landmarks in between.

The HOG detector runs on a down-scaled copy of the frame every ``detect_every`` frames (and
on every frame while no face is held). In between, the 68-point predictor is run on the
full frame with the box carried over from the last frame's landmarks, which costs a few
milliseconds instead of tens. Each processed frame yields an :class:`Observation` with the
landmarks and a capture-quality record, which both the best-frame keeper and liveness use.

The detector holds the GIL for 25 ms or more (far more when the CPU is busy), so a kiosk hands
the tracker a ``detect`` function that runs it in a worker process
(:class:`kiosk.face.remote.ProcessFaceDetector`); without one it runs here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.face.dlib_models import dlib_models
from kiosk.face.geometry import Points
from kiosk.face.quality import FrameQuality, Guidance, QualityLimits, assess_frame, to_gray

Box = tuple[int, int, int, int]  # left, top, right, bottom
Detect = Callable[[npt.NDArray[np.uint8], int], list[Box]]  # (image, upsample) -> boxes


@dataclass(frozen=True)
class Observation:
    timestamp: float
    faces: int
    landmarks: Points | None
    quality: FrameQuality
    face_luma: float  # mean gray level of the face, for flicker checks
    detected: bool  # True if the detector ran on this frame


class FaceTracker:
    def __init__(
        self,
        detect_every: int = 8,
        detect_max_side: int = 320,
        limits: QualityLimits = QualityLimits(),
        detect: Detect | None = None,
    ) -> None:
        self.detect = detect or _detect_here
        self.detect_every = detect_every
        self.detect_max_side = detect_max_side
        self.limits = limits
        self._landmarks: Points | None = None
        self._box_offset = np.zeros(4)  # detector box minus landmark bounds, in face widths
        self._faces = 0
        self._since_detect = 0

    def reset(self) -> None:
        self._landmarks, self._faces, self._since_detect = None, 0, 0

    def process(self, frame_bgr: npt.NDArray[np.uint8], timestamp: float) -> Observation:
        gray = to_gray(frame_bgr)
        detected = self._landmarks is None or self._since_detect >= self.detect_every
        if detected:
            self._detect(gray)
        else:
            self._since_detect += 1
            self._follow(gray)
        landmarks = self._landmarks
        if landmarks is None:
            quality = FrameQuality(faces=0, guidance=Guidance.NO_FACE)
            return Observation(timestamp, 0, None, quality, 0.0, detected)
        quality = assess_frame(gray, self._faces, landmarks, self.limits)
        return Observation(timestamp, self._faces, landmarks, quality, quality.exposure, detected)

    def _detect(self, gray: npt.NDArray[np.uint8]) -> None:
        self._since_detect = 0
        scale = min(1.0, self.detect_max_side / max(gray.shape[:2]))
        small = gray if scale >= 1 else cv2.resize(gray, None, fx=scale, fy=scale)
        found = self.detect(np.ascontiguousarray(small, dtype=np.uint8), 1)
        self._faces = len(found)
        if not found:
            self._landmarks = None
            return
        best = max(found, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
        box = np.array(best, dtype=np.float64) / scale
        landmarks = self._predict(gray, box)
        bounds = _bounds(landmarks)
        self._box_offset = (box - bounds) / max(1.0, bounds[2] - bounds[0])
        self._landmarks = landmarks

    def _follow(self, gray: npt.NDArray[np.uint8]) -> None:
        assert self._landmarks is not None
        bounds = _bounds(self._landmarks)
        box = bounds + self._box_offset * (bounds[2] - bounds[0])
        height, width = gray.shape[:2]
        if box[2] < 0 or box[3] < 0 or box[0] >= width or box[1] >= height:
            self._landmarks = None
            return
        self._landmarks = self._predict(gray, box)

    @staticmethod
    def _predict(gray: npt.NDArray[np.uint8], box: npt.NDArray[np.float64]) -> Points:
        models = dlib_models()
        rect = models.dlib.rectangle(*(int(round(v)) for v in box))
        with models.lock:
            shape = models.landmarks68(gray, rect)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def _detect_here(image: npt.NDArray[np.uint8], upsample: int) -> list[Box]:
    models = dlib_models()
    with models.lock:
        found = list(models.detector(image, upsample))
    return [(r.left(), r.top(), r.right(), r.bottom()) for r in found]


def _bounds(points: Points) -> npt.NDArray[np.float64]:
    return np.array([*points.min(axis=0), *points.max(axis=0)], dtype=np.float64)
