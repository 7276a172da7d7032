"""GIVEN the session engine WHEN the MRZ or the chip cannot be read, or the MRZ shows a
traveller this gate may not take THEN the traveller is asked to place the passport again (up
to the configured reads, told why) before a referral, and a minor or an ineligible passport is
referred at the passport step, before the chip and the camera."""

from __future__ import annotations

import threading
from datetime import date

from kiosk.policy.engine import DocumentFacts
from kiosk.session.events import Guidance, State
from kiosk.session.steps import ChipFailure, ChipStep, DocumentStep, Outcome
from models.records import Decision, ReasonCode

from .test_session_engine import ScriptedPipeline, make_engine, states


class UnreadablePipeline(ScriptedPipeline):
    """Fails the first ``fail_documents`` MRZ reads and the first ``fail_chips`` chip reads."""

    def __init__(
        self,
        fail_documents: int = 0,
        fail_chips: int = 0,
        chip_failure: ChipFailure = ChipFailure.NO_CHIP,
    ) -> None:
        super().__init__()
        self.fail_documents, self.fail_chips = fail_documents, fail_chips
        self.chip_failure = chip_failure
        self.documents = self.chips = 0
        self.birth = date(1980, 1, 1)

    def read_document(self, lines: list[str]) -> DocumentStep:
        self.documents += 1
        if self.documents <= self.fail_documents:
            return DocumentStep(False)
        facts = DocumentFacts("P", "LCA", "LCA", self.birth, date(2031, 1, 1))
        return DocumentStep(True, facts, "x")

    def read_chip(self, document: DocumentStep, cancel: threading.Event) -> ChipStep:
        self.chips += 1
        if self.chips <= self.fail_chips:
            return ChipStep(False, failure=self.chip_failure)
        return super().read_chip(document, cancel)


def test_an_unreadable_chip_is_placed_again_and_then_read() -> None:
    pipeline = UnreadablePipeline(fail_chips=1)
    engine, events = make_engine(pipeline, read_attempts=2)
    # WHEN the first read finds no chip
    first = engine.run_transaction(["L1", "L2"])
    # THEN nothing is decided; the traveller is told why and asked to place it again
    assert first.outcome is Outcome.PLACE_AGAIN and first.decision is None
    assert State.PLACE_AGAIN in states(events)
    assert [e.code for e in events if isinstance(e, Guidance)] == ["chip_unreadable"]
    assert pipeline.captures == 0 and not pipeline.recorded
    # AND the second placing is read and the traveller accepted
    second = engine.run_transaction(["L1", "L2"])
    assert second.decision is Decision.ACCEPT
    assert len(pipeline.recorded) == 1


def test_after_the_configured_reads_the_traveller_is_referred() -> None:
    pipeline = UnreadablePipeline(fail_documents=5)
    engine, events = make_engine(pipeline, read_attempts=3)
    outcomes = [engine.run_transaction(["x"]).outcome for _ in range(3)]
    assert outcomes == [Outcome.PLACE_AGAIN, Outcome.PLACE_AGAIN, Outcome.REFERRED]
    assert ReasonCode.DOCUMENT_UNREADABLE in pipeline.recorded[-1].reasons
    # the next traveller starts with every read again
    assert engine.run_transaction(["x"]).outcome is Outcome.PLACE_AGAIN


def test_one_read_attempt_means_no_second_try() -> None:
    pipeline = UnreadablePipeline(fail_chips=1, chip_failure=ChipFailure.ACCESS_DENIED)
    engine, _ = make_engine(pipeline, read_attempts=1)
    assert engine.run_transaction(["x"]).outcome is Outcome.REFERRED


def test_chip_data_that_does_not_parse_is_never_retried() -> None:
    # malformed chip data is a chip anomaly (maybe an attack), not a placing problem
    pipeline = UnreadablePipeline(fail_chips=1, chip_failure=ChipFailure.UNREADABLE)
    engine, _ = make_engine(pipeline, read_attempts=3)
    outcome = engine.run_transaction(["x"])
    assert outcome.outcome is Outcome.REFERRED
    assert ReasonCode.CHIP_ANOMALY in pipeline.recorded[0].reasons


def test_a_minor_is_referred_at_the_passport_step_before_chip_and_camera() -> None:
    pipeline = UnreadablePipeline()
    pipeline.birth = date(2016, 5, 1)  # ten years old on the engine's day
    engine, events = make_engine(pipeline)
    outcome = engine.run_transaction(["x"])
    assert outcome.decision is Decision.REFER
    assert pipeline.recorded[0].reasons == (ReasonCode.MINOR,)
    assert pipeline.chips == 0 and pipeline.captures == 0  # never reached chip or camera
    assert State.FACE_CAPTURE not in states(events) and State.CHIP not in states(events)
