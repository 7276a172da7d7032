"""GIVEN the central server's pre-arrival vetting of the traveller WHEN the state's policy
decides THEN a referral always goes to the officer with the vetting's reasons, and what
"not vetted" means is the state's choice for its nationals and for visitors."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.policy.config import PolicyConfig, VettingPolicy
from kiosk.policy.engine import DocumentFacts, PolicyEngine
from models.records import Decision, ReasonCode
from tests.policy.test_policy_engine import genuine

VISITOR = DocumentFacts("P", "LCA", "LCA", date(1980, 5, 17), date(2030, 1, 1))
NATIONAL = DocumentFacts("P", "TTO", "TTO", date(1980, 5, 17), date(2030, 1, 1))
STRICT = PolicyConfig(vetting=VettingPolicy(nationals=["TTO"], not_vetted_visitors="refer"))


def test_vetted_and_cleared_is_accepted_everywhere() -> None:
    for config in (PolicyConfig(), STRICT):
        result = PolicyEngine(config).decide(genuine(vetting="vetted_cleared"))
        assert result.decision is Decision.ACCEPT


def test_a_vetting_referral_always_goes_to_the_officer_with_its_reasons() -> None:
    reasons = ("watchlist: regional watchlist, score 0.97 (birth date exact)",)
    # even a deployment that would reject every reason it lists refers this one
    config = PolicyConfig(reject_reasons=["vetting_referral", "not_eligible"])
    result = PolicyEngine(config).decide(
        genuine(vetting="vetted_referred", vetting_reasons=reasons)
    )
    assert result.decision is Decision.REFER
    assert result.reason_codes == [ReasonCode.VETTING_REFERRAL.value]
    assert "regional watchlist, score 0.97" in result.reasons[0].detail


@pytest.mark.parametrize(
    ("document", "vetting", "expected"),
    [
        (VISITOR, "not_vetted", Decision.REFER),
        (VISITOR, None, Decision.REFER),  # no vetted manifest at all: not vetted
        (NATIONAL, "not_vetted", Decision.ACCEPT),
        (VISITOR, "vetted_cleared", Decision.ACCEPT),
    ],
)
def test_visitors_may_use_the_gate_only_when_vetted_and_cleared(
    document: DocumentFacts, vetting: str | None, expected: Decision
) -> None:
    result = PolicyEngine(STRICT).decide(genuine(document=document, vetting=vetting))
    assert result.decision is expected
    if expected is Decision.REFER:
        assert result.reason_codes == [ReasonCode.NOT_VETTED.value]


def test_by_default_not_vetted_changes_nothing() -> None:
    assert PolicyEngine(PolicyConfig()).decide(genuine(vetting="not_vetted")).decision is (
        Decision.ACCEPT
    )
