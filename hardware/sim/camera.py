"""The simulated camera: a real driver that plays a scripted scene at the configured rate.

Selected with ``type = "simulated"``; the demo, the tests and a technician rehearsing all use
it. :meth:`SimulatedCamera.interrupt` makes the next read fail, as if the cable were pulled,
so the reconnect path can be rehearsed too. The traveller's face may sit above or below the
middle of the view (``face_height``: a child, a seated traveller); a simulated camera mount
(``hardware.sim.camera_mount``) tilts the view with :meth:`SimulatedCamera.set_tilt`.
"""

from __future__ import annotations

import numpy as np

from hardware.camera import Camera, Image
from hardware.config import SimulatedCameraConfig
from hardware.sim.scenes import Scene, build_scene


class SimulatedCamera(Camera):
    def __init__(self, config: SimulatedCameraConfig | None = None) -> None:
        self.config = config or SimulatedCameraConfig()
        super().__init__(fps=self.config.fps, reconnect_s=0.2)
        self._scene: Scene | None = None
        self._index = 0
        self._interruptions = 0
        self._tilt = 0.0  # the mount's tilt, as a fraction of the view's height

    def play(self, config: SimulatedCameraConfig) -> None:
        """Play another scene from the next frame on (the rehearsal panel's traveller, an
        impostor, a photo held up, nobody at the camera); the camera keeps running."""
        scene = build_scene(config)
        old, self._scene = self._scene, scene
        self.config = config
        self._index = 0
        if old is not None:
            old.close()

    def set_tilt(self, fraction: float) -> None:
        """The mount tilted the view by ``fraction`` of its height (negative: down, which
        moves what is below the middle of the view up towards it)."""
        self._tilt = fraction

    def interrupt(self, reads: int = 1) -> None:
        """Make the next ``reads`` reads fail (the camera is 'unplugged' for a while)."""
        self._interruptions = reads

    def _open(self) -> None:
        if self._scene is None:
            self._scene = build_scene(self.config)

    def _read(self) -> Image | None:
        if self._interruptions > 0:
            self._interruptions -= 1
            return None
        if self._scene is None:
            return None
        frame = self._scene.render(self._index)
        self._index += 1
        return self._shifted(frame)

    def _shifted(self, frame: Image) -> Image:
        """The face ``face_height`` + tilt below the middle: the picture moved down (up for a
        negative offset), the uncovered rows repeating the edge of the view."""
        rows = int(round((self.config.face_height + self._tilt) * frame.shape[0]))
        if rows == 0:
            return frame
        rows = max(-frame.shape[0] + 1, min(frame.shape[0] - 1, rows))
        moved = np.roll(frame, rows, axis=0)
        if rows > 0:
            moved[:rows] = frame[:1]
        else:
            moved[rows:] = frame[-1:]
        return moved

    def _close(self) -> None:
        # The scene survives a simulated loss; it is released only when the camera stops.
        if self._stop.is_set() and self._scene is not None:
            self._scene.close()
            self._scene = None
