"""Recording a decided transaction writes everything in one database transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.audit.log import AuditLog
from kiosk.audit.signing import load_signing_key
from kiosk.config import KioskConfig
from kiosk.storage import recorder
from kiosk.storage.crypto_store import BlobCipher, load_blob
from kiosk.storage.database import Database
from kiosk.storage.errors import DuplicateTransactionError
from kiosk.storage.integrity import check_integrity
from models.base import Base
from models.records import (
    CheckResult,
    CheckStatus,
    DecidedTransaction,
    Decision,
    InvalidRecordError,
    ReasonCode,
)
from models.tables import (
    AuditEntryRow,
    BiometricBlobRow,
    DecisionRow,
    OutboxMessageRow,
    ReferralRow,
    TransactionRow,
)

from .conftest import T0, face_sample, make_record  # type: ignore[import-not-found]


def _row_counts(session: Session) -> dict[str, int]:
    return {
        name: int(session.scalar(select(func.count()).select_from(table)) or 0)
        for name, table in Base.metadata.tables.items()
    }


@pytest.fixture
def audit(kiosk_config: KioskConfig) -> AuditLog:
    return AuditLog(
        load_signing_key(kiosk_config.audit_key_file, create=True), kiosk_id="kiosk-test"
    )


def test_a_referred_transaction_is_recorded_whole(
    database: Database, cipher: BlobCipher, audit: AuditLog
) -> None:
    # GIVEN a transaction referred for a face mismatch, with a face image
    image = b"\xff\xd8 face " * 50
    record = make_record(cipher=cipher, samples=(face_sample(image),))
    # WHEN it is recorded
    recorder.record_transaction(database, record, cipher=cipher, audit=audit)
    # THEN every part is there, linked to the transaction
    with database.read() as session:
        row = session.get(TransactionRow, "txn-0001")
        assert row is not None and row.kiosk_id == "kiosk-test"
        assert row.decided_at == T0
        assert row.document is not None and row.document.issuer == "UTO"
        assert row.document.number_token == cipher.document_token("UTO", "L898902C3")
        assert [c.name for c in row.checks] == [
            "sod_signature",
            "face_match",
            "active_authentication",
        ]
        assert row.checks[1].reason == "biometric_mismatch"
        assert row.decision is not None and row.decision.decision == "refer"
        assert row.decision.reasons == ["biometric_mismatch"]
        referral = session.get(ReferralRow, "txn-0001")
        assert referral is not None and referral.status == "open"
        assert referral.surname == "ERIKSSON"
        kinds = sorted(session.scalars(select(OutboxMessageRow.kind)).all())
        message = session.scalars(
            select(OutboxMessageRow).where(OutboxMessageRow.kind == "decision")
        ).one()
        assert message.kind == "decision" and message.subject_id == "txn-0001"
        # the photos go in a message of their own that names the transaction, no image
        assert kinds == ["decision", "referral_photos"]
        photos = session.scalars(
            select(OutboxMessageRow).where(OutboxMessageRow.kind == "referral_photos")
        ).one()
        assert photos.payload == {"transaction_id": "txn-0001", "kiosk_id": "kiosk-test"}
        assert message.payload["decision"] == "refer"
        assert message.payload["referral"]["given_names"] == "ANNA MARIA"
        assert message.payload["checks"][1]["status"] == "failed"
        assert message.sent_at is None and message.attempts == 0
        blob = session.scalars(select(BiometricBlobRow)).one()
        assert image not in blob.ciphertext
        assert load_blob(cipher, blob) == image
        entry = session.scalars(select(AuditEntryRow)).one()
        assert entry.action == "transaction.decided"
        assert ["face_match", "failed"] in entry.details["checks"]
        assert check_integrity(session, [audit.public_key]) == []


def test_no_plain_document_number_reaches_the_database_file(
    database: Database, kiosk_config: KioskConfig, cipher: BlobCipher
) -> None:
    # GIVEN an accepted transaction whose document number was tokenised
    recorder.record_transaction(database, make_record(decision=Decision.ACCEPT, cipher=cipher))
    database.close()
    # WHEN the database files are read as bytes
    files = list(Path(kiosk_config.data_dir).glob("kiosk.db*"))
    raw = b"".join(path.read_bytes() for path in files)
    # THEN the document number is nowhere, and an accept opened no referral
    assert b"L898902C3" not in raw
    assert b"txn-0001" in raw


def test_a_failure_midway_writes_nothing(
    database: Database, cipher: BlobCipher, audit: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a recorder whose outbox write fails after the other rows were added
    def broken_enqueue(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(recorder.outbox, "enqueue", broken_enqueue)
    record = make_record(cipher=cipher, samples=(face_sample(),))
    # WHEN the transaction is recorded
    with pytest.raises(RuntimeError, match="disk on fire"):
        recorder.record_transaction(database, record, cipher=cipher, audit=audit)
    # THEN not a single row was written
    with database.read() as session:
        counts = _row_counts(session)
    assert {name: n for name, n in counts.items() if n and name != "alembic_version"} == {}


def test_a_failing_audit_append_rolls_back_the_decision(
    database: Database, cipher: BlobCipher, audit: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an audit log that refuses the entry (as it refuses personal data)
    from kiosk.audit.entries import AuditEntryError

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AuditEntryError("refused")

    monkeypatch.setattr(audit, "append", refuse)
    # WHEN a transaction is recorded
    with pytest.raises(AuditEntryError):
        recorder.record_transaction(database, make_record(cipher=cipher), audit=audit)
    # THEN neither the decision nor its outbox message exist
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(DecisionRow)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxMessageRow)) == 0


def test_recording_the_same_transaction_twice_is_refused(
    database: Database, cipher: BlobCipher, audit: AuditLog
) -> None:
    # GIVEN a recorded transaction
    recorder.record_transaction(database, make_record(cipher=cipher), audit=audit)
    # WHEN it is recorded again
    with pytest.raises(DuplicateTransactionError) as caught:
        recorder.record_transaction(database, make_record(cipher=cipher), audit=audit)
    # THEN the error is typed and there is still exactly one decision message
    assert caught.value.code == "transaction_exists"
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessageRow)) == 1
        assert check_integrity(session) == []


def test_integrity_check_finds_a_decision_without_its_message(
    database: Database, cipher: BlobCipher, audit: AuditLog
) -> None:
    # GIVEN two recorded transactions, one of whose outbox message is then lost
    recorder.record_transaction(database, make_record("txn-a", cipher=cipher), audit=audit)
    recorder.record_transaction(database, make_record("txn-b", cipher=cipher), audit=audit)
    with database.write() as session:
        message = session.scalars(
            select(OutboxMessageRow).where(OutboxMessageRow.subject_id == "txn-b")
        ).one()
        session.delete(message)
    # WHEN the integrity is checked
    with database.read() as session:
        problems = check_integrity(session)
    # THEN exactly that decision is named
    assert problems == ["decision txn-b: not exactly one outbox message"]


def test_samples_without_a_cipher_are_refused(database: Database) -> None:
    # GIVEN a record with a face image but no cipher WHEN recorded THEN a typed error
    with pytest.raises(InvalidRecordError):
        recorder.record_transaction(database, make_record(samples=(face_sample(),)))


def test_records_check_their_rules() -> None:
    base = make_record()
    # GIVEN / WHEN records breaking a rule THEN each is refused with a typed error
    with pytest.raises(InvalidRecordError, match="accept"):
        DecidedTransaction(
            "t1", "k", T0, T0, Decision.ACCEPT, reasons=(ReasonCode.MINOR,), checks=()
        )
    with pytest.raises(InvalidRecordError, match="reason"):
        DecidedTransaction("t1", "k", T0, T0, Decision.REJECT)
    with pytest.raises(InvalidRecordError, match="timezone"):
        DecidedTransaction("t1", "k", datetime(2025, 1, 1), T0, Decision.ACCEPT)
    with pytest.raises(InvalidRecordError, match="transaction id"):
        DecidedTransaction("bad id!", "k", T0, T0, Decision.ACCEPT)
    with pytest.raises(InvalidRecordError, match="repeat"):
        DecidedTransaction(
            "t1",
            "k",
            T0,
            T0,
            Decision.ACCEPT,
            checks=(CheckResult("x", CheckStatus.PASSED), CheckResult("x", CheckStatus.FAILED)),
        )
    assert base.needs_referral and T0.tzinfo is UTC
