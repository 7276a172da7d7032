"""GIVEN the facts of a transaction WHEN the CARICOM policy decides THEN ..."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from kiosk.policy.config import PolicyConfig
from kiosk.policy.engine import DocumentFacts, PolicyEngine, TransactionFacts
from models.records import CheckStatus, Decision, ReasonCode

TODAY = date(2026, 11, 22)
PASSED = CheckStatus.PASSED


def genuine(**changes: object) -> TransactionFacts:
    facts = TransactionFacts(
        today=TODAY,
        document=DocumentFacts("P", "LCA", "LCA", date(1980, 5, 17), date(2030, 1, 1)),
        chip_read=True,
        checks={
            "sod_signature": PASSED,
            "chain": PASSED,
            "revocation": PASSED,
            "hashes": PASSED,
            "active_authentication": PASSED,
            "chip_authentication": CheckStatus.NOT_SUPPORTED,
            "mrz_consistency": PASSED,
            "issuer_consistency": PASSED,
        },
        authentic=True,
        face_distance=0.35,
        face_threshold=0.5,
        liveness_passed=True,
        lost_or_stolen=False,
        watchlist_hits=0,
        watchlist_age_hours=1.0,
        on_manifest=True,
    )
    return replace(facts, **changes)  # type: ignore[arg-type]


@pytest.fixture
def engine() -> PolicyEngine:
    return PolicyEngine(PolicyConfig())


def test_a_genuine_eligible_adult_is_accepted(engine: PolicyEngine) -> None:
    result = engine.decide(genuine())
    assert result.decision is Decision.ACCEPT
    assert result.reasons == ()


def test_british_territory_citizens_with_gbr_passports_are_eligible(engine: PolicyEngine) -> None:
    doc = DocumentFacts("P", "GBR", "GBD", date(1980, 5, 17), date(2030, 1, 1))
    assert engine.decide(genuine(document=doc)).decision is Decision.ACCEPT


def test_british_citizens_are_not(engine: PolicyEngine) -> None:
    doc = DocumentFacts("P", "GBR", "GBR", date(1980, 5, 17), date(2030, 1, 1))
    result = engine.decide(genuine(document=doc))
    assert result.decision is Decision.REJECT
    assert result.reason_codes == [ReasonCode.NOT_ELIGIBLE.value]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"document": DocumentFacts("P", "LCA", "LCA", date(2010, 1, 1), date(2030, 1, 1))},
            ReasonCode.MINOR,
        ),
        (
            {"document": DocumentFacts("P", "LCA", "LCA", date(1980, 1, 1), date(2026, 11, 21))},
            ReasonCode.EXPIRED_DOCUMENT,
        ),
        ({"checks": {"sod_signature": CheckStatus.FAILED}}, ReasonCode.AUTHENTICATION_FAILED),
        ({"chip_read": False}, ReasonCode.CHIP_ANOMALY),
        ({"document_readable": False, "document": None}, ReasonCode.DOCUMENT_UNREADABLE),
        ({"face_distance": 0.61}, ReasonCode.BIOMETRIC_MISMATCH),
        ({"face_distance": None}, ReasonCode.BIOMETRIC_MISMATCH),
        ({"liveness_passed": False}, ReasonCode.LIVENESS_FAILED),
        ({"lost_or_stolen": True}, ReasonCode.LOST_OR_STOLEN),
        ({"watchlist_hits": 2}, ReasonCode.WATCHLIST_HIT),
        ({"watchlist_age_hours": 30.0}, ReasonCode.SYSTEM_MALFUNCTION),
        ({"on_manifest": False}, ReasonCode.NOT_ON_MANIFEST),
        ({"device_fault": "camera offline"}, ReasonCode.SYSTEM_MALFUNCTION),
    ],
)
def test_each_failed_rule_refers_with_its_reason(
    engine: PolicyEngine, changes: dict[str, object], reason: ReasonCode
) -> None:
    facts = genuine(**changes)
    if "checks" in changes:
        facts = replace(facts, checks={**genuine().checks, **changes["checks"]})  # type: ignore[dict-item]
    result = engine.decide(facts)
    assert result.decision is Decision.REFER
    assert reason.value in result.reason_codes


def test_a_failed_active_authentication_means_a_clone(engine: PolicyEngine) -> None:
    facts = genuine()
    facts = replace(facts, checks={**facts.checks, "active_authentication": CheckStatus.FAILED})
    result = engine.decide(facts)
    assert result.decision is Decision.REFER
    assert result.reason_codes == [ReasonCode.CLONE_SUSPECTED.value]


def test_a_watchlist_hit_is_never_rejected_silently() -> None:
    config = PolicyConfig(reject_reasons=["not_eligible", "watchlist_hit"])
    result = PolicyEngine(config).decide(genuine(watchlist_hits=1))
    assert result.decision is Decision.REFER


def test_missing_manifest_refers_only_when_required() -> None:
    assert (
        PolicyEngine(PolicyConfig()).decide(genuine(on_manifest=None)).decision is Decision.ACCEPT
    )
    strict = PolicyEngine(PolicyConfig(manifest_required=True))
    assert strict.decide(genuine(on_manifest=None)).decision is Decision.REFER


def test_the_policy_threshold_overrides_the_face_default() -> None:
    strict = PolicyEngine(PolicyConfig(face_threshold=0.3))
    assert strict.decide(genuine(face_distance=0.35)).reason_codes == ["biometric_mismatch"]


def test_an_eighteenth_birthday_today_is_an_adult(engine: PolicyEngine) -> None:
    doc = DocumentFacts("P", "JAM", "JAM", date(2008, 11, 22), date(2030, 1, 1))
    assert engine.decide(genuine(document=doc)).decision is Decision.ACCEPT
    doc = DocumentFacts("P", "JAM", "JAM", date(2008, 11, 23), date(2030, 1, 1))
    assert engine.decide(genuine(document=doc)).reason_codes == ["minor"]
