"""From the step records of one transaction to what the policy reads and what storage keeps.

Pure functions: no devices, no clock, no I/O. :func:`transaction_facts` turns the records the
engine handed forward into the policy's :class:`TransactionFacts`; :func:`build_decided_transaction`
turns the records and the policy's decision into the :class:`DecidedTransaction` that is
recorded before the gate moves; :func:`build_passage_referral` is the referral recorded when an
accepted traveller's passage did not end as a passage (tailgating, a gate fault, a time-out).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from kiosk.policy.engine import PolicyDecision, TransactionFacts
from kiosk.screening.listed import listed_persons
from kiosk.screening.screening import ScreeningResult
from kiosk.session.steps import (
    CHIP_PHOTO_UNUSABLE,
    ChipStep,
    DocumentStep,
    FaceStep,
    PassageResult,
    ScreeningStep,
    StepFault,
)
from models.records import (
    MRZ_SEXES,
    BiometricSample,
    BlobKind,
    CheckResult,
    CheckStatus,
    DecidedTransaction,
    Decision,
    DocumentSummary,
    ReasonCode,
    ReferralSubject,
)

# How a failed passage is referred: the reason the officer sees and the check's reason code.
PASSAGE_REASONS: Mapping[PassageResult, ReasonCode] = {
    PassageResult.TAILGATING: ReasonCode.TAILGATING,
    PassageResult.TIMEOUT: ReasonCode.PASSAGE_TIMEOUT,
    PassageResult.GATE_FAULT: ReasonCode.SYSTEM_MALFUNCTION,
}
PASSAGE_SUFFIX = "-passage"


@dataclass(frozen=True)
class TransactionEvidence:
    """Everything one transaction learned, as the records its steps handed forward."""

    transaction_id: str
    kiosk_id: str
    started_at: datetime
    document: DocumentStep
    chip: ChipStep | None = None
    face: FaceStep = field(default_factory=FaceStep)
    screening: ScreeningStep | None = None
    fault: StepFault | None = None
    timings_ms: Mapping[str, float] = field(default_factory=dict)


def transaction_facts(
    evidence: TransactionEvidence, *, today: date, face_threshold: float
) -> TransactionFacts:
    """The facts the policy decides on; a step that did not happen stays ``None``."""
    chip, screening, face = evidence.chip, evidence.screening, evidence.face
    return TransactionFacts(
        today=today,
        document=evidence.document.facts,
        document_readable=evidence.document.readable,
        chip_read=None if chip is None else chip.read,
        checks=dict(chip.checks) if chip is not None else {},
        authentic=None if chip is None else chip.authentic,
        face_distance=face.distance,
        face_threshold=face_threshold,
        liveness_passed=face.liveness_passed,
        lost_or_stolen=None if screening is None else screening.lost_or_stolen,
        watchlist_hits=None if screening is None else screening.watchlist_hits,
        watchlist_age_hours=None if screening is None else screening.watchlist_age_hours,
        on_manifest=None if screening is None else screening.on_manifest,
        vetting=None if screening is None else screening.vetting,
        vetting_reasons=() if screening is None else screening.vetting_reasons,
        device_fault=None if evidence.fault is None else evidence.fault.description,
    )


def build_decided_transaction(
    evidence: TransactionEvidence,
    decision: PolicyDecision,
    *,
    face_threshold: float,
    decided_at: datetime,
    keep_samples: bool = True,
) -> DecidedTransaction:
    """The record of a decided transaction: checks, document summary, referral subject and
    (for a referral, when ``keep_samples``) the chip photo and the compared live frame."""
    accepted = decision.decision is Decision.ACCEPT
    chip = evidence.chip
    checks = chip_checks(chip) + face_checks(chip, evidence.face, face_threshold)
    if evidence.screening is not None:
        checks += evidence.screening.checks
    summary, subject = _document(evidence)
    samples: list[BiometricSample] = []
    if keep_samples and not accepted:
        if chip is not None and chip.portrait:
            samples.append(BiometricSample(BlobKind.CHIP_PORTRAIT, chip.portrait))
        match = evidence.face.match
        if match is not None and match.live_image:
            samples.append(BiometricSample(BlobKind.FACE_IMAGE, match.live_image))
    return DecidedTransaction(
        transaction_id=evidence.transaction_id,
        kiosk_id=evidence.kiosk_id,
        started_at=evidence.started_at,
        decided_at=decided_at,
        decision=decision.decision,
        reasons=tuple(dict.fromkeys(reason.code for reason in decision.reasons)),
        checks=checks,
        document=summary,
        referral_subject=None if accepted else subject,
        samples=tuple(samples),
        timings_ms={k: float(v) for k, v in evidence.timings_ms.items()},
    )


def build_passage_referral(
    accepted: DecidedTransaction,
    result: PassageResult,
    subject: ReferralSubject | None,
    *,
    decided_at: datetime,
    timings_ms: Mapping[str, float] | None = None,
) -> DecidedTransaction:
    """The referral of an accepted traveller whose passage failed, as its own record
    (``<transaction id>-passage``): the accepted decision stays as it was recorded."""
    if result is PassageResult.PASSED:
        raise ValueError("a completed passage is not referred")
    reason = PASSAGE_REASONS[result]
    base = accepted.transaction_id[: 64 - len(PASSAGE_SUFFIX)]
    return DecidedTransaction(
        transaction_id=base + PASSAGE_SUFFIX,
        kiosk_id=accepted.kiosk_id,
        started_at=accepted.started_at,
        decided_at=decided_at,
        decision=Decision.REFER,
        reasons=(reason,),
        checks=(
            CheckResult(
                "passage",
                CheckStatus.FAILED,
                result.value,
                f"after accepted transaction {accepted.transaction_id}"[:500],
            ),
        ),
        document=accepted.document,
        referral_subject=subject,
        timings_ms=dict(timings_ms or {}),
        policy=accepted.policy,
    )


def referral_subject(
    document: DocumentStep, screening: ScreeningStep | None = None
) -> ReferralSubject | None:
    """Whom the officer looks for: the names, birth date and document number the MRZ
    printed, and the screening-list entries the traveller matched."""
    parsed, facts = document.parsed, document.facts
    if parsed is None or facts is None:
        return None
    result = screening.details if screening is not None else None
    return ReferralSubject(
        surname=parsed.fields.surname[:120],
        given_names=parsed.fields.given_names[:120],
        birth_date=facts.date_of_birth,
        document_number=(parsed.fields.document_number or "")[:20] or None,
        listed=listed_persons(
            result if isinstance(result, ScreeningResult) else None, facts.issuing_state[:3]
        ),
    )


def chip_checks(chip: ChipStep | None) -> tuple[CheckResult, ...]:
    """The document checks, and the access failure when the chip could not be read."""
    if chip is None:
        return ()
    if chip.check_results:
        checks = tuple(sorted(chip.check_results, key=lambda c: c.name))
    else:
        checks = tuple(
            CheckResult(name=name, status=status) for name, status in sorted(chip.checks.items())
        )
    if not chip.read:
        code = chip.error or (chip.failure.value if chip.failure else "chip_unreadable")
        checks += (CheckResult("access_control", CheckStatus.FAILED, code[:64]),)
    return checks


def face_checks(chip: ChipStep | None, face: FaceStep, threshold: float) -> tuple[CheckResult, ...]:
    """What the officer reads about the face: the score against the threshold, liveness."""
    if chip is None or not chip.read:
        return ()
    distance = face.distance
    if face.match is not None and face.match.reference_unusable:
        match = CheckResult(
            "face_match", CheckStatus.NOT_PERFORMED, CHIP_PHOTO_UNUSABLE, "chip photo unusable"
        )
    elif distance is None:
        match = CheckResult("face_match", CheckStatus.NOT_PERFORMED, "no_face", "no usable face")
    else:
        ok = distance <= threshold
        match = CheckResult(
            "face_match",
            CheckStatus.PASSED if ok else CheckStatus.FAILED,
            None if ok else "biometric_mismatch",
            f"distance {distance:.2f} {'<=' if ok else '>'} {threshold:.2f}",
        )
    liveness = face.liveness
    if liveness is None:
        live = CheckResult("liveness", CheckStatus.NOT_PERFORMED, "no_capture", "no capture")
    elif liveness.live:
        live = CheckResult("liveness", CheckStatus.PASSED, None, "live")
    else:
        reason = (liveness.reason or "liveness_failed")[:64]
        live = CheckResult("liveness", CheckStatus.FAILED, reason, f"refused: {reason}")
    return match, live


def _document(
    evidence: TransactionEvidence,
) -> tuple[DocumentSummary | None, ReferralSubject | None]:
    facts = evidence.document.facts
    if evidence.document.parsed is None or facts is None:
        return None, None
    summary = DocumentSummary(
        doc_type=facts.document_type[:2] or "P",
        issuer=facts.issuing_state[:3] or "XXX",
        nationality=facts.nationality[:3] or None,
        expiry_date=facts.date_of_expiry,
        chip_read=bool(evidence.chip and evidence.chip.read),
        sex=_sex(evidence.document.parsed.fields.sex),
    )
    return summary, referral_subject(evidence.document, evidence.screening)


def _sex(value: str | None) -> str | None:
    """The MRZ's sex field as the equity statistics keep it (``<``: unspecified, None)."""
    return value if value in MRZ_SEXES else None
