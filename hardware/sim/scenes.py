"""Scripted scenes for the simulated camera, rendered frame by frame from a face photo.

Every scene is deterministic: ``render(index)`` gives the same picture for the same frame
number, so tests can render frames without a capture thread. Time is ``index / fps``.

* ``traveller`` - a live person: the picture drifts and scales a little, the face region
  moves differently from the rest (a smooth bump of horizontal and vertical displacement
  centred on the nose, which is how a turning convex head looks and what no single plane
  explains), and the eyes blink (eye regions blended with an inpainted, closed-eye copy).
* ``nobody``, ``two_people``, ``poor_light``, ``motion_blur`` - capture-quality cases.
* ``printed_photo`` - a print of the photo held still (paper contrast, sensor noise only).
* ``moved_photo`` - the print moved as a flat sheet: one perspective warp per frame.
* ``screen_replay`` - the photo on a screen: flat warps, moire pattern and flicker.
* ``video`` - a video file played in a loop.

OpenCV and dlib (for the eye positions used by blinks) are imported when a scene is built.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from hardware.camera import CameraError, Image
from hardware.config import SimulatedCameraConfig

FloatArray = npt.NDArray[np.float32]


class Scene(Protocol):
    def render(self, index: int) -> Image: ...

    def close(self) -> None: ...


def _cv2() -> Any:
    import cv2

    return cv2


def load_face_photo(path: Path | None) -> Image:
    if path is None:
        raise CameraError("this simulated scene needs face_image", code="camera_scene_invalid")
    image = _cv2().imread(str(path), 1)  # IMREAD_COLOR
    if image is None:
        raise CameraError("face_image could not be read", code="camera_scene_invalid")
    return np.ascontiguousarray(image, dtype=np.uint8)


@functools.cache
def _face_models() -> tuple[Any, Any]:
    """dlib's HOG face detector and 68-point predictor, loaded once per process."""
    import dlib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # face_recognition_models uses pkg_resources
        import face_recognition_models as frm
    predictor = dlib.shape_predictor(frm.pose_predictor_model_location())
    return dlib.get_frontal_face_detector(), predictor


def find_landmarks(image: Image) -> npt.NDArray[np.float64]:
    """The 68 landmarks of the largest face, found once when a scene is built."""
    import dlib

    detector, predictor = _face_models()
    rgb = np.ascontiguousarray(image[:, :, ::-1])
    scale = min(1.0, 480.0 / max(image.shape[:2]))
    small = _cv2().resize(rgb, None, fx=scale, fy=scale) if scale < 1 else rgb
    boxes = list(detector(small, 1))
    if not boxes:
        raise CameraError("no face in face_image", code="camera_scene_invalid")
    box = max(boxes, key=lambda b: b.width() * b.height())
    full = dlib.rectangle(
        int(box.left() / scale),
        int(box.top() / scale),
        int(box.right() / scale),
        int(box.bottom() / scale),
    )
    shape = predictor(rgb, full)
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def background(width: int, height: int, seed: int) -> Image:
    """A softly lit wall with a little texture."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    shade = 150 + 40 * (xs / width) - 25 * (ys / height)
    texture = _cv2().GaussianBlur(rng.normal(0, 6, (height, width)).astype(np.float32), (0, 0), 3)
    wall = np.clip(shade + texture, 0, 255)[:, :, None] * np.array([0.95, 1.0, 1.04])
    return np.asarray(np.clip(wall, 0, 255), dtype=np.uint8)


@dataclass
class Portrait:
    """A face photo placed on the canvas, with its landmarks in canvas coordinates."""

    canvas: Image
    landmarks: npt.NDArray[np.float64]

    @property
    def face_width(self) -> float:
        return float(np.ptp(self.landmarks[:17, 0]))

    @property
    def nose(self) -> npt.NDArray[np.float64]:
        return np.asarray(self.landmarks[30], dtype=np.float64)


def place(
    photo: Image,
    marks: npt.NDArray[np.float64],
    base: Image,
    centre: tuple[float, float],
    face_width: float,
) -> Portrait:
    """Scale and move ``photo`` so its face is ``face_width`` wide around ``centre``."""
    cv2 = _cv2()
    scale = face_width / max(1.0, float(np.ptp(marks[:17, 0])))
    middle = marks[:68].mean(axis=0)
    shift = np.array(centre) - scale * middle
    matrix = np.array([[scale, 0, shift[0]], [0, scale, shift[1]]], dtype=np.float64)
    canvas = base.copy()
    height, width = base.shape[:2]
    cv2.warpAffine(photo, matrix, (width, height), canvas, cv2.INTER_AREA, cv2.BORDER_TRANSPARENT)
    return Portrait(canvas=canvas, landmarks=marks * scale + shift)


def closed_eyes(portrait: Portrait) -> Image:
    """The canvas with both eyes painted over with the skin around them (a closed lid)."""
    cv2 = _cv2()
    mask = np.zeros(portrait.canvas.shape[:2], np.uint8)
    for eye in (portrait.landmarks[36:42], portrait.landmarks[42:48]):
        cv2.fillConvexPoly(mask, np.round(eye).astype(np.int32), 255)
    radius = max(2, int(portrait.face_width * 0.03))
    mask = cv2.dilate(mask, np.ones((2 * radius + 1, 2 * radius + 1), np.uint8))
    closed: Image = cv2.inpaint(portrait.canvas, mask, radius, cv2.INPAINT_TELEA)
    for eye in (portrait.landmarks[36:42], portrait.landmarks[42:48]):
        left, right = eye[0], eye[3]
        lash = (np.array([left, (left + right) / 2 + [0, 2], right])).round().astype(np.int32)
        cv2.polylines(closed, [lash], False, (40, 40, 50), max(1, radius // 2))
    return closed


def sensor_noise(image: Image, index: int, seed: int, sigma: float = 2.0) -> Image:
    rng = np.random.default_rng((seed, index))
    noisy = image.astype(np.int16) + rng.normal(0, sigma, image.shape).astype(np.int16)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def plane_homography(
    width: int, height: int, yaw_deg: float, pitch_deg: float, shift: tuple[float, float]
) -> npt.NDArray[np.float64]:
    """The image motion of a flat sheet rotated by yaw/pitch in front of a pinhole camera."""
    yaw, pitch = math.radians(yaw_deg), math.radians(pitch_deg)
    rot_y = np.array(
        [[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]]
    )
    rot_x = np.array(
        [[1, 0, 0], [0, math.cos(pitch), -math.sin(pitch)], [0, math.sin(pitch), math.cos(pitch)]]
    )
    focal = 1.2 * width
    centre = np.array([width / 2, height / 2])
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    moved = []
    for corner in corners:
        point = rot_y @ rot_x @ np.array([*(corner - centre), 0.0]) + [0, 0, focal]
        moved.append(focal * point[:2] / point[2] + centre + shift)
    return np.asarray(
        _cv2().getPerspectiveTransform(
            corners.astype(np.float32), np.array(moved, dtype=np.float32)
        ),
        dtype=np.float64,
    )


def build_scene(config: SimulatedCameraConfig) -> Scene:
    """The scene named by the configuration."""
    from hardware.sim.scene_kinds import SCENES

    return SCENES[config.scene](config)
