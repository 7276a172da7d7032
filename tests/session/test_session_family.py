"""GIVEN the session engine with a scripted pipeline WHEN a family of travellers places its
passports one after another (all genuine, one impostor, an accompanied child, a child below
the accompanied age, a passport never placed, a failing store, a stranger in the gate) THEN the
family is decided as one: one passage for the group, or one referral with every member."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from kiosk.policy.config import PolicyConfig
from kiosk.policy.engine import DocumentFacts, PolicyEngine
from kiosk.session.engine import SessionEngine, SessionTimeouts
from kiosk.session.events import (
    Decided,
    FamilyProgress,
    Finished,
    SessionEvent,
    State,
    StateEntered,
)
from kiosk.session.steps import DocumentStep, MatchStep, Outcome, PassageResult
from kiosk.session.transaction import TransactionOutcome
from models.records import CheckStatus, Decision
from tests.session.test_session_engine import ScriptedPipeline

TODAY = datetime(2026, 11, 22, tzinfo=UTC)
BIRTHS = {
    "ADULT1": date(1980, 1, 1),
    "ADULT2": date(1984, 5, 5),
    "CHILD12": date(2014, 6, 2),  # twelve
    "CHILD8": date(2018, 6, 2),  # eight
}


class FamilyPipeline(ScriptedPipeline):
    """Each passport's first MRZ line names its holder; ``impostors`` are not their photo."""

    def __init__(self, impostors: Sequence[str] = ()) -> None:
        super().__init__()
        self.impostors = set(impostors)
        self.holder: str | None = None
        self.chips: list[str] = []

    def read_document(self, lines: list[str]) -> DocumentStep:
        self.holder = lines[0]
        facts = DocumentFacts("P", "LCA", "LCA", BIRTHS[lines[0]], date(2031, 1, 1))
        return DocumentStep(True, facts, "x")

    def read_chip(self, document: DocumentStep, cancel: threading.Event) -> Any:
        assert self.holder is not None
        self.chips.append(self.holder)
        return super().read_chip(document, cancel)

    def match_face(self, capture: Any, chip: Any) -> MatchStep:
        return MatchStep(0.9 if self.holder in self.impostors else 0.3)


def family_policy(**settings: Any) -> PolicyConfig:
    return PolicyConfig.model_validate({"family_max_members": 4, **settings})


class Family:
    """Runs a family transaction on its own thread, placing each passport when asked."""

    def __init__(self, pipeline: FamilyPipeline, policy: PolicyConfig, **timeouts: float) -> None:
        self.events: list[SessionEvent] = []
        self.engine = SessionEngine(
            pipeline,
            PolicyEngine(policy),
            today=TODAY,
            timeouts=SessionTimeouts(**timeouts) if timeouts else None,
        )
        self.engine.group_passage = True
        self.asked = threading.Semaphore(0)
        self.engine.bus.subscribe(self._on_event)

    def _on_event(self, event: SessionEvent) -> None:
        self.events.append(event)
        if isinstance(event, StateEntered) and event.state is State.FAMILY_NEXT:
            self.asked.release()

    def run(self, holders: Sequence[str], place: int | None = None) -> TransactionOutcome:
        """The first passport starts the transaction; ``place`` of them are placed in all."""
        assert self.engine.start_family(len(holders))
        result: list[TransactionOutcome] = []
        worker = threading.Thread(
            target=lambda: result.append(self.engine.run_transaction([holders[0]]))
        )
        worker.start()
        for holder in holders[1 : place if place is not None else len(holders)]:
            assert self.asked.acquire(timeout=30.0), "the next passport was never asked for"
            assert self.engine.document_presented([holder])
        worker.join(60.0)
        assert result, "the family transaction did not end"
        return result[0]

    def states(self) -> list[State]:
        return [e.state for e in self.events if isinstance(e, StateEntered)]


