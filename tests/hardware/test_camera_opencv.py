"""The OpenCV camera on a video file: newest frames, loss at the end, reconnect, deletion."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from hardware.camera import CameraStatus
from hardware.config import OpenCvCameraConfig
from hardware.opencv_camera import OpenCvCamera


def _write_video(path: Path, frames: int = 12) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (160, 120))
    assert writer.isOpened()
    for index in range(frames):
        frame = np.full((120, 160, 3), index * 20 % 256, np.uint8)
        writer.write(frame)
    writer.release()


def _wait(condition, timeout_s: float = 3.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_video_file_plays_and_loops(tmp_path: Path) -> None:
    # GIVEN a 12-frame video file
    video = tmp_path / "clip.avi"
    _write_video(video)
    camera = OpenCvCamera(OpenCvCameraConfig(source=str(video), fps=120, reconnect_s=0.05))
    with camera:
        # THEN frames arrive at the file's size, and the end of the file is a loss then a reopen
        frame = camera.wait_frame()
        assert frame is not None and frame.resolution == (160, 120)
        assert camera.resolution == (160, 120)
        assert _wait(lambda: camera.losses >= 1)
        assert _wait(lambda: (camera.latest_frame() or frame).index > 14)


def test_deleted_file_is_reported_lost(tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    _write_video(video)
    camera = OpenCvCamera(OpenCvCameraConfig(source=str(video), fps=120, reconnect_s=0.05))
    with camera:
        assert camera.wait_frame() is not None
        # WHEN the file disappears
        video.unlink()
        # THEN the camera goes to RECONNECTING and says why, and stays there
        assert _wait(lambda: camera.last_error == "camera_unavailable")
        assert camera.status is CameraStatus.RECONNECTING


def test_missing_source_never_starts(tmp_path: Path) -> None:
    camera = OpenCvCamera(OpenCvCameraConfig(source=str(tmp_path / "none.avi"), reconnect_s=0.05))
    with camera:
        assert _wait(lambda: camera.status is CameraStatus.RECONNECTING)
        assert camera.latest_frame() is None
    assert camera.status is CameraStatus.STOPPED
