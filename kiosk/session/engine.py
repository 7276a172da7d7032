"""The transaction state machine.

    waiting -> document -> chip -> face_capture -> liveness -> matching -> screening
            -> decision -> gate -> done
    plus: retry (another face attempt), refer (an officer decides), cancelled (passport
    removed, traveller gone, timeout), and fault (a device failed: refer, gate closed).

The engine runs each transaction on its own worker thread ("kiosk-session"); each step runs on
a step thread with a timeout, so a device that hangs becomes a referral and the engine goes
back to waiting. Every step publishes a plain-Python event for the UI.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from kiosk.logs import transaction_context
from kiosk.policy.engine import PolicyDecision, PolicyEngine, Reason, TransactionFacts
from kiosk.session.events import (
    Decided,
    DocumentRead,
    EventBus,
    Fault,
    Finished,
    Guidance,
    State,
    StateEntered,
)
from kiosk.session.steps import CaptureStep, ChipStep, DocumentStep, Pipeline, ScreeningStep
from models.errors import KioskError
from models.records import Decision, ReasonCode

log = logging.getLogger(__name__)
T = TypeVar("T")


class StepTimeout(KioskError):
    """A step did not finish in time."""

    code = "step_timeout"


class Cancelled(KioskError):
    """The transaction was cancelled (passport removed, traveller left)."""

    code = "cancelled"


@dataclass(frozen=True)
class SessionTimeouts:
    document_s: float = 5.0
    chip_s: float = 20.0
    face_capture_s: float = 20.0
    liveness_s: float = 10.0
    matching_s: float = 10.0
    screening_s: float = 5.0
    record_s: float = 10.0
    gate_s: float = 30.0


@dataclass
class TransactionOutcome:
    transaction_id: str
    decision: Decision | None
    reasons: tuple[str, ...]
    outcome: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    facts: TransactionFacts | None = None


_counter = itertools.count(1)


def new_transaction_id(kiosk_id: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{kiosk_id}-{stamp}-{next(_counter):04d}-{secrets.token_hex(3)}"


class SessionEngine:
    """Runs transactions one at a time; safe to drive from device threads."""

    def __init__(
        self,
        pipeline: Pipeline,
        policy: PolicyEngine,
        *,
        kiosk_id: str = "kiosk-01",
        max_face_attempts: int = 3,
        timeouts: SessionTimeouts | None = None,
        bus: EventBus | None = None,
        today: datetime | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.policy = policy
        self.kiosk_id = kiosk_id
        self.max_face_attempts = max_face_attempts
        self.timeouts = timeouts or SessionTimeouts()
        self.bus = bus or EventBus()
        self._today = today
        self._cancel = threading.Event()
        self._busy = threading.Lock()
        self._worker: threading.Thread | None = None
        self.state = State.WAITING
        self.last_outcome: TransactionOutcome | None = None

    # --- driving the engine -------------------------------------------------------------

    def document_presented(self, lines: list[str]) -> bool:
        """Start a transaction on a worker thread; False when one is already running."""
        if not self._busy.acquire(blocking=False):
            return False
        self._cancel.clear()
        self._worker = threading.Thread(
            target=self._worker_main, args=(list(lines),), name="kiosk-session", daemon=True
        )
        self._worker.start()
        return True

    def document_removed(self) -> None:
        """The passport left the reader: cancel what is running (before the decision)."""
        if self.state in (State.DOCUMENT, State.CHIP):
            self._cancel.set()

    def cancel(self) -> None:
        self._cancel.set()

    def wait_idle(self, timeout_s: float = 60.0) -> bool:
        worker = self._worker
        if worker is not None:
            worker.join(timeout_s)
            return not worker.is_alive()
        return True

    def close(self) -> None:
        self.cancel()
        self.wait_idle(10.0)

    def _worker_main(self, lines: list[str]) -> None:
        try:
            self.last_outcome = self.run_transaction(lines)
        finally:
            self._busy.release()

    # --- one transaction ----------------------------------------------------------------

    def run_transaction(self, lines: list[str]) -> TransactionOutcome:
        txn = new_transaction_id(self.kiosk_id)
        with transaction_context(txn):
            try:
                return self._run(txn, lines)
            finally:
                self._enter(None, State.WAITING)

    def _enter(self, txn: str | None, state: State) -> None:
        self.state = state
        log.info("state %s", state.value)
        self.bus.publish(StateEntered(txn, state))

    def _step(
        self, txn: str, state: State, timeout_s: float, fn: Callable[..., T], *args: Any
    ) -> T:
        self._enter(txn, state)
        if self._cancel.is_set():
            raise Cancelled("cancelled before " + state.value)
        future: Future[T] = Future()

        def body() -> None:
            try:
                future.set_result(fn(*args))
            except BaseException as exc:
                future.set_exception(exc)

        context = contextvars.copy_context()  # the step logs under the transaction id
        threading.Thread(
            target=context.run, args=(body,), name=f"kiosk-step-{state.value}", daemon=True
        ).start()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return future.result(timeout=0.05)
            except FutureTimeout:
                if self._cancel.is_set():
                    raise Cancelled("cancelled during " + state.value) from None
                if time.monotonic() > deadline:
                    raise StepTimeout(f"{state.value} took longer than {timeout_s:.0f}s") from None

    def _run(self, txn: str, lines: list[str]) -> TransactionOutcome:
        timings: dict[str, float] = {}
        t_all = time.perf_counter()
        facts_kwargs: dict[str, Any] = {}
        document: DocumentStep | None = None
        chip: ChipStep | None = None
        to = self.timeouts

        def timed(name: str, t0: float) -> None:
            timings[name] = round((time.perf_counter() - t0) * 1000, 2)

        try:
            t0 = time.perf_counter()
            document = self._step(
                txn, State.DOCUMENT, to.document_s, self.pipeline.read_document, lines
            )
            timed("document", t0)
            facts_kwargs.update(document=document.facts, document_readable=document.readable)
            if document.readable and document.facts is not None:
                self.bus.publish(DocumentRead(txn, document.facts.nationality))
            if document.readable:
                t0 = time.perf_counter()
                chip = self._step(
                    txn, State.CHIP, to.chip_s, self.pipeline.read_chip, document, self._cancel
                )
                timed("chip", t0)
                facts_kwargs.update(
                    chip_read=chip.read, checks=chip.checks, authentic=chip.authentic
                )
                facts_kwargs.update(self._face(txn, chip, timings))
                t0 = time.perf_counter()
                screening: ScreeningStep = self._step(
                    txn, State.SCREENING, to.screening_s, self.pipeline.screen, document
                )
                timed("screening", t0)
                facts_kwargs.update(
                    lost_or_stolen=screening.lost_or_stolen,
                    watchlist_hits=screening.watchlist_hits,
                    watchlist_age_hours=screening.watchlist_age_hours,
                    on_manifest=screening.on_manifest,
                )
        except Cancelled:
            log.info("transaction cancelled")
            self._enter(txn, State.CANCELLED)
            self.bus.publish(Finished(txn, "cancelled"))
            return TransactionOutcome(txn, None, (), "cancelled", timings)
        except Exception as exc:  # any device or system fault: refer, gate stays closed
            code = getattr(exc, "code", type(exc).__name__)
            log.warning("step %s failed: %s", self.state.value, code)
            facts_kwargs["device_fault"] = f"{self.state.value}: {code}"
            self.bus.publish(Fault(txn, str(code), "Please see an officer."))

        facts = TransactionFacts(
            today=self._day(), face_threshold=self.pipeline.face_threshold(), **facts_kwargs
        )
        self._enter(txn, State.DECISION)
        decision = self.policy.decide(facts)
        timings["total_before_gate"] = round((time.perf_counter() - t_all) * 1000, 2)
        outcome = self._finish(txn, document, chip, facts, decision, timings)
        timings["total"] = round((time.perf_counter() - t_all) * 1000, 2)
        return outcome

    def _face(self, txn: str, chip: ChipStep, timings: dict[str, float]) -> dict[str, Any]:
        """Up to max_face_attempts of capture, liveness and matching."""
        to = self.timeouts
        result: dict[str, Any] = {"face_distance": None, "liveness_passed": None}
        if not chip.read or chip.portrait is None:
            return result
        portrait = chip.portrait

        def guidance(code: str, message: str) -> None:
            self.bus.publish(Guidance(txn, code, message))

        for attempt in range(1, self.max_face_attempts + 1):
            if attempt > 1:
                self._enter(txn, State.RETRY)
                guidance("retry", "Let's try again. Please look at the camera.")
            t0 = time.perf_counter()
            capture: CaptureStep = self._step(
                txn,
                State.FACE_CAPTURE,
                to.face_capture_s,
                self.pipeline.capture_face,
                self._cancel,
                guidance,
            )
            timings[f"face_capture_{attempt}"] = round((time.perf_counter() - t0) * 1000, 2)
            if not capture.ok:
                continue
            t0 = time.perf_counter()
            live: bool = self._step(
                txn, State.LIVENESS, to.liveness_s, self.pipeline.check_liveness, capture
            )
            timings[f"liveness_{attempt}"] = round((time.perf_counter() - t0) * 1000, 2)
            result["liveness_passed"] = live
            t0 = time.perf_counter()
            distance: float | None = self._step(
                txn, State.MATCHING, to.matching_s, self.pipeline.match_face, capture, portrait
            )
            timings[f"matching_{attempt}"] = round((time.perf_counter() - t0) * 1000, 2)
            result["face_distance"] = distance
            if live and distance is not None and distance <= self.pipeline.face_threshold():
                break
        return result

    def _finish(
        self,
        txn: str,
        document: DocumentStep | None,
        chip: ChipStep | None,
        facts: TransactionFacts,
        decision: PolicyDecision,
        timings: dict[str, float],
    ) -> TransactionOutcome:
        reasons = tuple(decision.reason_codes)
        # The record (with its outbox row and audit entry) is written before the gate moves:
        # a decision that was acted on always exists.
        try:
            self.pipeline.record(
                txn, document or DocumentStep(readable=False), chip, facts, decision, timings
            )
        except Exception as exc:
            log.error("recording failed: %s", getattr(exc, "code", type(exc).__name__))
            decision = PolicyDecision(
                Decision.REFER,
                (*decision.reasons, Reason(ReasonCode.SYSTEM_MALFUNCTION, "record not stored")),
            )
            reasons = tuple(decision.reason_codes)
        self.bus.publish(Decided(txn, decision.decision.value, reasons, dict(timings)))
        log.info("decision %s reasons=%s", decision.decision.value, ",".join(reasons) or "-")
        if decision.decision is Decision.ACCEPT:
            try:
                t0 = time.perf_counter()
                passage: str = self._step(
                    txn,
                    State.GATE,
                    self.timeouts.gate_s,
                    self.pipeline.pass_gate,
                    txn,
                    threading.Event(),
                )
                timings["gate"] = round((time.perf_counter() - t0) * 1000, 2)
            except Exception as exc:
                log.warning("gate failed: %s", getattr(exc, "code", type(exc).__name__))
                passage = "fault"
            self._enter(txn, State.DONE)
            self.bus.publish(Finished(txn, "accepted" if passage == "passed" else "fault"))
            return TransactionOutcome(txn, decision.decision, reasons, "accepted", timings, facts)
        self._enter(txn, State.REFER)
        outcome = "referred" if decision.decision is Decision.REFER else "rejected"
        self.bus.publish(Finished(txn, outcome))
        return TransactionOutcome(txn, decision.decision, reasons, outcome, timings, facts)

    def _day(self) -> date:
        return (self._today or datetime.now(UTC)).date()
