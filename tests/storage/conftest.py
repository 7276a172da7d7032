"""Fixtures of the storage tests: a private kiosk configuration and a migrated database."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.config import KioskConfig, load_config
from kiosk.storage.crypto_store import BlobCipher
from kiosk.storage.database import Database, open_database
from models.records import (
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

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_kiosk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings from the environment win over arguments: keep the caller's out of the tests."""
    for name in list(os.environ):
        if name.startswith("KIOSK_") and name != "KIOSK_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)


@pytest.fixture
def kiosk_config(tmp_path: Path) -> KioskConfig:
    return load_config(data_dir=tmp_path / "home", kiosk_id="kiosk-test")


@pytest.fixture
def database(kiosk_config: KioskConfig) -> Iterator[Database]:
    db = open_database(kiosk_config)
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def cipher() -> BlobCipher:
    return BlobCipher(base64.b64decode(base64.b64encode(bytes(range(32)))))


def make_record(
    transaction_id: str = "txn-0001",
    *,
    decision: Decision = Decision.REFER,
    cipher: BlobCipher | None = None,
    decided_at: datetime = T0,
    samples: tuple[BiometricSample, ...] = (),
) -> DecidedTransaction:
    reasons = () if decision is Decision.ACCEPT else (ReasonCode.BIOMETRIC_MISMATCH,)
    token = cipher.document_token("UTO", "L898902C3") if cipher else None
    return DecidedTransaction(
        transaction_id=transaction_id,
        kiosk_id="kiosk-test",
        started_at=decided_at - timedelta(seconds=9),
        decided_at=decided_at,
        decision=decision,
        reasons=reasons,
        checks=(
            CheckResult("sod_signature", CheckStatus.PASSED),
            CheckResult("face_match", CheckStatus.FAILED, "biometric_mismatch", "score too low"),
            CheckResult("active_authentication", CheckStatus.NOT_SUPPORTED),
        ),
        document=DocumentSummary(
            doc_type="P",
            issuer="UTO",
            nationality="UTO",
            expiry_date=date(2030, 4, 15),
            number_token=token,
            chip_read=True,
        ),
        referral_subject=ReferralSubject("ERIKSSON", "ANNA MARIA", date(1974, 8, 12))
        if decision is not Decision.ACCEPT
        else None,
        samples=samples,
        timings_ms={"chip": 812.5, "face": 1400.0},
        policy="caricom",
    )


def face_sample(data: bytes = b"\xff\xd8JPEG-face-image-bytes" * 10) -> BiometricSample:
    return BiometricSample(BlobKind.FACE_IMAGE, data)