def test_a_genuine_family_passes_through_one_opening_of_the_gate() -> None:
    # GIVEN a family of three announced at the gate
    pipeline = FamilyPipeline()
    family = Family(pipeline, family_policy())
    # WHEN each member's passport is read and face matched, one after another
    outcome = family.run(["ADULT1", "ADULT2", "ADULT1"])
    # THEN the family is accepted and passes as one group of three
    assert outcome.decision is Decision.ACCEPT and outcome.outcome is Outcome.ACCEPTED
    assert pipeline.gate_persons == [3]
    assert [e.member for e in family.events if isinstance(e, FamilyProgress)] == [1, 2, 3]
    assert family.states().count(State.FAMILY_NEXT) == 2
    assert family.states()[-3:] == [State.GATE, State.DONE, State.WAITING]
    # AND every member has a record of their own, tied to the family
    ids = [r.transaction_id for r in pipeline.recorded]
    assert ids == [f"{outcome.transaction_id}-m{k}" for k in (1, 2, 3)]
    for position, record in enumerate(pipeline.recorded, 1):
        assert record.decision is Decision.ACCEPT
        check = next(c for c in record.checks if c.name == "family")
        assert check.status is CheckStatus.PASSED
        assert check.message == f"family {outcome.transaction_id}: member {position} of 3"
        assert {c.name for c in record.checks} >= {"face_match", "liveness"}


def test_one_impostor_refers_the_whole_family_and_nobody_passes() -> None:
    pipeline = FamilyPipeline(impostors=["ADULT2"])
    family = Family(pipeline, family_policy())
    outcome = family.run(["ADULT1", "ADULT2"])
    assert outcome.decision is Decision.REFER and outcome.outcome is Outcome.REFERRED
    assert pipeline.gate_calls == 0
    decided = [e for e in family.events if isinstance(e, Decided)]
    assert len(decided) == 1  # one family referral
    assert set(decided[0].reasons) == {"biometric_mismatch", "family_referral"}
    first, second = pipeline.recorded
    assert first.decision is second.decision is Decision.REFER
    assert [r.value for r in first.reasons] == ["family_referral"]
    assert "biometric_mismatch" in [r.value for r in second.reasons]
    assert first.needs_referral and second.needs_referral  # every member to the officer
    face = next(c for c in second.checks if c.name == "face_match")
    assert face.status is CheckStatus.FAILED


def test_a_child_from_the_accompanied_age_passes_with_an_adult_of_the_family() -> None:
    pipeline = FamilyPipeline()
    family = Family(pipeline, family_policy(accompanied_from_age=10))
    outcome = family.run(["CHILD12", "ADULT1"])  # the child's passport first
    assert outcome.decision is Decision.ACCEPT
    assert pipeline.chips == ["CHILD12", "ADULT1"]  # read to the end, camera included
    assert pipeline.gate_persons == [2]


def test_two_children_without_an_adult_are_referred() -> None:
    pipeline = FamilyPipeline()
    family = Family(pipeline, family_policy(accompanied_from_age=10))
    outcome = family.run(["CHILD12", "CHILD12"])
    assert outcome.decision is Decision.REFER
    assert {r.value for rec in pipeline.recorded for r in rec.reasons} == {"minor"}
    assert pipeline.gate_calls == 0


def test_a_child_below_the_accompanied_age_is_told_at_the_passport_step() -> None:
    # GIVEN a family whose second member is eight (the policy accompanies from ten)
    pipeline = FamilyPipeline()
    family = Family(pipeline, family_policy(accompanied_from_age=10))
    # WHEN the eight-year-old's passport is read
    outcome = family.run(["ADULT1", "CHILD8", "ADULT2"], place=2)
    # THEN the family is referred at once: no chip, no camera for the child, no third
    # passport asked for
    assert outcome.decision is Decision.REFER
    assert pipeline.chips == ["ADULT1"]
    assert family.states().count(State.FAMILY_NEXT) == 1
    reasons = {r.value for rec in pipeline.recorded for r in rec.reasons}
    assert reasons == {"minor", "family_referral"}


