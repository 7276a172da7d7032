"""The simulated camera: a real driver that plays a scripted scene at the configured rate.

Selected with ``type = "simulated"``; the demo, the tests and a technician rehearsing all use
it. :meth:`SimulatedCamera.interrupt` makes the next read fail, as if the cable were pulled,
so the reconnect path can be rehearsed too.
"""

from __future__ import annotations

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

    def play(self, config: SimulatedCameraConfig) -> None:
        """Play another scene from the next frame on (the rehearsal panel's traveller, an
        impostor, a photo held up, nobody at the camera); the camera keeps running."""
        scene = build_scene(config)
        old, self._scene = self._scene, scene
        self.config = config
        self._index = 0
        if old is not None:
            old.close()

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
        return frame

    def _close(self) -> None:
        # The scene survives a simulated loss; it is released only when the camera stops.
        if self._stop.is_set() and self._scene is not None:
            self._scene.close()
            self._scene = None
