"""From the step records of a family's members to the family's decision and records.

Pure functions, like ``kiosk.session.decided``: no devices, no clock, no I/O. A family
transaction reads several passports one after another; each member keeps their own step
records (:class:`~kiosk.session.decided.TransactionEvidence`). :func:`decide_family` applies the
policy to each member (a minor from ``accompanied_from_age`` passes when an adult member is in
the same transaction) and decides for the group: the exit opens for all of them only when
every member is accepted, otherwise every member goes to the officer as one family referral.
:func:`build_family_records` makes each member's :class:`DecidedTransaction` (their checks,
document, referral subject and photos) with a ``family`` check that names the family and the
member's place in it, so the booth and the server see the members together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from kiosk.policy.engine import PolicyDecision, PolicyEngine, Reason, TransactionFacts
from kiosk.session.decided import (
    TransactionEvidence,
    build_decided_transaction,
    transaction_facts,
)
from models.family import FAMILY_CHECK, family_message
from models.records import CheckResult, CheckStatus, DecidedTransaction, Decision, ReasonCode


@dataclass(frozen=True)
class FamilyMember:
    """One member's step records, and the refusal their MRZ alone made certain."""

    evidence: TransactionEvidence
    early: PolicyDecision | None = None


@dataclass(frozen=True)
class FamilyDecision:
    decision: Decision
    members: tuple[PolicyDecision, ...]  # each member's own decision, in reading order
    facts: tuple[TransactionFacts, ...]

    @property
    def reason_codes(self) -> tuple[str, ...]:
        """Every member's reasons once, and ``family_referral`` when someone passed alone but
        goes to the officer with the family."""
        codes = [code for member in self.members for code in member.reason_codes]
        if self.decision is not Decision.ACCEPT and any(
            m.decision is Decision.ACCEPT for m in self.members
        ):
            codes.append(ReasonCode.FAMILY_REFERRAL.value)
        return tuple(dict.fromkeys(codes))


def member_id(family_id: str, position: int) -> str:
    """The record id of member ``position`` (1-based) of family ``family_id``."""
    return f"{family_id}-m{position}"


def decide_family(
    policy: PolicyEngine,
    members: Sequence[FamilyMember],
    *,
    today: date,
    face_threshold: float,
    expected: int,
) -> FamilyDecision:
    """Each member's decision and the family's. A family with fewer members read than it
    announced (``expected``) is never accepted."""
    adults = [policy.is_adult(m.evidence.document.facts, today) for m in members]
    facts: list[TransactionFacts] = []
    decisions: list[PolicyDecision] = []
    for index, member in enumerate(members):
        accompanied = any(adult for other, adult in enumerate(adults) if other != index)
        member_facts = replace(
            transaction_facts(member.evidence, today=today, face_threshold=face_threshold),
            accompanied=accompanied,
        )
        facts.append(member_facts)
        if member.early is not None and member.evidence.fault is None:
            decisions.append(member.early)
        else:
            decisions.append(policy.decide(member_facts))
    own = [d.decision for d in decisions]
    if len(members) == expected and own and all(d is Decision.ACCEPT for d in own):
        decision = Decision.ACCEPT
    elif Decision.REFER in own or len(members) != expected:
        decision = Decision.REFER
    else:
        decision = Decision.REJECT
    return FamilyDecision(decision, tuple(decisions), tuple(facts))


def build_family_records(
    family_id: str,
    members: Sequence[FamilyMember],
    family: FamilyDecision,
    *,
    face_threshold: float,
    decided_at: datetime,
    expected: int,
) -> tuple[DecidedTransaction, ...]:
    """One record per member, all with the family's decision: a member referred on their own
    keeps their reasons; one who passed alone in a referred family carries
    ``family_referral``. Each has the ``family`` check (family id, place, the family's size)."""
    records = []
    accepted = family.decision is Decision.ACCEPT
    for position, (member, own) in enumerate(zip(members, family.members, strict=True), 1):
        if accepted:
            decision = PolicyDecision(Decision.ACCEPT, ())
        elif own.decision is Decision.ACCEPT:
            reason = Reason(ReasonCode.FAMILY_REFERRAL, "another member of the family")
            decision = PolicyDecision(family.decision, (reason,))
        else:
            decision = PolicyDecision(family.decision, own.reasons)
        record = build_decided_transaction(
            member.evidence, decision, face_threshold=face_threshold, decided_at=decided_at
        )
        check = CheckResult(
            FAMILY_CHECK,
            CheckStatus.PASSED if accepted else CheckStatus.FAILED,
            None if accepted else ReasonCode.FAMILY_REFERRAL.value,
            family_message(family_id, position, expected)[:500],
        )
        records.append(replace(record, checks=(*record.checks, check)))
    return tuple(records)
