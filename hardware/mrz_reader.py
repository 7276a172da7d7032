"""The MRZ reader device interface.

One small interface for every kind of MRZ reader (serial OCR reader, keyboard wedge, the
simulated reader). It reports three things as plain-Python events: a document was presented
(with its MRZ as raw lines, not parsed: parsing is ``kiosk.icao.mrz``'s job), the document was
removed, and the device's status changed (ok, degraded or offline, with the last error). Events
are delivered on the driver's device thread; :meth:`MrzReader.wait_document` is a blocking
convenience for code that would rather wait than subscribe.

The public methods do the shared work (state checks, bounds, status bookkeeping, delivery to
listeners and waiters) and call one driver hook each: ``_open`` and ``_close``. Drivers report
what they read through ``_publish_scan``, ``_publish_removed`` and ``_set_status``.

MRZ lines are personal data: they are never logged, and :class:`MrzScan` leaves them out of its
``repr``.
"""

from __future__ import annotations

import abc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

from hardware.executor import DeviceBound
from models.errors import DeviceError

log = logging.getLogger(__name__)

MAX_LINES = 3
MAX_LINE_CHARS = 90


class MrzReaderError(DeviceError):
    """The MRZ reader failed or was used wrongly."""

    code = "mrz_reader_error"


class MrzReaderNotOpenError(MrzReaderError):
    """The MRZ reader was used before open() or after close()."""

    code = "mrz_reader_not_open"


class DeviceHealth(Enum):
    OK = "ok"
    DEGRADED = "degraded"
    OFFLINE = "offline"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DeviceStatus:
    """How a device is doing; ``last_error`` never carries personal data."""

    health: DeviceHealth
    last_error: str | None = None
    changed_at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class MrzScan:
    """One read of a document's MRZ: the raw lines, top to bottom."""

    lines: tuple[str, ...] = field(repr=False)
    source: str
    read_at: datetime = field(default_factory=_now)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class DocumentPresented:
    scan: MrzScan


@dataclass(frozen=True)
class DocumentRemoved:
    source: str
    at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class StatusChanged:
    source: str
    status: DeviceStatus


MrzReaderEvent = DocumentPresented | DocumentRemoved | StatusChanged
MrzReaderListener = Callable[[MrzReaderEvent], None]


def check_scan_lines(lines: Sequence[str]) -> None:
    """Refuse what no reader could have read: too many lines, or long or unprintable ones."""
    if not 1 <= len(lines) <= MAX_LINES:
        raise MrzReaderError(f"an MRZ has 1 to {MAX_LINES} lines, got {len(lines)}")
    for line in lines:
        if len(line) > MAX_LINE_CHARS or not line.isascii() or not line.isprintable():
            raise MrzReaderError("an MRZ line is too long or not printable ASCII")


class MrzReader(DeviceBound, abc.ABC):
    """An MRZ reader that reports documents as they are presented and removed.

    Bound to a device executor (:mod:`hardware.executor`), :meth:`open` and :meth:`close` are
    accepted from that executor's thread only; documents arrive on the driver's own thread.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._listeners: list[MrzReaderListener] = []
        self._is_open = False
        self._status = DeviceStatus(DeviceHealth.OFFLINE, "not open")
        self._present = False
        self._unclaimed: MrzScan | None = None
        self.scans = 0

    # --- public API (shared work) ------------------------------------------------------

    def open(self) -> None:
        """Start reading. A reader that is unplugged starts offline and keeps trying."""
        self._device_call("open")
        with self._lock:
            if self._is_open:
                return
            self._is_open = True
        try:
            self._open()
        except BaseException:
            with self._lock:
                self._is_open = False
            raise
        log.info("mrz reader %s open", self.source)

    def close(self) -> None:
        """Stop reading and stop the device thread; waiters return None."""
        self._device_call("close")
        with self._lock:
            if not self._is_open:
                return
            self._is_open = False
            self._changed.notify_all()
        try:
            self._close()
        finally:
            with self._lock:
                self._present = False
                self._unclaimed = None
                self._status = DeviceStatus(DeviceHealth.OFFLINE, "closed")
            log.info("mrz reader %s closed", self.source)

    def __enter__(self) -> MrzReader:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        return self._is_open

    @property
    def status(self) -> DeviceStatus:
        return self._status

    @property
    def document_present(self) -> bool:
        return self._present

    def add_listener(self, listener: MrzReaderListener) -> None:
        """Call ``listener`` (on the device thread) for every event."""
        self._listeners.append(listener)

    def remove_listener(self, listener: MrzReaderListener) -> None:
        self._listeners.remove(listener)

    def wait_document(self, timeout_s: float) -> MrzScan | None:
        """The presented document nobody has taken yet, waiting up to ``timeout_s`` for one.

        Each scan is handed out once. Returns None on timeout, when the document was removed
        before anyone took it, or when the reader is closed meanwhile.
        """
        deadline = time.monotonic() + timeout_s
        with self._lock:
            if not self._is_open:
                raise MrzReaderNotOpenError("wait_document on a reader that is not open")
            while self._unclaimed is None and self._is_open:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)
            scan, self._unclaimed = self._unclaimed, None
            return scan

    # --- for drivers -------------------------------------------------------------------

    def _publish_scan(self, lines: Sequence[str]) -> DocumentPresented:
        """Report a document with these MRZ lines (called on the device thread)."""
        check_scan_lines(lines)
        event = DocumentPresented(MrzScan(tuple(lines), self.source))
        with self._lock:
            self._present = True
            self._unclaimed = event.scan
            self.scans += 1
            self._changed.notify_all()
        log.info("document presented on %s (%d lines)", self.source, len(lines))
        self._emit(event)
        return event

    def _publish_removed(self) -> DocumentRemoved | None:
        """Report that the document left the reader; nothing if none was there."""
        with self._lock:
            if not self._present:
                return None
            self._present = False
            self._unclaimed = None
            self._changed.notify_all()
        log.info("document removed from %s", self.source)
        event = DocumentRemoved(self.source)
        self._emit(event)
        return event

    def _set_status(self, health: DeviceHealth, last_error: str | None = None) -> None:
        """Record the device's health; listeners hear about changes only."""
        with self._lock:
            old = self._status
            if old.health is health and old.last_error == last_error:
                return
            if health is DeviceHealth.OK and last_error is None:
                last_error = old.last_error  # keep the last error for the technician
                if old.health is DeviceHealth.OK:
                    return
            self._status = DeviceStatus(health, last_error)
            status = self._status
        log.info("mrz reader %s is %s (%s)", self.source, health.value, last_error or "-")
        self._emit(StatusChanged(self.source, status))

    def _emit(self, event: MrzReaderEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a listener's bug must not kill the device thread
                log.exception("mrz reader listener failed")

    # --- driver hooks ------------------------------------------------------------------

    @abc.abstractmethod
    def _open(self) -> None:
        """Start the device thread."""

    @abc.abstractmethod
    def _close(self) -> None:
        """Stop the device thread and release the device."""
