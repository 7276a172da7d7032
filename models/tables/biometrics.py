"""Face images and templates, encrypted at rest (AES-256-GCM), purged after the retention."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utc_now


class BiometricBlobRow(Base):
    """One encrypted sample. ``key_id`` names the storage key; the associated data of the
    AES-GCM encryption is the transaction id, so a blob moved to another transaction fails."""

    __tablename__ = "biometric_blobs"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("transactions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str] = mapped_column(String(16))
    nonce: Mapped[bytes] = mapped_column(LargeBinary(12))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
