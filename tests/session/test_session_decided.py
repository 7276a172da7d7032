"""GIVEN the step records of one transaction WHEN the pure builders run THEN the policy's facts
and the recorded DecidedTransaction say exactly what the records say, with no device, clock or
shared pipeline state involved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from kiosk.policy.config import PolicyConfig
from kiosk.policy.engine import DocumentFacts, PolicyDecision, PolicyEngine, Reason
from kiosk.session.decided import (
    TransactionEvidence,
    build_decided_transaction,
    build_passage_referral,
    transaction_facts,
)
from kiosk.session.steps import (
    ChipFailure,
    ChipStep,
    DocumentStep,
    FaceStep,
    LivenessStep,
    MatchStep,
    PassageResult,
    ScreeningStep,
    StepFault,
)
from models.records import (
    BlobKind,
    CheckResult,
    CheckStatus,
    Decision,
    InvalidRecordError,
    ReasonCode,
)

STARTED = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
DECIDED = datetime(2026, 11, 22, 9, 0, 2, tzinfo=UTC)
TODAY = date(2026, 11, 22)
PASS = CheckStatus.PASSED
CHECKS = dict.fromkeys(("sod_signature", "chain", "revocation", "hashes"), PASS)


@dataclass(frozen=True)
class _Fields:
    surname: str = "JOSEPH"
    given_names: str = "MARIE ANGELA"
    document_number: str = "LC1234567"
    sex: str = "F"


@dataclass(frozen=True)
class _Parsed:
    fields: _Fields = _Fields()


def _document() -> DocumentStep:
    facts = DocumentFacts("P", "LCA", "LCA", date(1987, 3, 14), date(2033, 5, 19))
    return DocumentStep(True, facts, "x", _Parsed())


def _evidence(**kw: object) -> TransactionEvidence:
    values: dict[str, object] = {
        "transaction_id": "kiosk-01-t1",
        "kiosk_id": "kiosk-01",
        "started_at": STARTED,
        "document": _document(),
        "chip": ChipStep(True, dict(CHECKS), True, b"chip-photo", "PACE"),
        "face": FaceStep(1, LivenessStep(True), MatchStep(0.31, b"live-jpeg")),
        "screening": ScreeningStep(False, 0, 1.0, None, checks=(CheckResult("lost_stolen", PASS),)),
        "timings_ms": {"chip": 12.5},
    }
    values.update(kw)
    return TransactionEvidence(**values)  # type: ignore[arg-type]


def _decide(evidence: TransactionEvidence) -> PolicyDecision:
    facts = transaction_facts(evidence, today=TODAY, face_threshold=0.6)
    return PolicyEngine(PolicyConfig()).decide(facts)


def test_an_accepted_transaction_keeps_no_name_and_no_sample() -> None:
    evidence = _evidence()
    decision = _decide(evidence)
    record = build_decided_transaction(evidence, decision, face_threshold=0.6, decided_at=DECIDED)
    assert record.decision is Decision.ACCEPT and record.reasons == ()
    assert record.referral_subject is None and record.samples == ()
    names = [c.name for c in record.checks]
    assert names == [*sorted(CHECKS), "face_match", "liveness", "lost_stolen"]
    assert record.document is not None and record.document.chip_read
    assert record.timings_ms == {"chip": 12.5}
    assert (record.started_at, record.decided_at) == (STARTED, DECIDED)


def test_a_referral_carries_the_subject_both_photos_and_the_liveness_reason() -> None:
    face = FaceStep(2, LivenessStep(False, "printed_photo"), MatchStep(0.4, b"live-jpeg"))
    evidence = _evidence(face=face)
    decision = _decide(evidence)
    record = build_decided_transaction(evidence, decision, face_threshold=0.6, decided_at=DECIDED)
    assert record.decision is Decision.REFER
    assert record.reasons == (ReasonCode.LIVENESS_FAILED,)
    assert record.referral_subject is not None and record.referral_subject.surname == "JOSEPH"
    assert {s.kind: s.data for s in record.samples} == {
        BlobKind.CHIP_PORTRAIT: b"chip-photo",
        BlobKind.FACE_IMAGE: b"live-jpeg",
    }
    liveness = next(c for c in record.checks if c.name == "liveness")
    assert (liveness.status, liveness.reason) == (CheckStatus.FAILED, "printed_photo")


def test_samples_are_left_out_when_the_deployment_keeps_none() -> None:
    evidence = _evidence(face=FaceStep(1, LivenessStep(True), MatchStep(0.9, b"live")))
    record = build_decided_transaction(
        evidence, _decide(evidence), face_threshold=0.6, decided_at=DECIDED, keep_samples=False
    )
    assert record.decision is Decision.REFER and record.samples == ()


def test_an_unread_chip_is_an_access_control_failure_with_its_code() -> None:
    chip = ChipStep(False, failure=ChipFailure.ACCESS_DENIED, error="access_denied")
    evidence = _evidence(chip=chip, face=FaceStep())
    facts = transaction_facts(evidence, today=TODAY, face_threshold=0.6)
    assert facts.chip_read is False and facts.face_distance is None
    record = build_decided_transaction(
        evidence, _decide(evidence), face_threshold=0.6, decided_at=DECIDED
    )
    assert record.reasons == (ReasonCode.CHIP_ANOMALY,)
    access = next(c for c in record.checks if c.name == "access_control")
    assert (access.status, access.reason) == (CheckStatus.FAILED, "access_denied")
    assert not any(c.name == "face_match" for c in record.checks)  # no chip, no face checks


def test_a_step_fault_becomes_the_system_malfunction_fact() -> None:
    evidence = _evidence(fault=StepFault("chip", "chip_reader_error"), chip=None, face=FaceStep())
    facts = transaction_facts(evidence, today=TODAY, face_threshold=0.6)
    assert facts.device_fault == "chip: chip_reader_error"
    assert facts.chip_read is None and facts.lost_or_stolen is False
    assert ReasonCode.SYSTEM_MALFUNCTION in [r.code for r in _decide(evidence).reasons]


def test_the_same_records_always_build_the_same_transaction() -> None:
    evidence = _evidence()
    decision = _decide(evidence)
    first = build_decided_transaction(evidence, decision, face_threshold=0.6, decided_at=DECIDED)
    second = build_decided_transaction(evidence, decision, face_threshold=0.6, decided_at=DECIDED)
    assert first == second


def test_repeated_policy_reasons_are_kept_once() -> None:
    evidence = _evidence()
    decision = PolicyDecision(
        Decision.REFER,
        (Reason(ReasonCode.MINOR, "a"), Reason(ReasonCode.MINOR, "b")),
    )
    record = build_decided_transaction(evidence, decision, face_threshold=0.6, decided_at=DECIDED)
    assert record.reasons == (ReasonCode.MINOR,)


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        (PassageResult.TAILGATING, ReasonCode.TAILGATING),
        (PassageResult.TIMEOUT, ReasonCode.PASSAGE_TIMEOUT),
        (PassageResult.GATE_FAULT, ReasonCode.SYSTEM_MALFUNCTION),
    ],
)
def test_a_failed_passage_is_its_own_referral(result: PassageResult, reason: ReasonCode) -> None:
    evidence = _evidence()
    accepted = build_decided_transaction(
        evidence, _decide(evidence), face_threshold=0.6, decided_at=DECIDED
    )
    subject = build_decided_transaction(
        evidence,
        PolicyDecision(Decision.REFER, (Reason(ReasonCode.MINOR, "x"),)),
        face_threshold=0.6,
        decided_at=DECIDED,
    ).referral_subject
    referral = build_passage_referral(accepted, result, subject, decided_at=DECIDED)
    assert referral.transaction_id == "kiosk-01-t1-passage"
    assert referral.decision is Decision.REFER and referral.reasons == (reason,)
    assert referral.needs_referral and referral.referral_subject == subject
    (check,) = referral.checks
    assert (check.name, check.status, check.reason) == ("passage", CheckStatus.FAILED, result.value)
    assert accepted.transaction_id in check.message
    assert accepted.decision is Decision.ACCEPT  # the accept stays as it was recorded


def test_a_completed_passage_is_not_referred() -> None:
    evidence = _evidence()
    accepted = build_decided_transaction(
        evidence, _decide(evidence), face_threshold=0.6, decided_at=DECIDED
    )
    with pytest.raises(ValueError):
        build_passage_referral(accepted, PassageResult.PASSED, None, decided_at=DECIDED)


def test_a_long_transaction_id_still_gives_a_valid_passage_id() -> None:
    evidence = _evidence(transaction_id="k" * 64)
    accepted = build_decided_transaction(
        evidence, _decide(evidence), face_threshold=0.6, decided_at=DECIDED
    )
    referral = build_passage_referral(accepted, PassageResult.TAILGATING, None, decided_at=DECIDED)
    assert len(referral.transaction_id) == 64 and referral.transaction_id.endswith("-passage")


def test_a_naive_time_is_refused_by_the_record() -> None:
    evidence = _evidence(started_at=datetime(2026, 11, 22, 9, 0))
    with pytest.raises(InvalidRecordError):
        build_decided_transaction(
            evidence, _decide(evidence), face_threshold=0.6, decided_at=DECIDED
        )


def test_the_central_server_accepts_a_passage_referral_as_it_is_sent() -> None:
    from kiosk.storage.recorder import decision_payload
    from server.api.schemas import DecisionIn

    evidence = _evidence(transaction_id="kiosk-01-20261122T090000-0001-abcdef")
    accepted = build_decided_transaction(
        evidence, _decide(evidence), face_threshold=0.6, decided_at=DECIDED
    )
    referral = build_passage_referral(
        accepted, PassageResult.TAILGATING, None, decided_at=DECIDED, timings_ms={"gate": 1.0}
    )
    received = DecisionIn.model_validate(decision_payload(referral))
    assert received.transaction_id.endswith("-passage")
    assert [r.value for r in received.reasons] == ["tailgating"]


@pytest.mark.parametrize(("mrz_sex", "kept"), [("F", "F"), ("M", "M"), ("X", "X"), ("<", None)])
def test_the_mrz_sex_is_kept_for_the_equity_statistics(mrz_sex: str, kept: str | None) -> None:
    facts = DocumentFacts("P", "LCA", "LCA", date(1987, 3, 14), date(2033, 5, 19))
    document = DocumentStep(True, facts, "x", _Parsed(_Fields(sex=mrz_sex)))
    evidence = _evidence(document=document)
    record = build_decided_transaction(
        evidence, _decide(evidence), face_threshold=0.6, decided_at=DECIDED
    )
    assert record.document is not None and record.document.sex == kept
