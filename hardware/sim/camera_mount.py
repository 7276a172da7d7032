"""The simulated camera mount: a real driver that moves the simulated camera's view.

Selected with ``type = "simulated"``. Each step tilts the view by ``step_fraction`` of the
frame's height, so a traveller whose face the simulated camera shows low in the frame (its
``face_height``) appears higher after a step down, as on a real motorised mount. It records
every move (:attr:`SimulatedCameraMount.targets`) and can fail the next one, for tests.
"""

from __future__ import annotations

from hardware.camera_mount import CameraMount, CameraMountError
from hardware.config import SimulatedCameraMountConfig
from hardware.sim.camera import SimulatedCamera


class SimulatedCameraMount(CameraMount):
    def __init__(self, config: SimulatedCameraMountConfig | None = None) -> None:
        self.config = config or SimulatedCameraMountConfig()
        super().__init__(lowest=self.config.lowest, highest=self.config.highest)
        self.targets: list[int] = []
        self.camera: SimulatedCamera | None = None
        self._fail_next = False

    def attach(self, camera: SimulatedCamera) -> None:
        """The simulated camera this mount carries (its view follows the mount)."""
        self.camera = camera

    def fail_next_move(self) -> None:
        self._fail_next = True

    def _open(self) -> None:
        return None

    def _close(self) -> None:
        return None

    def _move(self, target: int) -> int:
        self.targets.append(target)
        if self._fail_next:
            self._fail_next = False
            raise CameraMountError("simulated mount motor stalled")
        if self.camera is not None:
            self.camera.set_tilt(target * self.config.step_fraction)
        return target
