"""The lane's service state: in service, or out of service with every cause named.

A lane is out of service while at least one cause is set. Causes are set and cleared by
whoever detects them (device supervision, the trust and list freshness checks, storage, the
technician, the officer's booth) and the lane is back in service only when the last one is
gone. No traveller starts a transaction on a lane that is out of service, the entry door stays
closed, and the technician's self-tests, door tests and rehearsal run only then.

This module is pure: no devices, no database, no Qt. Listeners get a :class:`LaneStatus`
snapshot after every change, on the thread that made the change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from kiosk.listeners import Listeners
from models.errors import KioskError

log = logging.getLogger(__name__)


class LaneCause(StrEnum):
    """Why a lane is out of service. Values are stable: the server and the booth read them."""

    DEVICE_FAULT = "device_fault"  # key: the device ("chip_reader", "camera", ...)
    NO_TRUST_ANCHORS = "no_trust_anchors"
    TRUST_STALE = "trust_stale"
    LISTS_STALE = "lists_stale"  # key: the list kind
    STORAGE_FULL = "storage_full"
    STORAGE_CORRUPT = "storage_corrupt"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    CLOCK = "clock"  # the wall clock is not trustworthy
    TECHNICIAN = "technician"  # taken out by the technician (self-tests, rehearsal)
    REMOTE_HOLD = "remote_hold"  # held from the officer's booth
    REMOTE_OUT_OF_SERVICE = "remote_out_of_service"  # put out of service from the booth
    EMERGENCY = "emergency"  # doors released after an emergency, awaiting a reset


@dataclass(frozen=True)
class LaneFault:
    """One cause that keeps the lane closed. ``detail`` is for the technician and the server
    (a device name and reason, a list kind and age); it never carries personal data."""

    cause: LaneCause
    key: str
    detail: str
    since: datetime

    def as_dict(self) -> dict[str, str]:
        return {
            "cause": self.cause.value,
            "key": self.key,
            "detail": self.detail,
            "since": self.since.isoformat(),
        }


@dataclass(frozen=True)
class LaneStatus:
    in_service: bool
    faults: tuple[LaneFault, ...]
    changed_monotonic: float

    @property
    def causes(self) -> tuple[LaneCause, ...]:
        return tuple(dict.fromkeys(f.cause for f in self.faults))

    def as_dict(self) -> dict[str, object]:
        return {
            "in_service": self.in_service,
            "faults": [f.as_dict() for f in self.faults],
        }


class LaneInService(KioskError):
    """An action that needs the lane out of service was asked for while it is in service."""

    code = "lane_in_service"
    user_message = "Take the lane out of service first."


LaneListener = Callable[[LaneStatus], object]


class Lane:
    """Thread-safe set of out-of-service causes with change listeners."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self._faults: dict[tuple[LaneCause, str], LaneFault] = {}
        self._lock = threading.Lock()
        self._listeners: Listeners[LaneStatus] = Listeners("lane")
        self._changed = time.monotonic()

    # --- reading -----------------------------------------------------------------------

    @property
    def in_service(self) -> bool:
        with self._lock:
            return not self._faults

    def status(self) -> LaneStatus:
        with self._lock:
            return self._status_locked()

    def has(self, cause: LaneCause, key: str | None = None) -> bool:
        with self._lock:
            return any(c == cause and (key is None or k == key) for c, k in self._faults)

    def require_out_of_service(self, action: str) -> None:
        """Raise :class:`LaneInService` unless the lane is out of service (for ``action``)."""
        if self.in_service:
            raise LaneInService(f"{action} needs the lane out of service")

    # --- changing ----------------------------------------------------------------------

    def set(self, cause: LaneCause, detail: str = "", *, key: str = "") -> None:
        """Set (or update the detail of) one cause; listeners hear of a change only."""
        with self._lock:
            current = self._faults.get((cause, key))
            if current is not None and current.detail == detail:
                return
            since = current.since if current is not None else self._clock()
            self._faults[(cause, key)] = LaneFault(cause, key, detail, since)
            status = self._changed_locked()
        if current is None:
            log.warning("lane out of service: %s %s %s", cause.value, key, detail)
        self._notify(status)

    def clear(self, cause: LaneCause, *, key: str | None = None) -> None:
        """Clear a cause (every key of it when ``key`` is None)."""
        with self._lock:
            gone = [k for k in self._faults if k[0] == cause and (key is None or k[1] == key)]
            if not gone:
                return
            for k in gone:
                del self._faults[k]
            status = self._changed_locked()
        log.info("lane cause cleared: %s %s", cause.value, key or "")
        self._notify(status)

    def add_listener(self, listener: Callable[[LaneStatus], object]) -> Callable[[], None]:
        return self._listeners.add(listener)

    # --- internals ---------------------------------------------------------------------

    def _status_locked(self) -> LaneStatus:
        faults = tuple(sorted(self._faults.values(), key=lambda f: (f.since, f.cause, f.key)))
        return LaneStatus(not faults, faults, self._changed)

    def _changed_locked(self) -> LaneStatus:
        self._changed = time.monotonic()
        return self._status_locked()

    def _notify(self, state: LaneStatus) -> None:
        self._listeners.notify(state)
