"""The scene kinds of the simulated camera (see ``hardware.sim.scenes`` for the catalogue)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hardware.camera import CameraError, Image
from hardware.config import SimulatedCameraConfig
from hardware.sim.scenes import (
    Portrait,
    Scene,
    background,
    closed_eyes,
    find_landmarks,
    load_face_photo,
    place,
    plane_homography,
    sensor_noise,
)


def _cv2() -> Any:
    import cv2

    return cv2


def _wave(t: float, period_s: float, phase: float = 0.0) -> float:
    return math.sin(2 * math.pi * t / period_s + phase)


class _Base:
    def __init__(self, config: SimulatedCameraConfig) -> None:
        self.config = config
        self.width, self.height = config.width, config.height
        self.fps = config.fps
        self.wall = background(self.width, self.height, config.seed)

    def _portrait(self, photo_path: Path | None, centre_x: float, face_frac: float) -> Portrait:
        photo = load_face_photo(photo_path)
        marks = find_landmarks(photo)
        centre = (centre_x * self.width, 0.47 * self.height)
        return place(photo, marks, self.wall, centre, face_frac * self.width)

    def close(self) -> None:
        return None


class Nobody(_Base):
    def render(self, index: int) -> Image:
        t = index / self.fps
        gain = 1.0 + 0.02 * _wave(t, 7.0)
        lit = np.clip(self.wall.astype(np.float32) * gain, 0, 255).astype(np.uint8)
        return sensor_noise(lit, index, self.config.seed)


class Traveller(_Base):
    """A live person: drift, zoom, a non-planar head turn and nod, and blinks."""

    blink_period_s = 2.6
    blink_length_s = 0.3

    def __init__(self, config: SimulatedCameraConfig) -> None:
        super().__init__(config)
        self.portrait = self._portrait(config.face_image, 0.5, 0.3)
        self.closed = closed_eyes(self.portrait)
        ys, xs = np.mgrid[0 : self.height, 0 : self.width].astype(np.float32)
        self.xs, self.ys = xs, ys
        nose = self.portrait.nose
        width = self.portrait.face_width
        self.bump = np.exp(
            -((xs - nose[0]) ** 2) / (2 * (0.28 * width) ** 2)
            - (ys - nose[1]) ** 2 / (2 * (0.45 * width) ** 2)
        ).astype(np.float32)
        eyes = self.portrait.landmarks[36:48]
        pad = 0.12 * width
        self.eye_box = (
            int(max(0, eyes[:, 1].min() - pad)),
            int(min(self.height, eyes[:, 1].max() + pad)),
            int(max(0, eyes[:, 0].min() - pad)),
            int(min(self.width, eyes[:, 0].max() + pad)),
        )

    def eyes_closed(self, t: float) -> float:
        """How closed the eyes are at time t, 0..1."""
        phase = (t + 1.3) % self.blink_period_s
        if phase >= self.blink_length_s:
            return 0.0
        return math.sin(math.pi * phase / self.blink_length_s)

    def motion(self, t: float) -> tuple[float, float, float, float, float]:
        """(dx, dy, zoom, turn, nod) at time t, in pixels and relative zoom."""
        width = self.portrait.face_width
        return (
            0.03 * width * _wave(t, 3.7),
            0.02 * width * _wave(t, 4.3, 1.0),
            1.0 + 0.03 * _wave(t, 5.9, 0.5),
            0.12 * width * _wave(t, 2.2),
            0.04 * width * _wave(t, 3.1, 2.0),
        )

    def render(self, index: int) -> Image:
        cv2 = _cv2()
        t = index / self.fps
        canvas = self.portrait.canvas
        closed = self.eyes_closed(t)
        if closed > 0:
            canvas = canvas.copy()
            top, bottom, left, right = self.eye_box
            open_roi = canvas[top:bottom, left:right].astype(np.float32)
            shut_roi = self.closed[top:bottom, left:right].astype(np.float32)
            canvas[top:bottom, left:right] = (open_roi * (1 - closed) + shut_roi * closed).astype(
                np.uint8
            )
        dx, dy, zoom, turn, nod = self.motion(t)
        cx, cy = (float(v) for v in self.portrait.nose)
        x0 = (self.xs - cx - dx) / zoom + cx
        y0 = (self.ys - cy - dy) / zoom + cy
        map_x = (x0 - turn * self.bump).astype(np.float32)
        map_y = (y0 - nod * self.bump).astype(np.float32)
        frame = cv2.remap(canvas, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return sensor_noise(frame, index, self.config.seed)


class TwoPeople(_Base):
    def __init__(self, config: SimulatedCameraConfig) -> None:
        super().__init__(config)
        first = self._portrait(config.face_image, 0.3, 0.22)
        second_path = config.second_face_image or config.face_image
        photo = load_face_photo(second_path)
        if config.second_face_image is None:
            photo = np.ascontiguousarray(photo[:, ::-1])
        marks = find_landmarks(photo)
        # only the head and shoulders of the second person, so the first stays visible
        pad = 0.7 * float(np.ptp(marks[:17, 0]))
        top, left = (max(0, int(v - pad)) for v in (marks[:, 1].min(), marks[:, 0].min()))
        bottom, right = int(marks[:, 1].max() + pad), int(marks[:, 0].max() + pad)
        photo = np.ascontiguousarray(photo[top:bottom, left:right])
        marks = marks - [left, top]
        centre = (0.72 * self.width, 0.5 * self.height)
        self.canvas = place(photo, marks, first.canvas, centre, 0.2 * self.width).canvas

    def render(self, index: int) -> Image:
        t = index / self.fps
        shift = np.array([[1, 0, 3 * _wave(t, 3.0)], [0, 1, 2 * _wave(t, 4.0)]], np.float32)
        cv2 = _cv2()
        moved = cv2.warpAffine(
            self.canvas,
            shift,
            (self.width, self.height),
            None,
            cv2.INTER_LINEAR,
            cv2.BORDER_REFLECT,
        )
        return sensor_noise(moved, index, self.config.seed)


class PoorLight(Traveller):
    def render(self, index: int) -> Image:
        frame = super().render(index).astype(np.float32)
        ramp = np.linspace(0.08, 0.45, self.width, dtype=np.float32)[None, :, None]
        return sensor_noise(np.clip(frame * ramp, 0, 255).astype(np.uint8), index, 7, 3.0)


class MotionBlur(Traveller):
    def render(self, index: int) -> Image:
        kernel = np.zeros((25, 25), np.float32)
        kernel[12, :] = 1.0 / 25
        return np.asarray(_cv2().filter2D(super().render(index), -1, kernel), dtype=np.uint8)


class PrintedPhoto(_Base):
    """A print of the face photo held in front of the camera, perfectly still."""

    def __init__(self, config: SimulatedCameraConfig) -> None:
        super().__init__(config)
        portrait = self._portrait(config.face_image, 0.5, 0.3)
        self.print = (portrait.canvas.astype(np.float32) * 0.82 + 28).astype(np.uint8)

    def render(self, index: int) -> Image:
        return sensor_noise(self.print, index, self.config.seed)


class MovedPhoto(PrintedPhoto):
    """The print tilted and turned by hand: every frame is one homography of the print."""

    yaw_deg, pitch_deg, shift_px = 20.0, 10.0, 14.0

    def warp(self, index: int) -> Image:
        t = index / self.fps
        homography = plane_homography(
            self.width,
            self.height,
            self.yaw_deg * _wave(t, 2.2),
            self.pitch_deg * _wave(t, 3.1, 2.0),
            (self.shift_px * _wave(t, 3.7), 0.6 * self.shift_px * _wave(t, 4.3, 1.0)),
        )
        cv2 = _cv2()
        return np.asarray(
            cv2.warpPerspective(
                self.print,
                homography,
                (self.width, self.height),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            ),
            dtype=np.uint8,
        )

    def render(self, index: int) -> Image:
        return sensor_noise(self.warp(index), index, self.config.seed)


class ScreenReplay(MovedPhoto):
    """The photo on a phone or tablet screen: flat warps, moire and refresh flicker."""

    yaw_deg, pitch_deg, shift_px = 12.0, 6.0, 8.0

    def __init__(self, config: SimulatedCameraConfig) -> None:
        super().__init__(config)
        ys, xs = np.mgrid[0 : self.height, 0 : self.width].astype(np.float32)
        self.moire = (1.0 + 0.09 * np.sin(2 * np.pi * (xs * 0.21 + ys * 0.07)))[:, :, None]
        self.tint = np.array([1.08, 1.0, 0.9], np.float32)

    def render(self, index: int) -> Image:
        t = index / self.fps
        flicker = 1.0 + 0.12 * _wave(t, 1 / 6.3)
        shown = self.warp(index).astype(np.float32) * self.moire * self.tint * flicker
        return sensor_noise(np.clip(shown, 0, 255).astype(np.uint8), index, self.config.seed)


class VideoFile(_Base):
    def __init__(self, config: SimulatedCameraConfig) -> None:
        super().__init__(config)
        if config.video is None:
            raise CameraError("the video scene needs video", code="camera_scene_invalid")
        self.capture = _cv2().VideoCapture(str(config.video))
        if not self.capture.isOpened():
            raise CameraError("video could not be opened", code="camera_scene_invalid")

    def render(self, index: int) -> Image:
        cv2 = _cv2()
        ok, frame = self.capture.read()
        if not ok:
            self.capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self.capture.read()
            if not ok:
                raise CameraError("video has no frames", code="camera_scene_invalid")
        return np.asarray(cv2.resize(frame, (self.width, self.height)), dtype=np.uint8)

    def close(self) -> None:
        self.capture.release()


SCENES: dict[str, Callable[[SimulatedCameraConfig], Scene]] = {
    "traveller": Traveller,
    "nobody": Nobody,
    "two_people": TwoPeople,
    "poor_light": PoorLight,
    "motion_blur": MotionBlur,
    "printed_photo": PrintedPhoto,
    "moved_photo": MovedPhoto,
    "screen_replay": ScreenReplay,
    "video": VideoFile,
}
