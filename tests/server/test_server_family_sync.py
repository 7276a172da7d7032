"""GIVEN a kiosk that referred a family (one member an impostor: two member records written in
one database transaction by ``record_transactions``) WHEN its outbox relay reaches the central
server (real uvicorn over mutual TLS, real PostgreSQL) THEN both members' decisions and
referrals arrive, each with the family check and ``family_referral`` where it applies, so the
booth and the server see the family together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.storage.database import Database
from kiosk.storage.recorder import record_transactions
from kiosk.sync.backoff import Backoff
from kiosk.sync.client import ServerClient
from kiosk.sync.relay import OutboxRelay
from models.records import (
    CheckResult,
    CheckStatus,
    DecidedTransaction,
    Decision,
    ReasonCode,
    ReferralSubject,
)
from models.server_tables import ReceivedDecisionRow, ReferralQueueRow

pytestmark = pytest.mark.postgres


def _member(family: str, kiosk: str, position: int, reason: ReasonCode) -> DecidedTransaction:
    decided = datetime.now(UTC) - timedelta(minutes=2)
    face = CheckStatus.FAILED if reason is ReasonCode.BIOMETRIC_MISMATCH else CheckStatus.PASSED
    return DecidedTransaction(
        transaction_id=f"{family}-m{position}",
        kiosk_id=kiosk,
        started_at=decided - timedelta(seconds=30),
        decided_at=decided,
        decision=Decision.REFER,
        reasons=(reason,),
        checks=(
            CheckResult("sod_signature", CheckStatus.PASSED),
            CheckResult("face_match", face),
            CheckResult(
                "family",
                CheckStatus.FAILED,
                "family_referral",
                f"family {family}: member {position} of 2",
            ),
        ),
        referral_subject=ReferralSubject(
            surname="JOSEPH", given_names=f"MEMBER {position}", birth_date=None
        ),
    )


def test_a_family_referral_reaches_the_server_with_every_member(
    server_setup, running_server, kiosk_database: Database, kiosk_config_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    kiosk = server_setup.device
    family = f"{kiosk}-20261201T120000-0001-abcdef"
    members = [
        _member(family, kiosk, 1, ReasonCode.FAMILY_REFERRAL),
        _member(family, kiosk, 2, ReasonCode.BIOMETRIC_MISMATCH),
    ]
    record_transactions(kiosk_database, members)
    config = kiosk_config_factory(server_setup, tmp_path / "k", running_server.url)
    with ServerClient(config.sync) as client:
        relay = OutboxRelay(kiosk_database, client, batch_size=50, backoff=Backoff())
        assert relay.drain().sent >= 2
    with server_setup.state.database.sessions() as session:
        decisions = {
            row.transaction_id: row
            for row in session.scalars(
                select(ReceivedDecisionRow).where(ReceivedDecisionRow.kiosk_id == kiosk)
            )
        }
        referrals = {
            row.transaction_id: list(row.reasons)
            for row in session.scalars(
                select(ReferralQueueRow).where(ReferralQueueRow.kiosk_id == kiosk)
            )
        }
        checks = {
            tid: {c["name"]: c.get("message") for c in row.checks} for tid, row in decisions.items()
        }
    assert set(decisions) == {f"{family}-m1", f"{family}-m2"}
    assert referrals == {
        f"{family}-m1": ["family_referral"],
        f"{family}-m2": ["biometric_mismatch"],
    }
    assert checks[f"{family}-m2"]["family"] == f"family {family}: member 2 of 2"


def test_a_family_is_stored_whole_or_not_at_all(kiosk_database: Database, decided) -> None:  # type: ignore[no-untyped-def]
    from kiosk.storage.errors import DuplicateTransactionError
    from models.tables import TransactionRow

    kiosk = "kiosk-fam"
    family = f"{kiosk}-20261201T120000-0002-abcdef"
    first = _member(family, kiosk, 1, ReasonCode.FAMILY_REFERRAL)
    record_transactions(kiosk_database, [first])
    # WHEN a second family write repeats a member already stored
    second = _member(family, kiosk, 2, ReasonCode.BIOMETRIC_MISMATCH)
    with pytest.raises(DuplicateTransactionError):
        record_transactions(kiosk_database, [second, first])
    # THEN the other member of that write was not kept either
    with kiosk_database.read() as session:
        assert session.get(TransactionRow, second.transaction_id) is None
