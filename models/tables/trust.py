"""The trust store of document authentication: CSCA, link, DS and master-list-signer
certificates, and CRLs, indexed the way chain building looks them up.

``subject_key`` and ``issuer_key`` are the SHA-256 (hex) of the DER-encoded subject and issuer
names, so lookups by name are exact and indexable on every backend; ``subject`` keeps the
readable RFC 4514 form for the technician.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utc_now


class TrustCertificateRow(Base):
    """A certificate of the trust store; ``kind`` is csca | link | ds | master_list_signer."""

    __tablename__ = "trust_certificates"
    __table_args__ = (
        Index("ix_trust_certificates_country_kind", "country", "kind"),
        Index("ix_trust_certificates_issuer_serial", "issuer_key", "serial_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(24))
    country: Mapped[str | None] = mapped_column(String(3))
    subject: Mapped[str] = mapped_column(String(1000))
    subject_key: Mapped[str] = mapped_column(String(64), index=True)
    issuer_key: Mapped[str] = mapped_column(String(64))
    subject_key_identifier: Mapped[str | None] = mapped_column(String(128), index=True)
    authority_key_identifier: Mapped[str | None] = mapped_column(String(128))
    serial_number: Mapped[str] = mapped_column(String(80))
    not_before: Mapped[datetime]
    not_after: Mapped[datetime] = mapped_column(index=True)
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    der: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str | None] = mapped_column(String(200))
    list_version: Mapped[int] = mapped_column(default=0)
    added_at: Mapped[datetime] = mapped_column(default=utc_now)


class TrustCrlRow(Base):
    """A certificate revocation list of a CSCA, with its ``next_update`` for freshness."""

    __tablename__ = "trust_crls"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    country: Mapped[str | None] = mapped_column(String(3), index=True)
    issuer: Mapped[str] = mapped_column(String(1000))
    issuer_key: Mapped[str] = mapped_column(String(64), index=True)
    authority_key_identifier: Mapped[str | None] = mapped_column(String(128))
    crl_number: Mapped[str | None] = mapped_column(String(80))
    this_update: Mapped[datetime]
    next_update: Mapped[datetime | None] = mapped_column(index=True)
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    der: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str | None] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(default=utc_now)
