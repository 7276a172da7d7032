"""Screening data: lost and stolen documents, the person watchlist, passenger manifests.

These are lists received from authorities (not traveller records), kept as they come so the
screening engine can index them. The screening engine may add columns in a later migration.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, JSONDocument, utc_now


class LostStolenDocumentRow(Base):
    """One document reported lost, stolen or revoked (SLTD-style), exact lookup by number."""

    __tablename__ = "lost_stolen_documents"
    __table_args__ = (Index("ix_lost_stolen_documents_number_issuer", "document_number", "issuer"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    document_number: Mapped[str] = mapped_column(String(20))
    issuer: Mapped[str] = mapped_column(String(3))
    doc_type: Mapped[str | None] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16), default="stolen")
    reported_on: Mapped[date | None]
    list_version: Mapped[int] = mapped_column(default=0)
    added_at: Mapped[datetime] = mapped_column(default=utc_now)


class WatchlistEntryRow(Base):
    """A person to look out for: names as listed, birth date and nationality when known."""

    __tablename__ = "watchlist_entries"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    surname: Mapped[str] = mapped_column(String(120))
    given_names: Mapped[str] = mapped_column(String(120), default="")
    birth_date: Mapped[date | None]
    nationality: Mapped[str | None] = mapped_column(String(3))
    category: Mapped[str] = mapped_column(String(32), default="alert")
    list_version: Mapped[int] = mapped_column(default=0)
    added_at: Mapped[datetime] = mapped_column(default=utc_now)


class ManifestEntryRow(Base):
    """One expected passenger from advance passenger information (API)."""

    __tablename__ = "manifest_entries"
    __table_args__ = (
        Index("ix_manifest_entries_number_issuer", "document_number", "issuer"),
        Index("ix_manifest_entries_flight_arrival", "flight", "arrival_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    flight: Mapped[str] = mapped_column(String(16))
    arrival_date: Mapped[date]
    surname: Mapped[str] = mapped_column(String(120))
    given_names: Mapped[str] = mapped_column(String(120), default="")
    document_number: Mapped[str] = mapped_column(String(20))
    issuer: Mapped[str] = mapped_column(String(3))
    nationality: Mapped[str | None] = mapped_column(String(3))
    birth_date: Mapped[date | None]
    sex: Mapped[str | None] = mapped_column(String(1))
    expiry_date: Mapped[date | None]
    # pre-arrival vetting of the central server: cleared | refer | no_board (None: not vetted)
    vetting: Mapped[str | None] = mapped_column(String(10))
    vetting_reasons: Mapped[list[str] | None] = mapped_column(JSONDocument)
    source: Mapped[str | None] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(default=utc_now)
