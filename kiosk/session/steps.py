"""What each step of a transaction hands to the next, and the pipeline that does the work.

The engine (``kiosk.session.engine``) knows the order, the timeouts, the retries and the
events; a :class:`Pipeline` knows how to do each step with the kiosk's devices and services
(``kiosk.session.pipeline`` wires the real ones). Each step returns a plain result; a step
that raises is a device or system fault and leads to a referral, never to a hang.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from kiosk.policy.engine import DocumentFacts, TransactionFacts
from models.records import CheckStatus

GuidanceSink = Callable[[str, str], None]  # (code, English message)


@dataclass
class DocumentStep:
    readable: bool
    facts: DocumentFacts | None = None
    mrz_information: str | None = None
    parsed: Any = None  # the parsed MRZ, kept in memory only


@dataclass
class ChipStep:
    read: bool
    checks: dict[str, CheckStatus] = field(default_factory=dict)
    authentic: bool | None = None
    portrait: bytes | None = None
    access: str | None = None  # PACE | BAC
    error: str | None = None  # stable code when the chip could not be read
    details: Any = None  # the verdict, for the officer's screen
    # the document facts from DG1, once proven by Passive Authentication: screening and the
    # policy use these rather than the printed MRZ
    document: DocumentStep | None = None


@dataclass
class CaptureStep:
    ok: bool
    best_frame: Any = None
    frames: list[Any] = field(default_factory=list)
    guidance: str | None = None


@dataclass
class ScreeningStep:
    lost_or_stolen: bool | None
    watchlist_hits: int | None
    watchlist_age_hours: float | None
    on_manifest: bool | None
    details: Any = None


class Pipeline(Protocol):
    def read_document(self, lines: list[str]) -> DocumentStep: ...

    def read_chip(self, document: DocumentStep, cancel: threading.Event) -> ChipStep: ...

    def capture_face(self, cancel: threading.Event, guidance: GuidanceSink) -> CaptureStep: ...

    def check_liveness(self, capture: CaptureStep) -> bool: ...

    def match_face(self, capture: CaptureStep, portrait: bytes) -> float | None: ...

    def screen(self, document: DocumentStep) -> ScreeningStep: ...

    def record(
        self,
        transaction_id: str,
        document: DocumentStep,
        chip: ChipStep | None,
        facts: TransactionFacts,
        decision: Any,
        timings_ms: dict[str, float],
    ) -> None: ...

    def pass_gate(self, transaction_id: str, cancel: threading.Event) -> str: ...

    def face_threshold(self) -> float: ...
