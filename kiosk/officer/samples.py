"""Sample referrals for rehearsals, demos and screenshots of the officer booth.

They are built from the simulated Saint Lucia passport (``hardware/sim/profiles``): a
fictitious traveller whose chip photo ships with the simulator. Written through the normal
recorder, so they carry an outbox row and an audit entry like any real referral.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from kiosk.audit.log import AuditLog
from kiosk.storage.crypto_store import BlobCipher
from kiosk.storage.database import Database
from kiosk.storage.recorder import record_transaction
from models.family import FAMILY_CHECK, family_message
from models.records import (
    BiometricSample,
    BlobKind,
    CheckResult,
    CheckStatus,
    DecidedTransaction,
    Decision,
    DocumentSummary,
    ListedPerson,
    ReasonCode,
    ReferralSubject,
)
from models.tables import TransactionRow

FACES = Path(__file__).resolve().parents[2] / "hardware" / "sim" / "profiles" / "faces"
PASSED, FAILED = CheckStatus.PASSED, CheckStatus.FAILED


def _live_capture(photo: bytes) -> bytes:
    """The chip photo seen 'by the camera': a wider, slightly darker crop."""
    from PIL import Image, ImageEnhance

    with Image.open(io.BytesIO(photo)) as image:
        picture = ImageEnhance.Brightness(image.convert("RGB")).enhance(0.9)
        w, h = picture.size
        picture = picture.crop((int(w * 0.05), int(h * 0.02), int(w * 0.95), int(h * 0.98)))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=85)
    return out.getvalue()


def sample_referrals(
    kiosk_id: str, cipher: BlobCipher, now: datetime | None = None
) -> list[DecidedTransaction]:
    moment = now or datetime.now(UTC)
    photo = (FACES / "rose_1.jpg").read_bytes()
    other = (FACES / "kit_1.jpg").read_bytes()
    common = (
        CheckResult("mrz_consistency", PASSED),
        CheckResult("sod_signature", PASSED),
        CheckResult("chain", PASSED, message="CSCA LCA, DS valid"),
        CheckResult("hashes", PASSED),
        CheckResult("active_authentication", PASSED),
    )
    cases = [
        (
            "mismatch",
            (ReasonCode.BIOMETRIC_MISMATCH,),
            (
                CheckResult("face_match", FAILED, "biometric_mismatch", "distance 0.71 > 0.60"),
                CheckResult("liveness", PASSED),
                CheckResult("watchlist", PASSED),
                CheckResult("lost_stolen", PASSED),
            ),
            ReferralSubject(
                "JOSEPH", "MARIE ANGELA", date(1987, 3, 14), document_number="LC1234567"
            ),
            other,
        ),
        (
            "watchlist",
            (ReasonCode.WATCHLIST_HIT,),
            (
                CheckResult("face_match", PASSED, message="distance 0.38 <= 0.60"),
                CheckResult("liveness", PASSED),
                CheckResult(
                    "watchlist", FAILED, "watchlist_hit", "1 candidate, score 0.93 (name, DOB)"
                ),
                CheckResult("lost_stolen", PASSED),
            ),
            ReferralSubject(
                "JOSEPH",
                "MARIE ANGELA",
                date(1987, 3, 14),
                document_number="LC1234567",
                listed=(
                    ListedPerson(
                        list_name="regional-watchlist",
                        reference="IMPACS-2024-0193",
                        surname="JOSEPH",
                        given_names="MARIE ANGELIQUE",
                        birth_date="1987-03",
                        nationality="LCA",
                        score=0.93,
                        agreeing=("name", "birth_date", "nationality"),
                    ),
                ),
            ),
            photo,
        ),
    ]
    records = []
    for index, (label, reasons, checks, subject, live) in enumerate(cases):
        txn = f"{kiosk_id}-sample-{label}-{index + 1:02d}"
        decided = moment - timedelta(minutes=4 - index * 2)
        records.append(
            DecidedTransaction(
                transaction_id=txn,
                kiosk_id=kiosk_id,
                started_at=decided - timedelta(seconds=11),
                decided_at=decided,
                decision=Decision.REFER,
                reasons=reasons,
                checks=common + checks,
                document=DocumentSummary(
                    "P",
                    "LCA",
                    "LCA",
                    date(2033, 5, 19),
                    cipher.document_token("LCA", "LC1234567"),
                    True,
                ),
                referral_subject=subject,
                samples=(
                    BiometricSample(BlobKind.CHIP_PORTRAIT, photo),
                    BiometricSample(BlobKind.FACE_IMAGE, _live_capture(live)),
                ),
                policy="caricom",
            )
        )
    return records


def sample_family(
    kiosk_id: str, cipher: BlobCipher, now: datetime | None = None
) -> list[DecidedTransaction]:
    """A fictitious family of two referred together: the first member passed on their own
    (``family_referral``), the second one's face did not match. Each member has their own record
    with the ``family`` check, as a family transaction writes them."""
    moment = (now or datetime.now(UTC)) - timedelta(minutes=1)
    family = f"{kiosk_id}-sample-family"
    members = (
        ("ROSE", "ANNA", date(1984, 6, 2), "rose_1.jpg", "rose_1.jpg", ReasonCode.FAMILY_REFERRAL),
        ("ROSE", "LIN", date(1981, 4, 9), "lin_1.jpg", "kit_1.jpg", ReasonCode.BIOMETRIC_MISMATCH),
    )
    records = []
    for position, (surname, given, born, chip, live, reason) in enumerate(members, 1):
        face = (
            CheckResult("face_match", FAILED, "biometric_mismatch", "distance 0.74 > 0.60")
            if reason is ReasonCode.BIOMETRIC_MISMATCH
            else CheckResult("face_match", PASSED, message="distance 0.31 <= 0.60")
        )
        number = f"LC765432{position}"
        photo = (FACES / chip).read_bytes()
        records.append(
            DecidedTransaction(
                transaction_id=f"{family}-m{position}",
                kiosk_id=kiosk_id,
                started_at=moment - timedelta(seconds=40),
                decided_at=moment,
                decision=Decision.REFER,
                reasons=(reason,),
                checks=(
                    CheckResult("mrz_consistency", PASSED),
                    CheckResult("sod_signature", PASSED),
                    face,
                    CheckResult("watchlist", PASSED),
                    CheckResult(
                        FAMILY_CHECK,
                        FAILED,
                        "family_referral",
                        family_message(family, position, len(members)),
                    ),  # fmt: skip
                ),
                document=DocumentSummary(
                    "P", "LCA", "LCA", date(2031, 2, 11), cipher.document_token("LCA", number), True
                ),  # fmt: skip
                referral_subject=ReferralSubject(surname, given, born, document_number=number),
                samples=(
                    BiometricSample(BlobKind.CHIP_PORTRAIT, photo),
                    BiometricSample(
                        BlobKind.FACE_IMAGE, _live_capture((FACES / live).read_bytes())
                    ),
                ),
                policy="caricom",
            )
        )
    return records


def seed_sample_referrals(
    database: Database, cipher: BlobCipher, audit: AuditLog | None, kiosk_id: str
) -> list[str]:
    """Record the sample referrals (those not recorded yet); returns their transaction ids."""
    ids = []
    for record in sample_referrals(kiosk_id, cipher):
        with database.read() as session:
            known = session.get(TransactionRow, record.transaction_id) is not None
        if not known:
            record_transaction(database, record, cipher=cipher, audit=audit)
        ids.append(record.transaction_id)
    return ids
