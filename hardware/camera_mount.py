"""The camera mount device: a motorised lift/tilt that points the face camera at the traveller.

Commercial gates move the camera to the traveller's height; a fixed camera is a mount that
cannot move (``type = "none"``, the default). Positions are whole steps between ``lowest``
(negative: the view tilted down, for a child or a seated traveller) and ``highest``; step 0 is
the home position. :meth:`CameraMount.step` does the shared work (the range, the log, checking
that the driver reached where it was sent) and calls one driver hook, ``_move``. A mount that
fails is degraded, never a reason to close the lane: the camera still sees a traveller who
steps closer, and the screen's seated layout still helps.

Drivers: ``none`` (:class:`FixedCameraMount`), ``simulated`` (``hardware.sim.camera_mount``,
which moves the simulated camera's view) and ``serial`` (``hardware.serial_camera_mount``, a
line protocol over a serial port).
"""

from __future__ import annotations

import abc
import logging
from dataclasses import dataclass

from hardware.executor import DeviceBound
from models.errors import DeviceError

log = logging.getLogger(__name__)


class CameraMountError(DeviceError):
    """The mount failed or refused a move."""

    code = "camera_mount_error"


@dataclass(frozen=True)
class MountPosition:
    step: int
    lowest: int
    highest: int

    @property
    def at_lowest(self) -> bool:
        return self.step <= self.lowest

    @property
    def at_highest(self) -> bool:
        return self.step >= self.highest


class CameraMount(DeviceBound, abc.ABC):
    """A mount that moves the camera in whole steps between ``lowest`` and ``highest``."""

    motorised = True

    def __init__(self, *, lowest: int, highest: int) -> None:
        if not lowest <= 0 <= highest:
            raise CameraMountError("the home position (0) must lie between lowest and highest")
        self.lowest, self.highest = lowest, highest
        self._step = 0
        self.moves = 0
        self._is_open = False

    # --- life cycle --------------------------------------------------------------------

    def open(self) -> None:
        """Connect and go to the home position."""
        self._device_call("open")
        if self._is_open:
            return
        try:
            self._open()
        except CameraMountError:
            raise
        except Exception as exc:
            raise CameraMountError(f"camera mount could not be opened: {exc}") from exc
        self._is_open = True
        self._go(0)

    def close(self) -> None:
        self._device_call("close")
        if not self._is_open:
            return
        self._is_open = False
        self._close()

    # --- moving ------------------------------------------------------------------------

    @property
    def position(self) -> MountPosition:
        return MountPosition(self._step, self.lowest, self.highest)

    def step(self, steps: int) -> MountPosition:
        """Move ``steps`` (negative: down), stopping at the ends of the range."""
        self._device_call("step")
        target = max(self.lowest, min(self.highest, self._step + steps))
        if target != self._step:
            self._go(target)
        return self.position

    def home(self) -> MountPosition:
        self._device_call("home")
        if self._step != 0:
            self._go(0)
        return self.position

    def self_test(self) -> MountPosition:
        """The technician's check: to both ends of the range and home, each reached."""
        self._device_call("self_test")
        for target in (self.lowest, self.highest, 0):
            self._go(target)
        return self.position

    def _go(self, target: int) -> None:
        if not self._is_open:
            raise CameraMountError("camera mount is not open")
        try:
            reached = self._move(target)
        except CameraMountError:
            raise
        except Exception as exc:
            raise CameraMountError(f"camera mount move failed: {exc}") from exc
        if reached != target:
            raise CameraMountError(f"camera mount reached step {reached}, not {target}")
        self._step = reached
        self.moves += 1
        log.info("camera mount at step %d", reached)

    # --- driver hooks ------------------------------------------------------------------

    @abc.abstractmethod
    def _open(self) -> None: ...

    @abc.abstractmethod
    def _close(self) -> None: ...

    @abc.abstractmethod
    def _move(self, target: int) -> int:
        """Go to step ``target``; return the step the mechanism reports it reached."""


class FixedCameraMount(CameraMount):
    """A camera that does not move (``type = "none"``): always at home."""

    motorised = False

    def __init__(self, config: object | None = None) -> None:
        super().__init__(lowest=0, highest=0)

    def _open(self) -> None:
        return None

    def _close(self) -> None:
        return None

    def _move(self, target: int) -> int:
        return 0
