"""What each step of a transaction hands to the next, and the pipeline that does the work.

The engine (``kiosk.session.engine``) knows the order, the timeouts, the retries and the
events; a :class:`Pipeline` knows how to do each step with the kiosk's devices and services
(``kiosk.session.pipeline`` wires the real ones). Each step returns a typed, immutable record
that the engine hands forward; the pipeline keeps nothing of a traveller between calls. A step
that raises is a device or system fault and leads to a referral, never to a hang.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from kiosk.policy.engine import DocumentFacts
from models.records import CheckResult, CheckStatus, DecidedTransaction

GuidanceSink = Callable[[str, str], None]  # (code, English message)


class ChipFailure(StrEnum):
    """Why the chip was not read (a device fault is not one of these: it raises)."""

    NO_CHIP = "no_chip"
    ACCESS_DENIED = "access_denied"
    UNREADABLE = "chip_unreadable"  # the chip answered, but its data did not parse


class PassageResult(StrEnum):
    """How the walk through the gate ended."""

    PASSED = "passed"
    TAILGATING = "tailgating"  # a second person was in the gate: exit kept or closed
    TIMEOUT = "timeout"  # the traveller did not enter, or did not leave, in time
    GATE_FAULT = "gate_fault"  # the gate failed a command or faulted during the passage


class Outcome(StrEnum):
    """How a transaction ended, for the screens and the records."""

    ACCEPTED = "accepted"  # accepted and walked through the gate
    REFERRED = "referred"
    REJECTED = "rejected"
    CANCELLED = "cancelled"  # stopped by the kiosk (closing down, out of service)
    PASSPORT_REMOVED = "passport_removed"  # taken off the reader before the decision
    TAILGATING = "tailgating"  # accepted, then a second person entered: referred
    PASSAGE_TIMEOUT = "passage_timeout"  # accepted, but the passage did not complete
    GATE_FAULT = "gate_fault"  # accepted, but the gate failed: referred
    DEVICE_FAULT = "device_fault"  # not started: a device is stuck in an earlier call
    PLACE_AGAIN = "place_again"  # MRZ or chip not read: the traveller places it again


PASSAGE_OUTCOMES = {
    PassageResult.PASSED: Outcome.ACCEPTED,
    PassageResult.TAILGATING: Outcome.TAILGATING,
    PassageResult.TIMEOUT: Outcome.PASSAGE_TIMEOUT,
    PassageResult.GATE_FAULT: Outcome.GATE_FAULT,
}


@dataclass(frozen=True)
class DocumentStep:
    readable: bool
    facts: DocumentFacts | None = None
    mrz_information: str | None = None
    parsed: Any = None  # the parsed MRZ, kept in memory only


@dataclass(frozen=True)
class ChipStep:
    """The chip verdict. ``check_results`` are what the officer and the record show."""

    read: bool
    checks: dict[str, CheckStatus] = field(default_factory=dict)
    authentic: bool | None = None
    portrait: bytes | None = None
    access: str | None = None  # PACE | BAC
    failure: ChipFailure | None = None
    error: str | None = None  # the stable code of the failure, for the record
    check_results: tuple[CheckResult, ...] = ()
    details: Any = None  # the verdict, for the officer's screen
    reference: Any = None  # the chip photo's template being encoded (pipeline-specific)
    # the document facts from DG1, once proven by Passive Authentication: screening and the
    # policy use these rather than the printed MRZ
    document: DocumentStep | None = None


@dataclass(frozen=True)
class CaptureStep:
    ok: bool
    best_frame: Any = None
    frames: tuple[Any, ...] = ()
    guidance: str | None = None


@dataclass(frozen=True)
class LivenessStep:
    live: bool
    reason: str | None = None  # the liveness check's reason code when refused


@dataclass(frozen=True)
class MatchStep:
    """One 1:1 comparison; ``distance`` None when no usable face was found."""

    distance: float | None
    live_image: bytes | None = None  # JPEG of the compared frame, kept only for a referral
    rejected: str | None = None  # why the image could not be compared


@dataclass(frozen=True)
class FaceStep:
    """The face attempts of a transaction, summed up by the last one that counted."""

    attempts: int = 0
    liveness: LivenessStep | None = None
    match: MatchStep | None = None

    @property
    def liveness_passed(self) -> bool | None:
        return None if self.liveness is None else self.liveness.live

    @property
    def distance(self) -> float | None:
        return None if self.match is None else self.match.distance


@dataclass(frozen=True)
class ScreeningStep:
    lost_or_stolen: bool | None
    watchlist_hits: int | None
    watchlist_age_hours: float | None
    on_manifest: bool | None
    details: Any = None
    checks: tuple[CheckResult, ...] = ()
    vetting: str | None = None  # vetted_cleared | vetted_referred | not_vetted
    vetting_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepFault:
    """A step raised (a device or system fault): which step, and the error's stable code."""

    step: str
    code: str

    @property
    def description(self) -> str:
        return f"{self.step}: {self.code}"


class Pipeline(Protocol):
    def read_document(self, lines: list[str]) -> DocumentStep: ...

    def read_chip(self, document: DocumentStep, cancel: threading.Event) -> ChipStep: ...

    def capture_face(self, cancel: threading.Event, guidance: GuidanceSink) -> CaptureStep: ...

    def check_liveness(self, capture: CaptureStep) -> LivenessStep: ...

    def match_face(self, capture: CaptureStep, chip: ChipStep) -> MatchStep: ...

    def release_reference(self, chip: ChipStep | None) -> None: ...

    def screen(self, document: DocumentStep) -> ScreeningStep: ...

    def record(self, record: DecidedTransaction) -> None: ...

    def pass_gate(self, transaction_id: str, cancel: threading.Event) -> PassageResult: ...

    def face_threshold(self) -> float: ...
