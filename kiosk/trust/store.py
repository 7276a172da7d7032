"""The trust store in the local database: add certificates and CRLs (duplicates detected by
fingerprint), look up trust anchors by country, report freshness."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from kiosk.icao.auth.anchors import TrustAnchors, load_certificate
from kiosk.icao.auth.revocation import crl_signed_by, load_crl
from kiosk.storage.database import Database
from kiosk.trust.pinning import PinnedAnchors
from kiosk.trust.records import CSCA, DS, LINK, certificate_row, crl_row, fingerprint, name_key
from models.tables.trust import TrustCertificateRow, TrustCrlRow

ADDED, DUPLICATE = "added", "duplicate"

StoreSignature = tuple[int, int, int, int]


def store_signature(database: Database) -> StoreSignature:
    """A cheap signature of the trust store (row counts and highest ids of the certificate and
    CRL tables): whatever an import or a synced delta changed, changes it."""
    with database.read() as session:
        certs = session.execute(
            select(func.count(TrustCertificateRow.id), func.max(TrustCertificateRow.id))
        ).one()
        crls = session.execute(select(func.count(TrustCrlRow.id), func.max(TrustCrlRow.id))).one()
    return (int(certs[0]), int(certs[1] or 0), int(crls[0]), int(crls[1] or 0))


@dataclass(frozen=True)
class Freshness:
    crl_count: int
    oldest_next_update: dt.datetime | None
    stale_crls: list[dict[str, str]]
    expiring_certificates: list[dict[str, str]]
    days: int

    def to_json(self) -> dict[str, object]:
        return {
            "crl_count": self.crl_count,
            "oldest_crl_next_update": self.oldest_next_update.isoformat()
            if self.oldest_next_update
            else None,
            "crls_past_next_update": self.stale_crls,
            "certificates_expiring_within_days": self.days,
            "certificates_near_expiry": self.expiring_certificates,
        }


@dataclass(frozen=True)
class CertificateEntry:
    kind: str
    country: str | None
    subject: str
    subject_key_identifier: str | None
    serial_number: str
    not_before: dt.datetime
    not_after: dt.datetime
    fingerprint_sha256: str
    source: str | None
    der: bytes

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "country": self.country,
            "subject": self.subject,
            "subject_key_identifier": self.subject_key_identifier,
            "serial_number": self.serial_number,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "fingerprint_sha256": self.fingerprint_sha256,
            "source": self.source,
        }


@dataclass(frozen=True)
class CrlEntry:
    country: str | None
    issuer: str
    this_update: dt.datetime
    next_update: dt.datetime | None
    der: bytes


class TrustStore:
    """``pinned``: the operator's out-of-band anchors; a master list imported or synced into
    this store is accepted only under them (:mod:`kiosk.trust.pinning`)."""

    def __init__(self, database: Database, pinned: PinnedAnchors | None = None) -> None:
        self.database = database
        self.pinned = pinned or PinnedAnchors()

    def known_fingerprints(self) -> set[str]:
        with self.database.read() as session:
            certs = session.scalars(select(TrustCertificateRow.fingerprint_sha256)).all()
            crls = session.scalars(select(TrustCrlRow.fingerprint_sha256)).all()
        return set(certs) | set(crls)

    def add_certificates(self, items: list[tuple[bytes, str]]) -> tuple[int, int]:
        """Add (DER, source) certificates in one transaction: (added, duplicates)."""
        known = self.known_fingerprints()
        added = duplicates = 0
        with self.database.write() as session:
            for der, source in items:
                print_ = fingerprint(der)
                if print_ in known:
                    duplicates += 1
                    continue
                session.add(certificate_row(der, source))
                known.add(print_)
                added += 1
        return added, duplicates

    def issuers_of_crl(self, crl: Any) -> list[bytes]:
        """DER CSCA and link certificates whose subject is the CRL's issuer."""
        key = name_key(crl["tbs_cert_list"]["issuer"])
        with self.database.read() as session:
            rows = session.scalars(
                select(TrustCertificateRow.der).where(
                    TrustCertificateRow.subject_key == key,
                    TrustCertificateRow.kind.in_((CSCA, LINK)),
                )
            ).all()
        return list(rows)

    def add_crl(self, der: bytes, source: str | None) -> str:
        """ADDED, DUPLICATE, or a reason for rejecting it (signature not by its CSCA)."""
        if fingerprint(der) in self.known_fingerprints():
            return DUPLICATE
        crl = load_crl(der)
        issuers = self.issuers_of_crl(crl)
        if issuers and not any(crl_signed_by(crl, load_certificate(i)) for i in issuers):
            return "crl_signature_invalid"
        with self.database.write() as session:
            session.add(crl_row(der, source))
        return ADDED

    def certificates(self, country: str | None = None) -> list[CertificateEntry]:
        query = select(TrustCertificateRow).order_by(
            TrustCertificateRow.country, TrustCertificateRow.kind, TrustCertificateRow.not_after
        )
        if country:
            query = query.where(TrustCertificateRow.country == country.upper())
        with self.database.read() as session:
            return [
                CertificateEntry(
                    r.kind,
                    r.country,
                    r.subject,
                    r.subject_key_identifier,
                    r.serial_number,
                    r.not_before,
                    r.not_after,
                    r.fingerprint_sha256,
                    r.source,
                    r.der,
                )
                for r in session.scalars(query)
            ]

    def crls(self) -> list[CrlEntry]:
        with self.database.read() as session:
            return [
                CrlEntry(r.country, r.issuer, r.this_update, r.next_update, r.der)
                for r in session.scalars(select(TrustCrlRow))
            ]

    def anchors(self, country: str | None = None) -> TrustAnchors:
        """Trust anchors (all countries, or one alpha-2 country) for Passive Authentication."""
        rows = self.certificates(country)
        crls = [r.der for r in self.crls() if country is None or r.country == country]
        return TrustAnchors(
            tuple(r.der for r in rows if r.kind == CSCA),
            tuple(r.der for r in rows if r.kind == LINK),
            tuple(crls),
            tuple(r.der for r in rows if r.kind == DS),
        )

    def freshness(self, now: dt.datetime, days: int) -> Freshness:
        crls = self.crls()
        updates = [c.next_update for c in crls if c.next_update is not None]
        stale = [
            {"issuer": c.issuer, "next_update": c.next_update.isoformat()}
            for c in crls
            if c.next_update is not None and c.next_update < now
        ]
        horizon = now + dt.timedelta(days=days)
        expiring = [
            {
                "kind": r.kind,
                "country": r.country or "",
                "subject": r.subject,
                "not_after": r.not_after.isoformat(),
            }
            for r in self.certificates()
            if r.kind in (CSCA, LINK) and now <= r.not_after <= horizon
        ]
        return Freshness(len(crls), min(updates) if updates else None, stale, expiring, days)