def test_a_child_alone_is_referred_before_the_chip_even_from_the_accompanied_age() -> None:
    pipeline = FamilyPipeline()
    engine = SessionEngine(
        pipeline, PolicyEngine(family_policy(accompanied_from_age=10)), today=TODAY
    )
    outcome = engine.run_transaction(["CHILD12"])
    assert outcome.decision is Decision.REFER and outcome.reasons == ("minor",)
    assert pipeline.chips == [] and pipeline.captures == 0


def test_a_passport_never_placed_ends_the_family_with_no_decision() -> None:
    pipeline = FamilyPipeline()
    family = Family(pipeline, family_policy(), family_next_s=0.3)
    outcome = family.run(["ADULT1", "ADULT2"], place=1)
    assert outcome.outcome is Outcome.CANCELLED and outcome.decision is None
    assert pipeline.recorded == [] and pipeline.gate_calls == 0


def test_records_that_cannot_be_stored_keep_the_gate_closed() -> None:
    pipeline = FamilyPipeline()
    pipeline.record_error = RuntimeError("disk full")
    family = Family(pipeline, family_policy())
    outcome = family.run(["ADULT1", "ADULT2"])
    assert outcome.decision is Decision.REFER
    assert "system_malfunction" in outcome.reasons
    assert pipeline.gate_calls == 0


def test_a_stranger_in_the_gate_refers_every_member_after_the_accept() -> None:
    pipeline = FamilyPipeline()
    pipeline.passage = PassageResult.TAILGATING
    family = Family(pipeline, family_policy())
    outcome = family.run(["ADULT1", "ADULT2"])
    assert outcome.outcome is Outcome.TAILGATING and outcome.reasons == ("tailgating",)
    passage = [r for r in pipeline.recorded if r.transaction_id.endswith("-passage")]
    assert [r.transaction_id for r in passage] == [
        f"{outcome.transaction_id}-m1-passage",
        f"{outcome.transaction_id}-m2-passage",
    ]
    assert all(r.decision is Decision.REFER for r in passage)


@pytest.mark.parametrize(
    ("limit", "group_passage", "members", "allowed"),
    [
        (4, True, 3, True),
        (4, True, 5, False),
        (4, True, 1, False),
        (4, False, 2, False),
        (0, True, 2, False),
    ],
)
def test_a_family_is_only_taken_within_the_policy_and_on_a_counting_gate(
    limit: int, group_passage: bool, members: int, allowed: bool
) -> None:
    engine = SessionEngine(
        FamilyPipeline(), PolicyEngine(PolicyConfig(family_max_members=limit)), today=TODAY
    )
    engine.group_passage = group_passage
    assert engine.start_family(members) is allowed
    assert engine.family.size == (members if allowed else 1)


def test_a_passport_placed_while_no_family_waits_starts_nothing_extra() -> None:
    pipeline = FamilyPipeline()
    pipeline.chip_delay_s = 1.0  # the first traveller is still being read
    finished = threading.Event()
    engine = SessionEngine(pipeline, PolicyEngine(family_policy()), today=TODAY)
    engine.bus.subscribe(lambda e: finished.set() if isinstance(e, Finished) else None)
    assert engine.document_presented(["ADULT1"])
    assert not engine.document_presented(["ADULT2"])  # busy: a single transaction runs
    assert finished.wait(30.0) and engine.wait_idle(30.0)
    assert pipeline.chips == ["ADULT1"]


def test_the_policy_refuses_an_accompanied_age_above_the_minimum() -> None:
    with pytest.raises(ValueError, match="accompanied_from_age"):
        PolicyConfig(accompanied_from_age=19, family_max_members=3)
    with pytest.raises(ValueError, match="family_max_members"):
        PolicyConfig(accompanied_from_age=10)
