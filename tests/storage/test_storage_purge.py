"""Retention: biometric blobs and referral names older than the retention are purged."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from kiosk.config import KioskConfig
from kiosk.storage import outbox, recorder
from kiosk.storage.crypto_store import BlobCipher, load_blob
from kiosk.storage.database import Database
from kiosk.storage.purge import run_purge
from models.tables import BiometricBlobRow, OutboxMessageRow, ReferralRow

from .conftest import T0, face_sample, make_record  # type: ignore[import-not-found]

OLD_IMAGE = b"OLD-FACE-IMAGE-" * 64
NEW_IMAGE = b"NEW-FACE-IMAGE-" * 64


def _set_blob_times(database: Database) -> None:
    # blobs get created_at = now; move them to the transaction's time
    with database.write() as session:
        for blob in session.scalars(select(BiometricBlobRow)):
            blob.created_at = T0 if blob.transaction_id == "txn-new" else T0 - timedelta(hours=30)


def test_purge_removes_what_is_older_than_the_retention(
    database: Database, kiosk_config: KioskConfig, cipher: BlobCipher
) -> None:
    # GIVEN a transaction 30 hours old and one just made, each with a face image,
    # and the old decision message already sent to the server
    old = make_record(
        "txn-old",
        cipher=cipher,
        decided_at=T0 - timedelta(hours=30),
        samples=(face_sample(OLD_IMAGE),),
    )
    new = make_record("txn-new", cipher=cipher, decided_at=T0, samples=(face_sample(NEW_IMAGE),))
    recorder.record_transaction(database, old, cipher=cipher)
    recorder.record_transaction(database, new, cipher=cipher)
    _set_blob_times(database)
    with database.write() as session:
        message = session.scalars(
            select(OutboxMessageRow).where(
                OutboxMessageRow.subject_id == "txn-old", OutboxMessageRow.kind == "decision"
            )
        ).one()
        message.created_at = T0 - timedelta(hours=30)
        outbox.mark_sent(session, [message.id], now=T0 - timedelta(hours=29))
        old_ciphertext = session.scalars(
            select(BiometricBlobRow.ciphertext).where(BiometricBlobRow.transaction_id == "txn-old")
        ).one()
    # WHEN the purge runs with a 24-hour retention
    result = run_purge(database, retention_hours=24, now=T0 + timedelta(minutes=1))
    # THEN the old blob, the old referral's names and the sent message's names are gone
    assert (result.blobs, result.referrals, result.messages) == (1, 1, 1)
    with database.read() as session:
        blobs = session.scalars(select(BiometricBlobRow)).all()
        assert [b.transaction_id for b in blobs] == ["txn-new"]
        assert load_blob(cipher, blobs[0]) == NEW_IMAGE
        old_referral = session.get(ReferralRow, "txn-old")
        new_referral = session.get(ReferralRow, "txn-new")
        assert old_referral is not None and new_referral is not None
        assert (old_referral.surname, old_referral.given_names, old_referral.birth_date) == (
            None,
            None,
            None,
        )
        assert old_referral.personal_data_purged_at is not None
        assert new_referral.surname == "ERIKSSON"
        messages = {
            m.subject_id: m.payload
            for m in session.scalars(
                select(OutboxMessageRow).where(OutboxMessageRow.kind == "decision")
            ).all()
        }
        assert messages["txn-old"]["referral"]["surname"] is None
        assert messages["txn-new"]["referral"]["surname"] == "ERIKSSON"
    # AND the purged ciphertext is not left anywhere in the database files
    database.close()
    raw = b"".join(p.read_bytes() for p in Path(kiosk_config.data_dir).glob("kiosk.db*"))
    assert old_ciphertext[:48] not in raw
    assert b"txn-new" in raw


def test_purge_with_nothing_expired_keeps_everything(
    database: Database, cipher: BlobCipher
) -> None:
    # GIVEN a fresh transaction with an image
    recorder.record_transaction(
        database,
        make_record("txn-new", cipher=cipher, samples=(face_sample(NEW_IMAGE),)),
        cipher=cipher,
    )
    _set_blob_times(database)
    # WHEN the purge runs one hour later THEN nothing is removed
    result = run_purge(database, retention_hours=24, now=T0 + timedelta(hours=1))
    assert (result.blobs, result.referrals, result.messages) == (0, 0, 0)
    with database.read() as session:
        assert len(session.scalars(select(BiometricBlobRow)).all()) == 1
