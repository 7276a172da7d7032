"""The traveller transaction and what it decided.

Data minimisation (see :mod:`models.records`): no raw MRZ, no plain document number and no
name is stored with a transaction. :class:`DocumentSummaryRow` keeps a keyed token of the
document number (HMAC-SHA-256, for de-duplication), the issuer, type, nationality and expiry.
Names, the birth date, the document number and the screening entries matched are stored only
on a :class:`ReferralRow`, because the officer at the manual booth must know whom to expect;
the purge clears them after the retention period.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, JSONDocument, utc_now

TXN_ID = String(64)


class TransactionRow(Base):
    """One traveller at one kiosk, from document presented to decision."""

    __tablename__ = "transactions"

    id: Mapped[str] = mapped_column(TXN_ID, primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime]
    decided_at: Mapped[datetime] = mapped_column(index=True)
    policy: Mapped[str | None] = mapped_column(String(64))
    timings_ms: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    document: Mapped[DocumentSummaryRow | None] = relationship(
        back_populates="transaction", cascade="all, delete-orphan"
    )
    checks: Mapped[list[CheckResultRow]] = relationship(
        back_populates="transaction",
        cascade="all, delete-orphan",
        order_by="CheckResultRow.position",
    )
    decision: Mapped[DecisionRow | None] = relationship(
        back_populates="transaction", cascade="all, delete-orphan"
    )
    referral: Mapped[ReferralRow | None] = relationship(
        back_populates="transaction", cascade="all, delete-orphan"
    )


class DocumentSummaryRow(Base):
    """The document as far as records need it; never the MRZ, never the plain number."""

    __tablename__ = "document_summaries"
    __table_args__ = (Index("ix_document_summaries_number_token", "number_token"),)

    transaction_id: Mapped[str] = mapped_column(
        TXN_ID, ForeignKey("transactions.id", ondelete="CASCADE"), primary_key=True
    )
    doc_type: Mapped[str] = mapped_column(String(2))
    issuer: Mapped[str] = mapped_column(String(3))
    nationality: Mapped[str | None] = mapped_column(String(3))
    expiry_date: Mapped[date | None]
    number_token: Mapped[str | None] = mapped_column(String(64))
    chip_read: Mapped[bool] = mapped_column(default=False)

    transaction: Mapped[TransactionRow] = relationship(back_populates="document")


class CheckResultRow(Base):
    """One check (chip access, SOD signature, face match, watchlist, ...) and its result."""

    __tablename__ = "check_results"
    __table_args__ = (UniqueConstraint("transaction_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(
        TXN_ID, ForeignKey("transactions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(String(500), default="")

    transaction: Mapped[TransactionRow] = relationship(back_populates="checks")


class DecisionRow(Base):
    """The decision of a transaction (exactly one), with its reason codes."""

    __tablename__ = "decisions"

    transaction_id: Mapped[str] = mapped_column(
        TXN_ID, ForeignKey("transactions.id", ondelete="CASCADE"), primary_key=True
    )
    decision: Mapped[str] = mapped_column(String(8), index=True)
    reasons: Mapped[list[str]] = mapped_column(default=list)
    decided_at: Mapped[datetime]

    transaction: Mapped[TransactionRow] = relationship(back_populates="decision")


class ReferralRow(Base):
    """A traveller sent to the manual booth, and what the officer decided."""

    __tablename__ = "referrals"

    transaction_id: Mapped[str] = mapped_column(
        TXN_ID, ForeignKey("transactions.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    reasons: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime]
    # Personal data for the officer only; cleared by the purge after the retention period.
    surname: Mapped[str | None] = mapped_column(String(120))
    given_names: Mapped[str | None] = mapped_column(String(120))
    birth_date: Mapped[date | None]
    document_number: Mapped[str | None] = mapped_column(String(20))
    listed: Mapped[list[Any] | None] = mapped_column(JSONDocument)  # ListedPerson.as_dict()
    personal_data_purged_at: Mapped[datetime | None]
    # The officer's resolution.
    resolved_at: Mapped[datetime | None]
    officer_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)

    transaction: Mapped[TransactionRow] = relationship(back_populates="referral")


class DeviceEventRow(Base):
    """A device fact for technicians: connected, fault, recovered... No personal data."""

    __tablename__ = "device_events"
    __table_args__ = (Index("ix_device_events_device_occurred", "device", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    code: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(String(500), default="")
    transaction_id: Mapped[str | None] = mapped_column(TXN_ID, index=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utc_now)
