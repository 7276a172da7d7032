"""Capture quality of one frame, in the spirit of ISO/IEC 29794-5 and ICAO portrait rules.

Each frame gets a :class:`FrameQuality` with the measurements and exactly one guidance
message for the traveller, the most important problem first. :class:`BestFrame` keeps the
best acceptable frame of a capture window.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.face.geometry import Points, eye_aspect_ratio, head_pose, inter_eye_distance

Gray = npt.NDArray[np.uint8]


class Guidance(Enum):
    """One message per frame: a stable code and the English text shown to the traveller."""

    OK = ("ok", "Hold still")
    NO_FACE = ("no_face", "Please stand in front of the camera")
    SEVERAL_FACES = ("several_faces", "Only one person at a time, please")
    MOVE_CLOSER = ("move_closer", "Please move closer")
    MOVE_BACK = ("move_back", "Please step back a little")
    CENTRE = ("centre_face", "Please centre your face in the outline")
    LOOK_AT_CAMERA = ("look_at_camera", "Please look at the camera")
    MORE_LIGHT = ("too_dark", "It is too dark; please face the light")
    LESS_LIGHT = ("too_bright", "It is too bright; please step out of the glare")
    UNEVEN_LIGHT = ("uneven_light", "Your face is unevenly lit; please face the camera")
    HOLD_STILL = ("hold_still", "Please hold still")
    OPEN_EYES = ("open_eyes", "Please keep your eyes open")

    @property
    def code(self) -> str:
        return self.value[0]

    @property
    def text(self) -> str:
        return self.value[1]


@dataclass(frozen=True)
class QualityLimits:
    min_inter_eye_px: float = 40.0  # ICAO recommends 90 on the final portrait; a live frame less
    max_face_fraction: float = 0.8  # face height over frame height
    max_centre_offset: float = 0.25  # face centre offset, in frame widths / heights
    max_yaw: float = 15.0
    max_pitch: float = 15.0
    max_roll: float = 12.0
    min_sharpness: float = 40.0  # variance of the Laplacian of the face crop
    min_exposure: float = 60.0  # mean gray level of the face
    max_exposure: float = 210.0
    min_evenness: float = 0.6  # darker half over brighter half of the face
    min_eye_aspect: float = 0.18


@dataclass(frozen=True)
class FrameQuality:
    faces: int
    guidance: Guidance
    score: float = 0.0  # 0..1, only compared between frames of one capture
    face_height_px: float = 0.0
    inter_eye_px: float = 0.0
    centre_offset: float = 0.0
    vertical_offset: float = 0.0  # face centre below (+) or above (-) the middle, of the height
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    sharpness: float = 0.0
    exposure: float = 0.0
    evenness: float = 0.0
    eye_aspect: float = 0.0

    @property
    def acceptable(self) -> bool:
        return self.guidance is Guidance.OK

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["guidance"] = {"code": self.guidance.code, "text": self.guidance.text}
        data["acceptable"] = self.acceptable
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in data.items()}


def to_gray(image: npt.NDArray[np.uint8], bgr: bool = True) -> Gray:
    if image.ndim == 2:
        return image
    code = cv2.COLOR_BGR2GRAY if bgr else cv2.COLOR_RGB2GRAY
    return np.asarray(cv2.cvtColor(image, code), dtype=np.uint8)


def assess_frame(
    gray: Gray,
    faces: int,
    landmarks: Points | None,
    limits: QualityLimits = QualityLimits(),
) -> FrameQuality:
    """Measure one frame whose (single) face has ``landmarks``."""
    if faces == 0 or landmarks is None:
        return FrameQuality(faces=0, guidance=Guidance.NO_FACE)
    height, width = gray.shape[:2]
    left, top = np.maximum(landmarks.min(axis=0), 0)
    right, bottom = np.minimum(landmarks.max(axis=0), [width - 1, height - 1])
    crop = gray[int(top) : int(bottom) + 1, int(left) : int(right) + 1]
    if crop.size < 16:
        return FrameQuality(faces=faces, guidance=Guidance.NO_FACE)
    pose = head_pose(landmarks)
    centre = landmarks.mean(axis=0)
    halves = (crop[:, : crop.shape[1] // 2], crop[:, crop.shape[1] // 2 :])
    means = sorted(float(h.mean()) for h in halves)
    values: dict[str, float] = {
        "face_height_px": float(bottom - top),
        "inter_eye_px": inter_eye_distance(landmarks),
        "centre_offset": float(max(abs(centre[0] / width - 0.5), abs(centre[1] / height - 0.5))),
        "vertical_offset": float(centre[1] / height - 0.5),
        "yaw": pose.yaw,
        "pitch": pose.pitch,
        "roll": pose.roll,
        "sharpness": float(cv2.Laplacian(crop, cv2.CV_64F).var()),
        "exposure": float(crop.mean()),
        "evenness": means[0] / max(means[1], 1.0),
        "eye_aspect": eye_aspect_ratio(landmarks),
    }
    guidance = _guidance(faces, values, height, limits)
    return FrameQuality(faces=faces, guidance=guidance, score=_score(values, limits), **values)


def _guidance(faces: int, v: dict[str, float], height: int, limits: QualityLimits) -> Guidance:
    checks: list[tuple[bool, Guidance]] = [
        (faces > 1, Guidance.SEVERAL_FACES),
        (v["inter_eye_px"] < limits.min_inter_eye_px, Guidance.MOVE_CLOSER),
        (v["face_height_px"] > limits.max_face_fraction * height, Guidance.MOVE_BACK),
        (v["centre_offset"] > limits.max_centre_offset, Guidance.CENTRE),
        (
            abs(v["yaw"]) > limits.max_yaw
            or abs(v["pitch"]) > limits.max_pitch
            or abs(v["roll"]) > limits.max_roll,
            Guidance.LOOK_AT_CAMERA,
        ),
        (v["exposure"] < limits.min_exposure, Guidance.MORE_LIGHT),
        (v["exposure"] > limits.max_exposure, Guidance.LESS_LIGHT),
        (v["evenness"] < limits.min_evenness, Guidance.UNEVEN_LIGHT),
        (v["sharpness"] < limits.min_sharpness, Guidance.HOLD_STILL),
        (v["eye_aspect"] < limits.min_eye_aspect, Guidance.OPEN_EYES),
    ]
    return next((guidance for failed, guidance in checks if failed), Guidance.OK)


def _score(v: dict[str, float], limits: QualityLimits) -> float:
    """Higher is better: sharp, frontal, well exposed, large enough."""
    sharp = min(1.0, v["sharpness"] / (4 * limits.min_sharpness))
    frontal = max(0.0, 1.0 - (abs(v["yaw"]) + abs(v["pitch"]) + abs(v["roll"])) / 45.0)
    exposure = max(0.0, 1.0 - abs(v["exposure"] - 128.0) / 128.0)
    size = min(1.0, v["inter_eye_px"] / (2 * limits.min_inter_eye_px))
    return 0.35 * sharp + 0.3 * frontal + 0.15 * exposure + 0.1 * size + 0.1 * v["evenness"]


@dataclass
class BestFrame:
    """Keeps the best acceptable frame offered during one capture window."""

    image: npt.NDArray[np.uint8] | None = None
    quality: FrameQuality | None = None
    landmarks: Points | None = None
    offered: int = 0
    history: list[str] = field(default_factory=list)

    def offer(
        self, image: npt.NDArray[np.uint8], quality: FrameQuality, landmarks: Points | None
    ) -> bool:
        """Keep ``image`` if it is acceptable and better than the kept one; True if kept."""
        self.offered += 1
        self.history.append(quality.guidance.code)
        if not quality.acceptable:
            return False
        if self.quality is not None and quality.score <= self.quality.score:
            return False
        self.image, self.quality, self.landmarks = image, quality, landmarks
        return True
