"""Measurements taken from the 68 dlib landmarks (iBUG 300-W numbering).

Pose is estimated from landmark ratios, not from a 3D model fit: yaw from where the nose
tip sits between the two sides of the jaw, pitch from where it sits between the eye line
and the mouth, roll from the slope of the line between the eye centres. The angles are
approximate degrees, good for guidance and for detecting a head turn, not for metrology.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Points = npt.NDArray[np.float64]

RIGHT_EYE = slice(36, 42)  # the subject's right eye, on the left of the picture
LEFT_EYE = slice(42, 48)
NOSE_TIP = 30
JAW_RIGHT, JAW_LEFT = 2, 14
MOUTH = slice(48, 68)
# landmarks on the rigid part of the face (brows, eyes, nose, mouth corners), for motion checks
RIGID = np.r_[17:27, 27:36, 36:48, 48, 54]
# nose-tip position between eye line and mouth centre on a frontal face
NEUTRAL_PITCH_RATIO = 0.58


@dataclass(frozen=True)
class Pose:
    yaw: float
    pitch: float
    roll: float


def eye_centres(points: Points) -> tuple[Points, Points]:
    return points[RIGHT_EYE].mean(axis=0), points[LEFT_EYE].mean(axis=0)


def inter_eye_distance(points: Points) -> float:
    right, left = eye_centres(points)
    return float(np.hypot(*(left - right)))


def eye_aspect_ratio(points: Points) -> float:
    """Mean eye aspect ratio (lid opening over eye width); about 0.3 open, under 0.2 shut."""

    def one(eye: Points) -> float:
        width = float(np.hypot(*(eye[3] - eye[0])))
        if width <= 0:
            return 0.0
        opening = float(np.hypot(*(eye[1] - eye[5])) + np.hypot(*(eye[2] - eye[4])))
        return opening / (2.0 * width)

    return (one(points[RIGHT_EYE]) + one(points[LEFT_EYE])) / 2.0


def head_pose(points: Points) -> Pose:
    right, left = eye_centres(points)
    roll = math.degrees(math.atan2(left[1] - right[1], left[0] - right[0]))
    nose = points[NOSE_TIP]
    to_right = float(nose[0] - points[JAW_RIGHT][0])
    to_left = float(points[JAW_LEFT][0] - nose[0])
    span = to_right + to_left
    yaw = (
        0.0
        if span <= 0
        else math.degrees(math.asin(max(-1.0, min(1.0, (to_right - to_left) / span))))
    )
    eye_line_y = (right[1] + left[1]) / 2.0
    mouth_y = float(points[MOUTH][:, 1].mean())
    height = mouth_y - eye_line_y
    pitch = 0.0
    if height > 0:
        ratio = (float(nose[1]) - eye_line_y) / height
        pitch = math.degrees(math.asin(max(-1.0, min(1.0, 2.0 * (ratio - NEUTRAL_PITCH_RATIO)))))
    return Pose(yaw=yaw, pitch=pitch, roll=roll)
