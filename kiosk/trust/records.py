"""Trust-store rows from certificates and CRLs: what kind, which country, the lookup keys."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from kiosk.icao.auth.anchors import country_of, load_certificate
from kiosk.icao.auth.revocation import load_crl
from kiosk.icao.lds import oids
from models.tables.trust import TrustCertificateRow, TrustCrlRow

CSCA, LINK, DS, ML_SIGNER = "csca", "link", "ds", "master_list_signer"


def name_key(name: Any) -> str:
    """SHA-256 (hex) of a DER Name: exact, indexable lookups by subject or issuer."""
    return hashlib.sha256(name.dump()).hexdigest()


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def is_self_signed(cert: Any) -> bool:
    """Subject equals issuer and the key identifiers (when present) agree: a CSCA, not a
    link certificate (which may repeat the CSCA's name, as Indonesia's do)."""
    if cert.subject.dump() != cert.issuer.dump():
        return False
    ski, aki = cert.key_identifier, cert.authority_key_identifier
    return ski is None or aki is None or ski == aki


def certificate_kind(cert: Any) -> str:
    usage = cert.extended_key_usage_value
    if usage is not None and oids.CSCA_MASTER_LIST_SIGNING_KEY in [u.dotted for u in usage]:
        return ML_SIGNER
    if cert.ca:
        return CSCA if is_self_signed(cert) else LINK
    return DS


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def certificate_row(der: bytes, source: str | None) -> TrustCertificateRow:
    cert = load_certificate(der)
    validity = cert["tbs_certificate"]["validity"]
    ski, aki = cert.key_identifier, cert.authority_key_identifier
    return TrustCertificateRow(
        kind=certificate_kind(cert),
        country=country_of(cert.subject),
        subject=cert.subject.human_friendly[:1000],
        subject_key=name_key(cert.subject),
        issuer_key=name_key(cert.issuer),
        subject_key_identifier=ski.hex() if ski else None,
        authority_key_identifier=aki.hex() if aki else None,
        serial_number=str(cert.serial_number)[:80],
        not_before=_utc(validity["not_before"].native),
        not_after=_utc(validity["not_after"].native),
        fingerprint_sha256=fingerprint(der),
        der=bytes(der),
        source=(source or "")[:200] or None,
    )


def crl_row(der: bytes, source: str | None) -> TrustCrlRow:
    crl = load_crl(der)
    tbs = crl["tbs_cert_list"]
    aki = crl.authority_key_identifier
    number = crl.crl_number_value
    return TrustCrlRow(
        country=country_of(tbs["issuer"]),
        issuer=tbs["issuer"].human_friendly[:1000],
        issuer_key=name_key(tbs["issuer"]),
        authority_key_identifier=aki.hex() if aki else None,
        crl_number=str(number.native)[:80] if number is not None else None,
        this_update=_utc(tbs["this_update"].native),
        next_update=_utc(tbs["next_update"].native),
        fingerprint_sha256=fingerprint(der),
        der=bytes(der),
        source=(source or "")[:200] or None,
    )
