"""GIVEN the session engine over real device executors WHEN a chip step times out, a reader
call hangs, the passport leaves before the decision or the passage fails THEN the step's
device work is stopped and joined before the next transaction, a hung reader puts the lane out
of service for a bounded wait (never blocking the next traveller forever), and every ending is
a typed outcome with its record."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from hardware.executor import CancelToken, DeviceExecutor
from hardware.sim.chip_reader import SimulatedChipReader
from kiosk.device_threads import KINDS, DeviceThreads
from kiosk.lane import Lane, LaneCause
from kiosk.policy.config import PolicyConfig
from kiosk.policy.engine import DocumentFacts, PolicyEngine
from kiosk.session.engine import SessionEngine, SessionTimeouts
from kiosk.session.events import Decided, Fault, Finished, SessionEvent, State, StateEntered
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
from models.records import CheckStatus, DecidedTransaction, Decision

WAIT_S = 10.0
CHECKS = dict.fromkeys(
    ("sod_signature", "chain", "revocation", "hashes", "mrz_consistency", "issuer_consistency"),
    CheckStatus.PASSED,
)


class SlowCard:
    """Each APDU waits for ``release`` (set: answers at once)."""

    atr = bytes.fromhex("3B8880014D52544430303031D8")

    def __init__(self) -> None:
        self.apdus = 0
        self.release = threading.Event()
        self.release.set()

    def transmit(self, apdu: bytes) -> bytes:
        self.apdus += 1
        self.release.wait(WAIT_S)
        return b"\x90\x00"


class DevicePipeline:
    """Reads the 'chip' with APDUs on the reader's executor; every other step is scripted."""

    def __init__(self, reader: SimulatedChipReader) -> None:
        self.reader = reader
        self.recorded: list[DecidedTransaction] = []
        self.idle_at_document: list[bool] = []
        self.passage = PassageResult.PASSED
        self.apdus_per_read = 3

    def read_document(self, lines: list[str]) -> DocumentStep:
        executor = self.reader.executor
        assert executor is not None
        self.idle_at_document.append(executor.idle)
        facts = DocumentFacts("P", "LCA", "LCA", date(1980, 1, 1), date(2031, 1, 1))
        return DocumentStep(True, facts, "x")

    def _read(self) -> None:
        self.reader.connect()
        try:
            for _ in range(self.apdus_per_read):
                self.reader.transmit(b"\x00\xb0\x00\x00\x00")
        finally:
            self.reader.disconnect()

    def read_chip(self, document: DocumentStep, cancel: threading.Event) -> ChipStep:
        executor = self.reader.executor
        assert executor is not None and isinstance(cancel, CancelToken)
        executor.call(self._read, token=cancel)
        return ChipStep(True, dict(CHECKS), True, b"portrait", "PACE")

    def capture_face(self, cancel: threading.Event, guidance: GuidanceSink) -> CaptureStep:
        return CaptureStep(True, best_frame=object())

    def check_liveness(self, capture: CaptureStep) -> LivenessStep:
        return LivenessStep(True)

    def match_face(self, capture: CaptureStep, chip: ChipStep) -> MatchStep:
        return MatchStep(0.3)

    def release_reference(self, chip: ChipStep | None) -> None:
        return None

    def screen(self, document: DocumentStep) -> ScreeningStep:
        return ScreeningStep(False, 0, 0.5, None)

    def record(self, record: DecidedTransaction) -> None:
        self.recorded.append(record)

    def pass_gate(self, transaction_id: str, cancel: threading.Event) -> PassageResult:
        return self.passage

    def face_threshold(self) -> float:
        return 0.5


@pytest.fixture
def threads() -> Iterator[DeviceThreads]:
    device_threads = DeviceThreads(**{k: DeviceExecutor(k, join_s=0.3) for k in KINDS})
    device_threads.start()
    yield device_threads
    device_threads.close()


@pytest.fixture
def reader(threads: DeviceThreads) -> Iterator[SimulatedChipReader]:
    chip_reader = SimulatedChipReader()
    chip_reader.bind_executor(threads.chip_reader)
    threads.chip_reader.call(chip_reader.open)
    yield chip_reader
    threads.chip_reader.call(chip_reader.close)


def _engine(
    pipeline: DevicePipeline, threads: DeviceThreads, lane: Lane, **timeouts: float
) -> tuple[SessionEngine, list[SessionEvent]]:
    events: list[SessionEvent] = []
    engine = SessionEngine(
        pipeline,
        PolicyEngine(PolicyConfig()),
        today=datetime(2026, 11, 22, tzinfo=UTC),
        timeouts=SessionTimeouts(**timeouts),
        devices=threads,
        lane=lane,
    )
    engine.bus.subscribe(events.append)
    return engine, events


def test_the_next_transaction_starts_only_after_the_timed_out_read_was_joined(
    threads: DeviceThreads, reader: SimulatedChipReader
) -> None:
    card = SlowCard()
    card.release.clear()
    reader.insert(card)
    pipeline = DevicePipeline(reader)
    threads.chip_reader.join_s = 30.0  # a generous bound: the join ends when the job does
    engine, _ = _engine(pipeline, threads, Lane(), chip_s=0.05, join_s=30.0)
    # the APDU in flight comes back 0.15 s later, long after the step's time-out
    timer = threading.Timer(0.15, card.release.set)
    timer.start()
    first = engine.run_transaction(["L1"])
    timer.join()
    assert first.decision is Decision.REFER and "system_malfunction" in first.reasons
    apdus_after_first = card.apdus
    assert apdus_after_first == 1  # cancelled: the read stopped before its second APDU
    second = engine.run_transaction(["L1"])
    assert second.outcome is Outcome.ACCEPTED
    # THEN the second transaction began with the reader idle: the first read had been joined
    assert pipeline.idle_at_document == [True, True]
    assert card.apdus == apdus_after_first + pipeline.apdus_per_read


