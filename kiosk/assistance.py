"""Calls for an officer from the traveller's Help button.

A call is pending until someone acknowledges it (the officer's booth through the server, or the
technician at the lane). Listeners (the lane's link to the server, the technician console)
hear every change on the thread that made it; every call and acknowledgement is audited by
the listener that records it. Nothing personal is kept: only when and from which screen.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from kiosk.listeners import Listeners

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AssistanceState:
    pending: bool
    since: datetime | None
    screen: str | None  # where the traveller was when they asked ("camera", "chip", ...)
    calls: int  # calls since the kiosk started
    acknowledged_by: str | None = None


AssistanceListener = Callable[[AssistanceState], object]


class Assistance:
    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._state = AssistanceState(False, None, None, 0)
        self._listeners: Listeners[AssistanceState] = Listeners("assistance")

    @property
    def state(self) -> AssistanceState:
        with self._lock:
            return self._state

    def call(self, screen: str) -> AssistanceState:
        """The traveller asked for help; a second press while pending changes nothing."""
        with self._lock:
            if self._state.pending:
                return self._state
            self._state = AssistanceState(True, self._clock(), screen, self._state.calls + 1)
            state = self._state
        log.info("assistance requested from the %s screen", screen)
        self._notify(state)
        return state

    def acknowledge(self, by: str) -> AssistanceState:
        with self._lock:
            if not self._state.pending:
                return self._state
            self._state = AssistanceState(False, None, None, self._state.calls, by)
            state = self._state
        log.info("assistance call acknowledged by %s", by)
        self._notify(state)
        return state

    def add_listener(self, listener: Callable[[AssistanceState], object]) -> Callable[[], None]:
        return self._listeners.add(listener)

    def _notify(self, state: AssistanceState) -> None:
        self._listeners.notify(state)
