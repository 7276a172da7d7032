"""Plain-Python events of the session engine; the UI subscribes and turns them into Qt signals.

Events carry no personal data except :class:`Decided`, whose ``referral`` is for the officer
screens only and is never logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kiosk.session.steps import Outcome

log = logging.getLogger(__name__)


class State(StrEnum):
    WAITING = "waiting"
    DOCUMENT = "document"
    CHIP = "chip"
    FACE_CAPTURE = "face_capture"
    LIVENESS = "liveness"
    MATCHING = "matching"
    SCREENING = "screening"
    DECISION = "decision"
    GATE = "gate"
    DONE = "done"
    REFER = "refer"
    RETRY = "retry"
    PLACE_AGAIN = "place_again"  # the passport could not be read: place it again
    FAMILY_NEXT = "family_next"  # a family transaction: place the next member's passport
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class StateEntered:
    transaction_id: str | None
    state: State


@dataclass(frozen=True)
class Progress:
    transaction_id: str
    state: State
    fraction: float


@dataclass(frozen=True)
class Guidance:
    """One instruction for the traveller: a stable code and an English default text."""

    transaction_id: str
    code: str
    message: str


@dataclass(frozen=True)
class DocumentRead:
    """The MRZ was read: the screens may offer the traveller's language. Only the three-letter
    nationality code travels (no name, number or date)."""

    transaction_id: str
    nationality: str


@dataclass(frozen=True)
class FamilyProgress:
    """A family transaction reads member ``member`` of ``members`` (1-based) now."""

    transaction_id: str
    member: int
    members: int


@dataclass(frozen=True)
class ChallengeAnnounced:
    """The liveness challenge was announced: the capture waits for the screen and the voice
    to present it (``kiosk.session.prompts``) before it keeps frames to judge."""

    transaction_id: str
    code: str
    cue: int


@dataclass(frozen=True)
class Decided:
    transaction_id: str
    decision: str
    reasons: tuple[str, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Finished:
    transaction_id: str
    outcome: Outcome


@dataclass(frozen=True)
class Fault:
    transaction_id: str | None
    code: str
    user_message: str


SessionEvent = (
    StateEntered
    | Progress
    | Guidance
    | DocumentRead
    | FamilyProgress
    | ChallengeAnnounced
    | Decided
    | Finished
    | Fault
)
Listener = Callable[[SessionEvent], Any]


class EventBus:
    """Synchronous fan-out to subscribers; a failing subscriber never breaks the engine."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def publish(self, event: SessionEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                log.exception("session event listener failed on %s", type(event).__name__)
