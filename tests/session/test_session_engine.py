"""GIVEN a pipeline whose steps behave in a scripted way WHEN the engine runs a transaction
THEN the states, events, retries, timeouts and the decision are right.

The pipeline here is a scripted port (the real one is wired in kiosk.session.pipeline and
exercised by the demo tests); what is under test is the state machine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from kiosk.policy.config import PolicyConfig
from kiosk.policy.engine import DocumentFacts, PolicyEngine
from kiosk.session.engine import SessionEngine, SessionTimeouts
from kiosk.session.events import Decided, Finished, Guidance, SessionEvent, State, StateEntered
from kiosk.session.steps import (
    CaptureStep,
    ChipStep,
    DocumentStep,
    GuidanceSink,
    LivenessStep,
    MatchStep,
    Outcome,
    PassageResult,
    ScreeningStep,
)
from models.errors import DeviceError
from models.records import CheckStatus, DecidedTransaction, Decision

PASSED = CheckStatus.PASSED
CHECKS = {
    n: PASSED
    for n in (
        "sod_signature",
        "chain",
        "revocation",
        "hashes",
        "active_authentication",
        "mrz_consistency",
        "issuer_consistency",
    )
}


class ScriptedPipeline:
    def __init__(self) -> None:
        self.distances: list[float | None] = [0.3]
        self.live = True
        self.chip_error: Exception | None = None
        self.chip_delay_s = 0.0
        self.record_error: Exception | None = None
        self.recorded: list[DecidedTransaction] = []
        self.passage = PassageResult.PASSED
        self.gate_calls = 0
        self.gate_persons: list[int] = []
        self.captures = 0
        self.capture_error: Exception | None = None
        self.released: list[ChipStep | None] = []

    def read_document(self, lines: list[str]) -> DocumentStep:
        facts = DocumentFacts("P", "LCA", "LCA", date(1980, 1, 1), date(2031, 1, 1))
        return DocumentStep(True, facts, "x")

    def read_chip(self, document: DocumentStep, cancel: threading.Event) -> ChipStep:
        deadline = time.monotonic() + self.chip_delay_s
        while time.monotonic() < deadline and not cancel.is_set():
            time.sleep(0.01)
        if self.chip_error:
            raise self.chip_error
        return ChipStep(True, dict(CHECKS), True, b"portrait", "PACE")

    def capture_face(
        self, cancel: threading.Event, guidance: GuidanceSink, challenge: object = None
    ) -> CaptureStep:
        self.captures += 1
        if self.capture_error:
            raise self.capture_error
        guidance("look_at_camera", "Please look at the camera")
        return CaptureStep(True, best_frame=object())

    def check_liveness(self, capture: CaptureStep) -> LivenessStep:
        return LivenessStep(self.live, None if self.live else "printed_photo")

    def match_face(self, capture: CaptureStep, chip: ChipStep) -> MatchStep:
        return MatchStep(self.distances.pop(0) if len(self.distances) > 1 else self.distances[0])

    def release_reference(self, chip: ChipStep | None) -> None:
        self.released.append(chip)

    def screen(self, document: DocumentStep) -> ScreeningStep:
        return ScreeningStep(False, 0, 0.5, True)

    def record(self, record: DecidedTransaction) -> None:
        if self.record_error:
            raise self.record_error
        self.recorded.append(record)

    def record_all(self, records: Sequence[DecidedTransaction]) -> None:
        if self.record_error:
            raise self.record_error
        self.recorded.extend(records)

    def pass_gate(
        self, transaction_id: str, cancel: threading.Event, persons: int = 1
    ) -> PassageResult:
        self.gate_calls += 1
        self.gate_persons.append(persons)
        return self.passage

    def face_threshold(self) -> float:
        return 0.5


def make_engine(pipeline: ScriptedPipeline, **kw: Any) -> tuple[SessionEngine, list[SessionEvent]]:
    events: list[SessionEvent] = []
    engine = SessionEngine(
        pipeline, PolicyEngine(PolicyConfig()), today=datetime(2026, 11, 22, tzinfo=UTC), **kw
    )
    engine.bus.subscribe(events.append)
    return engine, events


def states(events: list[SessionEvent]) -> list[State]:
    return [e.state for e in events if isinstance(e, StateEntered)]


def test_an_accepted_transaction_walks_every_state_in_order() -> None:
    pipeline = ScriptedPipeline()
    engine, events = make_engine(pipeline)
    outcome = engine.run_transaction(["L1", "L2"])
    assert outcome.decision is Decision.ACCEPT
    assert states(events) == [
        State.DOCUMENT,
        State.CHIP,
        State.FACE_CAPTURE,
        State.LIVENESS,
        State.MATCHING,
        State.SCREENING,
        State.DECISION,
        State.GATE,
        State.DONE,
        State.WAITING,
    ]
    assert pipeline.gate_calls == 1 and len(pipeline.recorded) == 1
    assert any(isinstance(e, Guidance) for e in events)
    assert [e.outcome for e in events if isinstance(e, Finished)] == ["accepted"]


def test_a_mismatch_retries_up_to_three_attempts_then_refers() -> None:
    pipeline = ScriptedPipeline()
    pipeline.distances = [0.7, 0.7, 0.7]
    engine, events = make_engine(pipeline)
    outcome = engine.run_transaction(["L1", "L2"])
    assert pipeline.captures == 3
    assert states(events).count(State.RETRY) == 2
    assert outcome.decision is Decision.REFER
    assert outcome.reasons == ("biometric_mismatch",)
    assert pipeline.gate_calls == 0


def test_a_second_attempt_that_matches_is_accepted() -> None:
    pipeline = ScriptedPipeline()
    pipeline.distances = [0.7, 0.3]
    engine, _ = make_engine(pipeline)
    assert engine.run_transaction(["L1"]).decision is Decision.ACCEPT
    assert pipeline.captures == 2


def test_a_device_fault_refers_with_system_malfunction_and_keeps_the_gate_closed() -> None:
    pipeline = ScriptedPipeline()
    pipeline.chip_error = DeviceError("reader unplugged")
    engine, events = make_engine(pipeline)
    outcome = engine.run_transaction(["L1"])
    assert outcome.decision is Decision.REFER
    assert "system_malfunction" in outcome.reasons
    assert pipeline.gate_calls == 0 and len(pipeline.recorded) == 1


def test_a_hanging_step_times_out_into_a_referral() -> None:
    pipeline = ScriptedPipeline()
    pipeline.chip_delay_s = 30.0
    engine, _ = make_engine(pipeline, timeouts=SessionTimeouts(chip_s=0.2))
    outcome = engine.run_transaction(["L1"])
    # the chip step would have succeeded had the engine waited for it: the referral for a
    # system malfunction is the timeout's (no clock in the assertion)
    assert outcome.decision is Decision.REFER and "system_malfunction" in outcome.reasons
    assert "face" not in outcome.timings_ms and pipeline.captures == 0


def test_removing_the_passport_during_the_chip_read_cancels() -> None:
    pipeline = ScriptedPipeline()
    pipeline.chip_delay_s = 3.0
    engine, events = make_engine(pipeline)
    assert engine.document_presented(["L1"])
    deadline = time.monotonic() + 2
    while engine.state is not State.CHIP and time.monotonic() < deadline:
        time.sleep(0.01)
    engine.document_removed()
    assert engine.wait_idle(5.0)
    assert (
        engine.last_outcome is not None and engine.last_outcome.outcome is Outcome.PASSPORT_REMOVED
    )
    assert pipeline.recorded == [] and pipeline.gate_calls == 0
    assert not any(isinstance(e, Decided) for e in events)


class _PulledMidRead(ScriptedPipeline):
    """The card leaves the field during the chip read: the read fails at once, and the
    reader reports the removal only afterwards, from its own thread (as pcscd does)."""

    def __init__(self, report_removal: bool) -> None:
        super().__init__()
        self.report_removal = report_removal
        self.engine: SessionEngine | None = None
        self.failed = threading.Event()

    def read_chip(self, document: DocumentStep, cancel: threading.Event) -> ChipStep:
        if self.report_removal:
            threading.Thread(target=self._report, daemon=True).start()
        self.failed.set()
        raise DeviceError("the chip stopped answering")

    def _report(self) -> None:
        self.failed.wait(5)
        time.sleep(0.05)  # the report comes after the failure, never before
        assert self.engine is not None
        self.engine.passport_removed()


def test_a_card_pulled_mid_read_is_a_removal_even_when_the_reader_reports_it_late() -> None:
    pipeline = _PulledMidRead(report_removal=True)
    engine, events = make_engine(pipeline)
    pipeline.engine = engine
    assert engine.document_presented(["L1"])
    assert engine.wait_idle(10.0)
    assert engine.last_outcome is not None
    assert engine.last_outcome.outcome is Outcome.PASSPORT_REMOVED
    assert pipeline.recorded == [] and pipeline.gate_calls == 0
    assert not any(isinstance(e, Decided) for e in events)


def test_a_chip_that_goes_mute_on_the_reader_is_a_fault() -> None:
    # the card stays on the reader (no removal reported): the grace ends, the gate stays shut
    pipeline = _PulledMidRead(report_removal=False)
    engine, _ = make_engine(pipeline, timeouts=SessionTimeouts(removal_grace_s=0.2))
    pipeline.engine = engine
    assert engine.document_presented(["L1"])
    assert engine.wait_idle(10.0)
    outcome = engine.last_outcome
    assert outcome is not None and outcome.decision is Decision.REFER
    assert "system_malfunction" in outcome.reasons and pipeline.gate_calls == 0


def test_only_one_transaction_runs_at_a_time() -> None:
    pipeline = ScriptedPipeline()
    pipeline.chip_delay_s = 0.3
    engine, _ = make_engine(pipeline)
    assert engine.document_presented(["L1"])
    assert not engine.document_presented(["L1"])
    assert engine.wait_idle(5.0)


def test_a_failed_record_never_opens_the_gate() -> None:
    pipeline = ScriptedPipeline()
    pipeline.record_error = RuntimeError("disk full")
    engine, _ = make_engine(pipeline)
    outcome = engine.run_transaction(["L1"])
    assert outcome.decision is Decision.REFER and "system_malfunction" in outcome.reasons
    assert pipeline.gate_calls == 0


@pytest.mark.parametrize("live", [False])
def test_failed_liveness_refers(live: bool) -> None:
    pipeline = ScriptedPipeline()
    pipeline.live = live
    engine, _ = make_engine(pipeline)
    outcome = engine.run_transaction(["L1"])
    assert outcome.reasons == ("liveness_failed",)


def test_the_chip_photo_template_is_released_when_the_face_steps_end() -> None:
    # GIVEN a transaction that matches, and one whose camera fails during the capture
    accepted = ScriptedPipeline()
    faulty = ScriptedPipeline()
    faulty.capture_error = DeviceError("camera gone")
    for pipeline in (accepted, faulty):
        engine, _ = make_engine(pipeline)
        # WHEN each runs
        engine.run_transaction(["L1", "L2"])
        # THEN the chip step's reference is released exactly once, after the face steps
        assert len(pipeline.released) == 1
        released = pipeline.released[0]
        assert released is not None and released.portrait == b"portrait"
    assert faulty.recorded[0].decision is not Decision.ACCEPT
