"""GIVEN referrals of family members (their ``family`` check) and of travellers alone WHEN the
booth builds its queue lines THEN a family is one line in the place of its first member, its
members in reading order, and only a well-formed family check makes a family: any other text
(fuzzed) is no family and never an exception. The kiosk's own booth reads the family from the
kiosk database's checks."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from kiosk.audit.log import AuditLog
from kiosk.config import load_config
from kiosk.officer.accounts import OfficerAccounts
from kiosk.officer.families import FamilyKey, covers, queue_lines, resolve_family
from kiosk.officer.local import LocalReferralSource
from kiosk.officer.referrals import ReferralKey, ReferralSummary
from kiosk.storage.crypto_store import BlobCipher
from kiosk.storage.database import Database, open_database
from kiosk.storage.recorder import record_transactions
from models.family import FamilyTag, family_message, family_of_checks, parse_family
from models.records import (
    CheckResult,
    CheckStatus,
    DecidedTransaction,
    Decision,
    ReasonCode,
    ReferralOutcome,
    ReferralSubject,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _summary(tid: str, minutes: int, tag: FamilyTag | None = None, *, hit: bool = False,
             reasons: tuple[str, ...] = ("biometric_mismatch",)) -> ReferralSummary:  # fmt: skip
    return ReferralSummary(tid, "gate-1", NOW - timedelta(minutes=minutes), reasons,
                           hit=hit, family=tag)  # fmt: skip


def test_a_family_is_one_line_where_its_first_member_stands() -> None:
    # GIVEN a hit member of family F listed first (hits first), a traveller alone, then the
    # family's other member (newest first)
    items = [
        _summary("F-m2", 5, FamilyTag("F", 2, 2), hit=True, reasons=("watchlist_hit",)),
        _summary("alone", 3),
        _summary("F-m1", 5, FamilyTag("F", 1, 2), reasons=("family_referral",)),
    ]
    lines = queue_lines(items)
    # THEN two lines: the family's (members in reading order, a hit), then the other
    assert [line.is_family for line in lines] == [True, False]
    family = lines[0]
    assert [m.transaction_id for m in family.members] == ["F-m1", "F-m2"]
    assert family.hit and family.reasons == ("family_referral", "watchlist_hit")
    assert family.key == FamilyKey("gate-1", "F")
    assert covers(family.key, ReferralKey("gate-1", "F-m2"))
    assert not covers(family.key, ReferralKey("gate-1", "alone"))
    assert lines[1].key == ReferralKey("gate-1", "alone")


def test_two_kiosks_families_of_the_same_id_are_two_lines() -> None:
    a = _summary("F-m1", 1, FamilyTag("F", 1, 2))
    b = ReferralSummary("F-m1", "gate-2", NOW, ("family_referral",), family=FamilyTag("F", 1, 2))
    assert len(queue_lines([a, b])) == 2


def test_the_family_message_round_trips() -> None:
    assert parse_family(family_message("gate-1-20261201T120000-0001-ab", 2, 3)) == FamilyTag(
        "gate-1-20261201T120000-0001-ab", 2, 3
    )
    checks = [{"name": "face_match"}, {"name": "family", "message": family_message("F", 1, 2)}]
    assert family_of_checks(checks) == FamilyTag("F", 1, 2)


@pytest.mark.parametrize(
    "message",
    [None, "", "family F: member 3 of 2", "family F: member 0 of 2", "family F: member 1 of 1",
     "family F: member 1 of 99", "family : member 1 of 2", "family F G: member 1 of 2",
     "family F: member 1 of 2 and more", "x" * 300],
)  # fmt: skip
def test_a_bad_family_message_is_no_family(message: str | None) -> None:
    assert parse_family(message) is None


@given(st.text(max_size=300))
def test_any_text_parses_to_a_family_or_none(text: str) -> None:
    tag = parse_family(text)
    assert tag is None or 1 <= tag.position <= tag.size


JSON = st.recursive(
    st.none() | st.text() | st.integers(),
    lambda inner: st.lists(inner) | st.dictionaries(st.sampled_from(["name", "message"]), inner),
)


@given(st.lists(st.dictionaries(st.sampled_from(["name", "message"]), JSON | st.just("family"))))
def test_any_stored_checks_give_a_family_or_none(checks: list[object]) -> None:
    tag = family_of_checks(checks)
    assert tag is None or isinstance(tag, FamilyTag)


@pytest.fixture(autouse=True)
def _no_kiosk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("KIOSK_"):
            monkeypatch.delenv(name)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = open_database(load_config(data_dir=tmp_path, kiosk_id="kiosk-fam"))
    yield db
    db.close()


def _member(family: str, position: int, reason: ReasonCode) -> DecidedTransaction:
    decided = datetime.now(UTC) - timedelta(minutes=2)
    return DecidedTransaction(
        transaction_id=f"{family}-m{position}",
        kiosk_id="kiosk-fam",
        started_at=decided - timedelta(seconds=30),
        decided_at=decided,
        decision=Decision.REFER,
        reasons=(reason,),
        checks=(
            CheckResult("face_match", CheckStatus.PASSED),
            CheckResult(
                "family", CheckStatus.FAILED, "family_referral", family_message(family, position, 2)
            ),  # fmt: skip
        ),
        referral_subject=ReferralSubject("JOSEPH", f"MEMBER {position}", None),
    )


def test_the_kiosks_own_booth_reads_the_family_from_its_checks(
    database: Database, tmp_path: Path
) -> None:
    accounts = OfficerAccounts.load(tmp_path / "officers.json")
    accounts.add("officer1", "a good password")
    cipher = BlobCipher(base64.b64decode(base64.b64encode(bytes(range(32)))))
    audit = AuditLog(Ed25519PrivateKey.generate(), kiosk_id="kiosk-fam")
    source = LocalReferralSource(database, accounts, cipher=cipher, audit=audit)
    family = "kiosk-fam-20261201T120000-0001-abcdef"
    record_transactions(database, [_member(family, 1, ReasonCode.FAMILY_REFERRAL),
                                   _member(family, 2, ReasonCode.EXPIRED_DOCUMENT)])  # fmt: skip
    officer = source.login("officer1", "a good password")
    lines = queue_lines(source.open_referrals(officer))
    assert len(lines) == 1 and lines[0].is_family
    assert [m.transaction_id for m in lines[0].members] == [f"{family}-m1", f"{family}-m2"]
    detail = source.referral(officer, f"{family}-m2")
    assert detail.summary.family == FamilyTag(family, 2, 2)
    result = resolve_family(source, officer, lines[0].key, ReferralOutcome.REFUSED, "together")
    assert result.error is None and len(result.resolutions) == 2
    assert source.open_referrals(officer) == []
