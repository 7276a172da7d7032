"""The transaction state machine.

    waiting -> document -> chip -> face_capture -> liveness -> matching -> screening
            -> decision -> gate -> done
    plus: retry (another face attempt), refer (an officer decides), cancelled (passport
    removed, traveller gone, timeout), and fault (a device failed: refer, gate closed).

The engine runs each transaction on its own worker thread ("kiosk-session"); each step runs on
a step thread with a timeout, so a device that hangs becomes a referral and the engine goes
back to waiting. Every step publishes a plain-Python event for the UI.

Each transaction has its own :class:`~hardware.executor.CancelToken`: a step that times out, or
a passport taken off the reader before the decision, cancels it, so the device work of that
step stops (a chip read before its next APDU) and the step is joined before the transaction
ends. The transaction claims every device for itself (``kiosk.device_threads``); the next one
waits for the devices to be idle, for a bounded time: a driver call that never comes back puts
the lane out of service (``device_fault``) instead of blocking the next traveller.

The step records (``kiosk.session.steps``) are handed forward; what the policy reads and what
is recorded are built from them by the pure functions of ``kiosk.session.decided``.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from hardware.executor import CancelToken, DeviceBusyError, DeviceHungError
from kiosk.device_threads import DeviceThreads
from kiosk.lane import Lane, LaneCause
from kiosk.logs import transaction_context
from kiosk.policy.engine import PolicyDecision, PolicyEngine, Reason, TransactionFacts
from kiosk.session.decided import (
    TransactionEvidence,
    build_decided_transaction,
    build_passage_referral,
    referral_subject,
    transaction_facts,
)
from kiosk.session.events import (
    ChallengeAnnounced,
    Decided,
    DocumentRead,
    EventBus,
    Fault,
    Finished,
    Guidance,
    State,
    StateEntered,
)
from kiosk.session.family import FamilyIntake, run_family
from kiosk.session.prompts import ChallengePrompts
from kiosk.session.steps import (
    PASSAGE_OUTCOMES,
    CaptureStep,
    ChipStep,
    DocumentStep,
    FaceStep,
    LivenessStep,
    MatchStep,
    Outcome,
    PassageResult,
    Pipeline,
    ScreeningStep,
    StepFault,
)
from kiosk.session.transaction import (
    BEFORE_DECISION,
    PLACE_AGAIN_MESSAGES,
    RETRYABLE_CHIP_FAILURES,
    WHILE_READING,
    Cancelled,
    SessionTimeouts,
    StepTimeout,
    TransactionOutcome,
    new_transaction_id,
)
from models.records import DecidedTransaction, Decision, ReasonCode

log = logging.getLogger(__name__)
T = TypeVar("T")
__all__ = ["SessionEngine", "SessionTimeouts", "TransactionOutcome", "StepTimeout", "Cancelled"]


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
        devices: DeviceThreads | None = None,
        lane: Lane | None = None,
        read_attempts: int = 2,
        read_retry_window_s: float = 90.0,
    ) -> None:
        self.pipeline = pipeline
        # An MRZ or a chip that cannot be read is first placed again (up to read_attempts
        # reads in all within read_retry_window_s), then referred.
        self.read_attempts = read_attempts
        self.read_retry_window_s = read_retry_window_s
        self._read_failures = 0
        self._last_read_failure = 0.0
        self.policy = policy
        self.kiosk_id = kiosk_id
        self.max_face_attempts = max_face_attempts
        self.timeouts = timeouts or SessionTimeouts()
        self.bus = bus or EventBus()
        self.devices = devices
        self.lane = lane
        self._today = today
        self._token = CancelToken()
        self._removed = threading.Event()
        self._busy = threading.Lock()
        self._worker: threading.Thread | None = None
        self.state = State.WAITING
        self.last_outcome: TransactionOutcome | None = None
        # Whether the lane admits a traveller now (kiosk.app wires the lane's state here).
        self.admits: Callable[[], bool] = lambda: True
        # Whether the gate lets a group through (it counts persons; kiosk.app wires it).
        self.group_passage = False
        self.family = FamilyIntake(lambda: policy.config.family_max_members, self)
        self.prompts = ChallengePrompts()  # the traveller screen answers the challenge cues
        if devices is not None:
            devices.set_listeners(self._device_hung, self._device_recovered)

    # --- driving the engine -------------------------------------------------------------

    def start_family(self, members: int) -> bool:
        """The traveller chose a family transaction of ``members`` passports: the next
        document starts it (``kiosk.session.family``). False beyond the family limit."""
        return not self._busy.locked() and self.family.announce(members)

    def end_family(self) -> None:
        """The traveller left before placing a passport: the next one travels alone."""
        if not self._busy.locked():
            self.family.reset()

    def document_presented(self, lines: list[str]) -> bool:
        """Start a transaction on a worker thread (or hand a family's next passport to the
        transaction waiting for it); False when one is already running or the lane is out of
        service (no transaction starts then)."""
        if self.family.awaiting():
            return self.family.offer(lines)
        if not self.admits():
            log.info("lane out of service: no transaction started")
            return False
        if not self._busy.acquire(blocking=False):
            return False
        self._worker = threading.Thread(
            target=self._worker_main, args=(list(lines),), name="kiosk-session", daemon=True
        )
        self._worker.start()
        return True

    def passport_removed(self) -> None:
        """The chip left the reader's field: before the decision, that ends the transaction."""
        if self.state in BEFORE_DECISION:
            self._removed.set()
            self._token.cancel()

    def document_removed(self) -> None:
        """The MRZ reader no longer sees the document. Many readers only infer that (a time
        after the scan), so it ends the transaction only while the document and the chip are
        being read; later on, the chip reader's field is what tells (:meth:`passport_removed`).
        """
        if self.state in WHILE_READING:
            self._removed.set()
            self._token.cancel()

    def cancel(self) -> None:
        self._token.cancel()

    def _chip_went_away(self, exc: Exception) -> bool:
        """Whether the passport left the reader before or as the step failed. A chip read
        fails the moment the card leaves the field, and the reader reports the removal
        after that (its own event, on another thread): a failure of the chip read waits for
        that report, up to ``removal_grace_s``, before it counts as a fault."""
        if self._removed.is_set():
            return True
        if self.state is State.CHIP and not isinstance(exc, Cancelled):
            return self._removed.wait(self.timeouts.removal_grace_s)
        return False

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
            self.family.reset()
            self._busy.release()

    # --- devices ------------------------------------------------------------------------

    def _device_hung(self, device: str, what: str) -> None:
        if self.lane is not None:
            self.lane.set(LaneCause.DEVICE_FAULT, f"driver call hung: {what}", key=f"{device}:hung")

    def _device_recovered(self, device: str, what: str) -> None:
        if self.lane is not None:
            self.lane.clear(LaneCause.DEVICE_FAULT, key=f"{device}:hung")

    # --- one transaction ----------------------------------------------------------------

    def run_transaction(self, lines: list[str]) -> TransactionOutcome:
        txn = new_transaction_id(self.kiosk_id)
        token = self._token = CancelToken(txn)
        self._removed.clear()
        with transaction_context(txn):
            try:
                if self.devices is None:
                    return self._run(txn, lines, token)
                hung = self.devices.hung()
                if hung:  # no wait at all: the traveller is told at once
                    return self._not_started(txn, DeviceBusyError(f"{', '.join(hung)} hung"))
                # the previous transaction's device work is joined before this one may start
                self.devices.wait_idle(self.timeouts.join_s)
                try:
                    with self.devices.claimed(txn, timeout_s=self.timeouts.join_s):
                        return self._run(txn, lines, token)
                except DeviceBusyError as exc:
                    return self._not_started(txn, exc)
            finally:
                self._enter(None, State.WAITING)

    def _not_started(self, txn: str, exc: DeviceBusyError) -> TransactionOutcome:
        """A device is still stuck in an earlier call: nothing is read, nothing decided."""
        log.error("transaction not started: %s", exc)
        self.bus.publish(Fault(txn, exc.code, exc.user_message))
        self.bus.publish(Finished(txn, Outcome.DEVICE_FAULT))
        return TransactionOutcome(txn, None, (), Outcome.DEVICE_FAULT)

    def _enter(self, txn: str | None, state: State) -> None:
        self.state = state
        log.info("state %s", state.value)
        self.bus.publish(StateEntered(txn, state))

    def _step(
        self,
        txn: str,
        state: State,
        timeout_s: float,
        fn: Callable[..., T],
        *args: Any,
        token: CancelToken | None = None,
    ) -> T:
        """Run one step on its own thread; a time-out or a cancel stops it and joins it."""
        self._enter(txn, state)
        token = token or self._token
        if token.is_set():
            raise Cancelled("cancelled before " + state.value)
        future: Future[T] = Future()

        def body() -> None:
            try:
                future.set_result(fn(*args))
            except BaseException as exc:
                future.set_exception(exc)

        context = contextvars.copy_context()  # the step logs under the transaction id
        thread = threading.Thread(
            target=context.run, args=(body,), name=f"kiosk-step-{state.value}", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return future.result(timeout=0.05)
            except FutureTimeout:
                if token.is_set():
                    self._join(thread, state)
                    raise Cancelled("cancelled during " + state.value) from None
                if time.monotonic() > deadline:
                    token.cancel()  # the step's device work stops at its next driver call
                    self._join(thread, state)
                    raise StepTimeout(f"{state.value} took longer than {timeout_s:.0f}s") from None

    def _join(self, thread: threading.Thread, state: State) -> None:
        # A device step ends within join_s of the cancel (the executor bounds it); a step
        # doing pure computation may take longer but touches no device.
        thread.join(self.timeouts.join_s + 1.0)
        if thread.is_alive():
            log.error("step %s still running after cancel; it touches no device", state.value)

    def _run(self, txn: str, lines: list[str], token: CancelToken) -> TransactionOutcome:
        if self.family.size > 1:
            return run_family(self, txn, lines, token, self.family.size)
        timings: dict[str, float] = {}
        t_all = time.perf_counter()
        gathered = self.gather(txn, txn, lines, token, timings)
        if isinstance(gathered, Outcome):
            return self._ended_early(txn, gathered, timings)
        evidence, early = gathered
        threshold = self.pipeline.face_threshold()
        facts = transaction_facts(evidence, today=self._day(), face_threshold=threshold)
        self._enter(txn, State.DECISION)
        self._read_failures = 0  # a decision ends the traveller's read attempts
        refused = early is not None and evidence.fault is None
        decision = early if early is not None and refused else self.policy.decide(facts)
        timings["total_before_gate"] = round((time.perf_counter() - t_all) * 1000, 2)
        outcome = self._finish(txn, evidence, facts, decision, timings, token)
        timings["total"] = round((time.perf_counter() - t_all) * 1000, 2)
        return outcome

    def gather(
        self,
        txn: str,
        record_id: str,
        lines: list[str],
        token: CancelToken,
        timings: dict[str, float],
        *,
        in_family: bool = False,
    ) -> tuple[TransactionEvidence, PolicyDecision | None] | Outcome:
        """Read the passport, match the face and screen one traveller (one family member):
        the step records, and the refusal the MRZ alone made certain (then no chip, no
        camera); an :class:`Outcome` when the attempt ended before that (place the passport
        again, taken away, cancelled)."""
        started_at = datetime.now(UTC)
        document = DocumentStep(readable=False)
        chip: ChipStep | None = None
        face = FaceStep()
        screening: ScreeningStep | None = None
        fault: StepFault | None = None
        early: PolicyDecision | None = None  # refused from the MRZ, before chip and camera
        to = self.timeouts

        def timed(name: str, t0: float) -> None:
            timings[name] = round((time.perf_counter() - t0) * 1000, 2)

        try:
            t0 = time.perf_counter()
            document = self._step(
                txn, State.DOCUMENT, to.document_s, self.pipeline.read_document, lines
            )
            timed("document", t0)
            if document.readable and document.facts is not None:
                self.bus.publish(DocumentRead(txn, document.facts.nationality))
                early = self.policy.early_refusal(document.facts, self._day(), in_family=in_family)
            if not document.readable and self._place_again(txn, "document_unreadable"):
                return Outcome.PLACE_AGAIN
            if document.readable and early is None:
                t0 = time.perf_counter()
                chip = self._step(
                    txn, State.CHIP, to.chip_s, self.pipeline.read_chip, document, token
                )
                timed("chip", t0)
                if chip.failure in RETRYABLE_CHIP_FAILURES and self._place_again(
                    txn, "chip_unreadable"
                ):
                    return Outcome.PLACE_AGAIN
                if chip.document is not None:
                    # DG1, proven by Passive Authentication, not what the page shows: what
                    # screening, the policy and the record use
                    document = chip.document
                try:
                    face = self._face(txn, chip, timings, token)
                finally:  # the chip photo's template is cancelled or joined, never left running
                    self.pipeline.release_reference(chip)
                t0 = time.perf_counter()
                screening = self._step(
                    txn, State.SCREENING, to.screening_s, self.pipeline.screen, document
                )
                timed("screening", t0)
        except Exception as exc:
            if self._chip_went_away(exc):  # whatever the step raised once the passport left
                return Outcome.PASSPORT_REMOVED
            if isinstance(exc, Cancelled):
                return Outcome.CANCELLED
            # any device or system fault: refer, gate stays closed
            code = str(getattr(exc, "code", type(exc).__name__))
            log.warning("step %s failed: %s", self.state.value, code)
            fault = StepFault(self.state.value, code)
            if isinstance(exc, DeviceHungError):
                log.error("a device is hung; the lane is out of service until it answers")
            self.bus.publish(Fault(txn, code, "Please see an officer."))

        evidence = TransactionEvidence(
            transaction_id=record_id,
            kiosk_id=self.kiosk_id,
            started_at=started_at,
            document=document,
            chip=chip,
            face=face,
            screening=screening,
            fault=fault,
            timings_ms=timings,
        )
        return evidence, early

    def _place_again(self, txn: str, cause: str) -> bool:
        """Whether the traveller gets another read (they are told why); False once the
        attempts are used up, and the transaction goes on to a referral."""
        now = time.monotonic()
        if now - self._last_read_failure > self.read_retry_window_s:
            self._read_failures = 0  # a new traveller, or a long pause: attempts start again
        self._read_failures += 1
        self._last_read_failure = now
        if self._read_failures >= self.read_attempts:
            log.info("%s after %d reads: referred", cause, self._read_failures)
            self._read_failures = 0
            return False
        log.info("%s: the traveller is asked to place the passport again", cause)
        self.bus.publish(Guidance(txn, cause, PLACE_AGAIN_MESSAGES[cause]))
        return True

    def _ended_early(
        self, txn: str, outcome: Outcome, timings: dict[str, float]
    ) -> TransactionOutcome:
        log.info("transaction ended before the decision: %s", outcome.value)
        # the screen: place the passport again, or the check stopped and take your passport
        self._enter(txn, State.PLACE_AGAIN if outcome is Outcome.PLACE_AGAIN else State.CANCELLED)
        self.bus.publish(Finished(txn, outcome))
        return TransactionOutcome(txn, None, (), outcome, timings)

    def _face(
        self, txn: str, chip: ChipStep, timings: dict[str, float], token: CancelToken
    ) -> FaceStep:
        """Up to max_face_attempts of capture, liveness and matching."""
        to = self.timeouts
        face = FaceStep()
        if not chip.read or chip.portrait is None:
            return face

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
                token,
                guidance,
                lambda: self._announce_challenge(txn, token),
            )
            timings[f"face_capture_{attempt}"] = round((time.perf_counter() - t0) * 1000, 2)
            face = FaceStep(attempt, face.liveness, face.match)
            if not capture.ok:
                continue
            t0 = time.perf_counter()
            live: LivenessStep = self._step(
                txn, State.LIVENESS, to.liveness_s, self.pipeline.check_liveness, capture
            )
            timings[f"liveness_{attempt}"] = round((time.perf_counter() - t0) * 1000, 2)
            t0 = time.perf_counter()
            match: MatchStep = self._step(
                txn, State.MATCHING, to.matching_s, self.pipeline.match_face, capture, chip
            )
            timings[f"matching_{attempt}"] = round((time.perf_counter() - t0) * 1000, 2)
            face = FaceStep(attempt, live, match)
            distance = match.distance
            if live.live and distance is not None and distance <= self.pipeline.face_threshold():
                break
            if match.reference_unusable:  # the chip photo, not the traveller: no retry helps
                break
        return face

    def _announce_challenge(self, txn: str, token: CancelToken) -> bool:
        """The liveness screen and its prompt, before the frames that judge it: waits until
        the traveller screen presented it (``kiosk.session.prompts``)."""
        cue = self.prompts.announce()
        self._enter(txn, State.LIVENESS)
        self.bus.publish(ChallengeAnnounced(txn, "liveness_challenge", cue))
        presented = self.prompts.wait(cue, self.timeouts.prompt_s, token)
        if not presented and not token.is_set():
            log.info("liveness prompt not confirmed by the screen in time")
        return presented

    def _finish(
        self,
        txn: str,
        evidence: TransactionEvidence,
        facts: TransactionFacts,
        decision: PolicyDecision,
        timings: dict[str, float],
        token: CancelToken,
    ) -> TransactionOutcome:
        # The record (with its outbox row and audit entry) is written before the gate moves:
        # a decision that was acted on always exists.
        record: DecidedTransaction | None = None
        try:
            record = build_decided_transaction(
                evidence,
                decision,
                face_threshold=self.pipeline.face_threshold(),
                decided_at=datetime.now(UTC),
            )
            self.pipeline.record(record)
        except Exception as exc:
            log.error("recording failed: %s", getattr(exc, "code", type(exc).__name__))
            record = None
            decision = PolicyDecision(
                Decision.REFER,
                (*decision.reasons, Reason(ReasonCode.SYSTEM_MALFUNCTION, "record not stored")),
            )
        reasons = tuple(decision.reason_codes)
        self.bus.publish(Decided(txn, decision.decision.value, reasons, dict(timings)))
        log.info("decision %s reasons=%s", decision.decision.value, ",".join(reasons) or "-")
        if decision.decision is Decision.ACCEPT and record is not None:
            return self._passage(txn, evidence, record, facts, timings, token)
        self._enter(txn, State.REFER)
        outcome = Outcome.REFERRED if decision.decision is Decision.REFER else Outcome.REJECTED
        self.bus.publish(Finished(txn, outcome))
        return TransactionOutcome(txn, decision.decision, reasons, outcome, timings, facts)

    def _passage(
        self,
        txn: str,
        evidence: TransactionEvidence,
        accepted: DecidedTransaction,
        facts: TransactionFacts,
        timings: dict[str, float],
        token: CancelToken,
    ) -> TransactionOutcome:
        """Walk the traveller through the gate; a passage that fails is referred."""
        t0 = time.perf_counter()
        try:
            passage = PassageResult(
                self._step(
                    txn, State.GATE, self.timeouts.gate_s, self.pipeline.pass_gate, txn, token
                )
            )
            timings["gate"] = round((time.perf_counter() - t0) * 1000, 2)
        except Exception as exc:
            log.warning("gate failed: %s", getattr(exc, "code", type(exc).__name__))
            passage = PassageResult.GATE_FAULT
        log.info("passage %s", passage.value)
        outcome = PASSAGE_OUTCOMES[passage]
        if passage is PassageResult.PASSED:
            self._enter(txn, State.DONE)
            self.bus.publish(Finished(txn, outcome))
            return TransactionOutcome(
                txn, Decision.ACCEPT, (), outcome, timings, facts, passage=passage
            )
        referral = build_passage_referral(
            accepted,
            passage,
            referral_subject(evidence.document, evidence.screening),
            decided_at=datetime.now(UTC),
            timings_ms=timings,
        )
        try:
            self.pipeline.record(referral)
        except Exception as exc:  # the gate is closed; the log and the event still say why
            log.error("passage referral not stored: %s", getattr(exc, "code", type(exc).__name__))
        reasons = tuple(reason.value for reason in referral.reasons)
        self.bus.publish(Decided(txn, Decision.REFER.value, reasons, dict(timings)))
        self._enter(txn, State.REFER)
        self.bus.publish(Finished(txn, outcome))
        return TransactionOutcome(
            txn, Decision.REFER, reasons, outcome, timings, facts, passage=passage
        )

    def _day(self) -> date:
        return (self._today or datetime.now(UTC)).date()