def test_a_hung_chip_reader_call_is_a_typed_fault_and_the_lane_goes_out_of_service(
    threads: DeviceThreads, reader: SimulatedChipReader
) -> None:
    card = SlowCard()
    card.release.clear()  # the reader never answers ...
    reader.insert(card)
    lane = Lane()
    pipeline = DevicePipeline(reader)
    engine, events = _engine(pipeline, threads, lane, chip_s=0.05, join_s=0.3)
    try:
        first = engine.run_transaction(["L1"])
        assert first.decision is Decision.REFER and "system_malfunction" in first.reasons
        assert lane.has(LaneCause.DEVICE_FAULT, "chip_reader:hung") and not lane.in_service
        # WHEN the next traveller comes THEN they are not held: a typed fault, nothing decided
        events.clear()
        second = engine.run_transaction(["L1"])
        assert second.outcome is Outcome.DEVICE_FAULT and second.decision is None
        faults = [e for e in events if isinstance(e, Fault)]
        assert [f.code for f in faults] == ["device_busy"]
        assert not any(isinstance(e, StateEntered) and e.state is State.CHIP for e in events)
        assert len(pipeline.recorded) == 1
    finally:
        card.release.set()  # ... until it does
    assert threads.chip_reader.wait_idle(WAIT_S)
    assert lane.in_service
    assert engine.run_transaction(["L1"]).outcome is Outcome.ACCEPTED


def test_taking_the_passport_away_at_the_camera_ends_without_a_decision(
    threads: DeviceThreads, reader: SimulatedChipReader
) -> None:
    reader.insert(SlowCard())
    pipeline = DevicePipeline(reader)
    engine, events = _engine(pipeline, threads, Lane())

    def remove_at_camera(event: SessionEvent) -> None:
        if isinstance(event, StateEntered) and event.state is State.FACE_CAPTURE:
            engine.passport_removed()

    engine.bus.subscribe(remove_at_camera)
    outcome = engine.run_transaction(["L1"])
    assert outcome.outcome is Outcome.PASSPORT_REMOVED and outcome.decision is None
    assert pipeline.recorded == []
    assert [e.outcome for e in events if isinstance(e, Finished)] == ["passport_removed"]
    assert not any(isinstance(e, Decided) for e in events)


def test_a_removal_after_the_decision_does_not_stop_the_passage(
    threads: DeviceThreads, reader: SimulatedChipReader
) -> None:
    reader.insert(SlowCard())
    pipeline = DevicePipeline(reader)
    engine, _ = _engine(pipeline, threads, Lane())

    def remove_at_gate(event: SessionEvent) -> None:
        if isinstance(event, StateEntered) and event.state is State.GATE:
            engine.passport_removed()  # the traveller takes the passport and walks in

    engine.bus.subscribe(remove_at_gate)
    assert engine.run_transaction(["L1"]).outcome is Outcome.ACCEPTED


@pytest.mark.parametrize(
    ("passage", "outcome", "reason"),
    [
        (PassageResult.TAILGATING, Outcome.TAILGATING, "tailgating"),
        (PassageResult.TIMEOUT, Outcome.PASSAGE_TIMEOUT, "passage_timeout"),
        (PassageResult.GATE_FAULT, Outcome.GATE_FAULT, "system_malfunction"),
    ],
)
def test_a_failed_passage_is_a_referral_recorded_after_the_accept(
    threads: DeviceThreads,
    reader: SimulatedChipReader,
    passage: PassageResult,
    outcome: Outcome,
    reason: str,
) -> None:
    reader.insert(SlowCard())
    pipeline = DevicePipeline(reader)
    pipeline.passage = passage
    engine, _ = _engine(pipeline, threads, Lane())
    result = engine.run_transaction(["L1"])
    assert result.outcome is outcome and result.passage is passage
    assert result.decision is Decision.REFER and result.reasons == (reason,)
    accepted, referral = pipeline.recorded
    assert accepted.decision is Decision.ACCEPT  # recorded before the gate moved
    assert referral.transaction_id == accepted.transaction_id + "-passage"
    assert [r.value for r in referral.reasons] == [reason]


def test_an_mrz_reader_that_loses_sight_of_the_document_after_the_chip_read_stops_nothing(
    threads: DeviceThreads, reader: SimulatedChipReader
) -> None:
    reader.insert(SlowCard())
    pipeline = DevicePipeline(reader)
    engine, _ = _engine(pipeline, threads, Lane())

    def mrz_gone_at_camera(event: SessionEvent) -> None:
        if isinstance(event, StateEntered) and event.state is State.FACE_CAPTURE:
            engine.document_removed()  # a serial reader's presence time-out, say

    engine.bus.subscribe(mrz_gone_at_camera)
    assert engine.run_transaction(["L1"]).outcome is Outcome.ACCEPTED
