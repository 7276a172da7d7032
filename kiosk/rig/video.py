"""A video file of a live face for the OpenCV camera of the production rig: the simulated
traveller scene (blinks, small head movements, sensor noise) of a shipped photo, encoded with
``cv2.VideoWriter`` (Motion-JPEG in AVI, which OpenCV's own backend reads back everywhere).

The frames play forward then backward, so the camera's loop at the end of the file continues
the movement instead of jumping back to its start."""

from __future__ import annotations

from pathlib import Path

from hardware.config import SimulatedCameraConfig
from hardware.sim.scenes import build_scene


def write_face_video(
    path: Path,
    face_image: Path,
    *,
    seconds: float = 6.0,
    fps: float = 15.0,
    width: int = 640,
    height: int = 480,
) -> Path:
    import cv2

    config = SimulatedCameraConfig(
        scene="traveller", face_image=face_image, fps=fps, width=width, height=height
    )
    scene = build_scene(config)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height), True)
    if not writer.isOpened():
        raise OSError(f"cannot write a video to {path}")
    try:
        frames = [scene.render(index) for index in range(max(1, round(seconds * fps / 2)))]
        for frame in frames + frames[::-1]:
            writer.write(frame)
    finally:
        writer.release()
        scene.close()
    return path
