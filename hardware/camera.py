"""The camera device interface.

One capture thread per camera (``kiosk-camera``) pulls frames through one driver hook,
:meth:`Camera._read`, and keeps only the newest one: a slow consumer always gets the most
recent picture, never a queue of stale ones. The base class does the shared work: pacing,
timestamps, frame counting, status, and reconnecting after the device is lost. Drivers
(``hardware.opencv_camera``, ``hardware.sim.camera``) implement the hooks only.

Frames are 8-bit BGR ``numpy`` arrays of shape (height, width, 3), OpenCV's convention.
Images are never logged.
"""

from __future__ import annotations

import abc
import logging
import threading
import time
from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt

from hardware.executor import DeviceBound
from models.errors import DeviceError

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]


class CameraError(DeviceError):
    """The camera could not be opened or stopped delivering frames."""

    code = "camera_error"


class CameraStatus(Enum):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    RECONNECTING = "reconnecting"  # lost; the capture thread is trying to open it again


@dataclass(frozen=True)
class Frame:
    """One picture with when it was taken (``time.monotonic()`` seconds) and its number."""

    image: Image
    timestamp: float
    index: int

    @property
    def resolution(self) -> tuple[int, int]:
        height, width = self.image.shape[:2]
        return int(width), int(height)


class Camera(DeviceBound, abc.ABC):
    """A camera that is started, read (newest frame only) and stopped.

    The driver hooks run on the capture thread only; bound to a device executor
    (:mod:`hardware.executor`), :meth:`start` and :meth:`stop` are accepted from that
    executor's thread only. Reading frames (:meth:`wait_frame`) never touches the device.
    """

    thread_name = "kiosk-camera"

    def __init__(self, *, fps: float, reconnect_s: float = 2.0) -> None:
        self._interval_s = 1.0 / fps
        self._reconnect_s = reconnect_s
        self._lock = threading.Lock()
        self._new_frame = threading.Condition(self._lock)
        self._latest: Frame | None = None
        self._status = CameraStatus.STOPPED
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._count = 0
        self.losses = 0
        self.last_error: str | None = None

    # --- public API (shared work) ------------------------------------------------------

    def start(self) -> None:
        """Start the capture thread; frames arrive asynchronously. Idempotent."""
        self._device_call("start")
        if self._thread is not None:
            return
        self._stop.clear()
        self._set_status(CameraStatus.STARTING)
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the capture thread and release the device."""
        self._device_call("stop")
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None:
            thread.join(timeout=5.0)
        with self._lock:
            self._latest = None
            self._new_frame.notify_all()
        self._set_status(CameraStatus.STOPPED)

    def __enter__(self) -> Camera:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def status(self) -> CameraStatus:
        return self._status

    @property
    def resolution(self) -> tuple[int, int] | None:
        """(width, height) of the last frame, or None before the first one."""
        frame = self._latest
        return None if frame is None else frame.resolution

    def latest_frame(self) -> Frame | None:
        """The newest frame, or None if none has arrived (or the camera is stopped)."""
        return self._latest

    def wait_frame(self, after_index: int = -1, timeout_s: float = 2.0) -> Frame | None:
        """Wait for a frame newer than ``after_index``; None on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._new_frame:
            while self._latest is None or self._latest.index <= after_index:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    return None
                self._new_frame.wait(remaining)
            return self._latest

    # --- capture thread ----------------------------------------------------------------

    def _set_status(self, status: CameraStatus) -> None:
        if status is not self._status:
            log.info("camera %s", status.value)
        self._status = status

    def _run(self) -> None:
        opened = False
        next_due = time.monotonic()
        try:
            while not self._stop.is_set():
                if not opened:
                    opened = self._try_open()
                    if not opened:
                        self._stop.wait(self._reconnect_s)
                        continue
                image = self._read_safely()
                if image is None:
                    self._lost()
                    opened = False
                    continue
                self._publish(image)
                next_due = max(next_due + self._interval_s, time.monotonic() - self._interval_s)
                self._stop.wait(max(0.0, next_due - time.monotonic()))
        finally:
            if opened:
                self._close_quietly()

    def _try_open(self) -> bool:
        try:
            self._open()
        except DeviceError as exc:
            self.last_error = exc.code
            log.warning("camera open failed: %s", exc.code)
            self._set_status(CameraStatus.RECONNECTING)
            return False
        self._set_status(CameraStatus.RUNNING)
        return True

    def _read_safely(self) -> Image | None:
        try:
            return self._read()
        except DeviceError as exc:
            self.last_error = exc.code
            return None

    def _lost(self) -> None:
        self.losses += 1
        log.warning("camera lost (%d so far); reconnecting", self.losses)
        self._set_status(CameraStatus.RECONNECTING)
        self._close_quietly()

    def _close_quietly(self) -> None:
        try:
            self._close()
        except DeviceError as exc:
            log.warning("camera close failed: %s", exc.code)

    def _publish(self, image: Image) -> None:
        with self._new_frame:
            self._latest = Frame(image=image, timestamp=time.monotonic(), index=self._count)
            self._count += 1
            self._new_frame.notify_all()

    # --- driver hooks ------------------------------------------------------------------

    @abc.abstractmethod
    def _open(self) -> None:
        """Open the device; raise :class:`CameraError` if it cannot be opened."""

    @abc.abstractmethod
    def _read(self) -> Image | None:
        """Block until the next frame; None (or CameraError) when the device is lost."""

    def _close(self) -> None:
        """Release the device."""
