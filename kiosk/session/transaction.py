"""What one transaction run is made of: its id, its time limits, how it ended, and the errors
that stop a step. Shared by the engine (``kiosk.session.engine``) and the family transaction
(``kiosk.session.family``)."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kiosk.policy.engine import TransactionFacts
from kiosk.session.events import State
from kiosk.session.steps import ChipFailure, Outcome, PassageResult
from models.errors import KioskError
from models.records import Decision


class StepTimeout(KioskError):
    """A step did not finish in time."""

    code = "step_timeout"


class Cancelled(KioskError):
    """The transaction was cancelled (passport removed, traveller left, kiosk closing)."""

    code = "cancelled"


@dataclass(frozen=True)
class SessionTimeouts:
    document_s: float = 5.0
    chip_s: float = 20.0
    face_capture_s: float = 30.0  # framing, the challenge prompt, and the frames after it
    liveness_s: float = 10.0
    matching_s: float = 10.0
    screening_s: float = 5.0
    record_s: float = 10.0
    gate_s: float = 60.0  # the passage: entry, both doors, exit (see PassageSettings)
    join_s: float = 5.0  # a cancelled step (and its device work) must end within this
    family_next_s: float = 60.0  # a family's next passport must be placed within this
    prompt_s: float = 6.0  # the liveness challenge waits this long to be shown and spoken
    # a chip that stops answering mid-read: how long the reader has to report the card gone
    # (a card pulled out of the field) before it counts as a fault of the chip or reader
    removal_grace_s: float = 3.0


@dataclass
class TransactionOutcome:
    transaction_id: str
    decision: Decision | None
    reasons: tuple[str, ...]
    outcome: Outcome
    timings_ms: dict[str, float] = field(default_factory=dict)
    facts: TransactionFacts | None = None
    passage: PassageResult | None = None
    members: int = 1  # persons decided together (a family transaction: more than one)


_counter = itertools.count(1)

# Before the decision, taking the passport off the chip reader ends the transaction.
BEFORE_DECISION = frozenset(
    {
        State.DOCUMENT,
        State.CHIP,
        State.FACE_CAPTURE,
        State.RETRY,
        State.LIVENESS,
        State.MATCHING,
        State.SCREENING,
    }
)
WHILE_READING = frozenset({State.DOCUMENT, State.CHIP})
# Chip failures that another placing of the passport may cure (a chip not reached, a
# BAC/PACE key from a misread MRZ). Data that do not parse is a chip anomaly: never retried.
RETRYABLE_CHIP_FAILURES = frozenset({ChipFailure.NO_CHIP, ChipFailure.ACCESS_DENIED})
PLACE_AGAIN_MESSAGES = {
    "document_unreadable": "The data page could not be read. Please place the passport again.",
    "chip_unreadable": "The chip could not be read. Please place the passport again.",
}


def new_transaction_id(kiosk_id: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{kiosk_id}-{stamp}-{next(_counter):04d}-{secrets.token_hex(3)}"
