"""Camera driver on OpenCV's ``VideoCapture``: a device index, a video file or a stream URL.

OpenCV (``opencv-python-headless``) is imported when the camera opens, so ``import hardware``
works without it. A file that ends or a device that stops answering counts as lost: the base
class reopens it every ``reconnect_s`` (a file therefore plays in a loop).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from hardware.camera import Camera, CameraError, Image
from hardware.config import OpenCvCameraConfig
from models.errors import DeviceNotAvailableError

log = logging.getLogger(__name__)


def _import_cv2() -> Any:
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - cv2 is a dependency of the project
        raise DeviceNotAvailableError(
            "the OpenCV camera needs the package opencv-python-headless"
        ) from exc
    return cv2


class OpenCvCamera(Camera):
    def __init__(self, config: OpenCvCameraConfig) -> None:
        super().__init__(fps=config.fps, reconnect_s=config.reconnect_s)
        self.config = config
        self._capture: Any = None

    def _open(self) -> None:
        cv2 = _import_cv2()
        source = self.config.source
        if isinstance(source, str) and source.isdigit():
            source = int(source)
        capture = cv2.VideoCapture(source)
        if not capture.isOpened():
            capture.release()
            kind = "device" if isinstance(source, int) else "file or stream"
            raise CameraError(f"camera {kind} could not be opened", code="camera_unavailable")
        if isinstance(source, int):
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.config.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.config.height)
            capture.set(cv2.CAP_PROP_FPS, self.config.fps)
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # keep the driver from queueing old frames
        self._capture = capture

    def _read(self) -> Image | None:
        if self._capture is None:
            return None
        ok, image = self._capture.read()
        if not ok or image is None:
            return None
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        return np.ascontiguousarray(image[:, :, :3], dtype=np.uint8)

    def _close(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()
