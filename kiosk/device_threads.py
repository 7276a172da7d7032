"""The kiosk's device executors: one worker thread per device, bound to its driver.

Built with the :class:`~kiosk.devices.Devices` of a kiosk, so every driver call (opening and
closing included) runs on its device's thread (:mod:`hardware.executor`). The session engine
claims every device for the length of a transaction; the technician's self-tests go through
the same executors (:func:`hardware.executor.on_device`), so they can never interleave with a
traveller's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hardware.executor import DeviceBusyError, DeviceExecutor, HungListener

log = logging.getLogger(__name__)

KINDS = ("chip_reader", "mrz_reader", "camera", "gate", "camera_mount")


@dataclass
class DeviceThreads:
    chip_reader: DeviceExecutor
    mrz_reader: DeviceExecutor
    camera: DeviceExecutor
    gate: DeviceExecutor
    camera_mount: DeviceExecutor

    @classmethod
    def bind(cls, devices: Any, *, join_s: float = 3.0) -> DeviceThreads:
        """One executor per device of ``devices``, each bound to its driver."""
        threads = cls(**{kind: DeviceExecutor(kind, join_s=join_s) for kind in KINDS})
        for kind in KINDS:
            getattr(devices, kind).bind_executor(getattr(threads, kind))
        return threads

    def all(self) -> tuple[DeviceExecutor, ...]:
        return tuple(getattr(self, kind) for kind in KINDS)

    def set_listeners(
        self, on_hung: HungListener | None, on_recovered: HungListener | None
    ) -> None:
        for executor in self.all():
            executor.on_hung, executor.on_recovered = on_hung, on_recovered

    def start(self) -> None:
        for executor in self.all():
            executor.start()

    def close(self) -> None:
        for executor in self.all():
            executor.close()

    def hung(self) -> list[str]:
        """The devices stuck in a driver call that overran its bound."""
        return [e.device for e in self.all() if e.hung is not None]

    def wait_idle(self, timeout_s: float) -> bool:
        """True once no device has a job queued or running (within ``timeout_s`` overall)."""
        return all(executor.wait_idle(timeout_s) for executor in self.all())

    @contextmanager
    def claimed(self, owner: str, timeout_s: float = 0.0) -> Iterator[None]:
        """Every device reserved for ``owner``; :class:`DeviceBusyError` if one is not free."""
        taken: list[DeviceExecutor] = []
        try:
            for executor in self.all():
                executor.claim(owner, timeout_s)
                taken.append(executor)
            yield
        finally:
            for executor in taken:
                executor.release(owner)


__all__ = ["KINDS", "DeviceBusyError", "DeviceThreads"]
