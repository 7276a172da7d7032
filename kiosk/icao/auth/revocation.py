"""Revocation of the certificates of a validated path by the CSCAs' CRLs.

A CRL counts only when its issuer name is the issuing CSCA's subject and its signature
verifies with that CSCA's key. A certificate listed on such a CRL is revoked whatever the
revocation date: the SOD's signing time is asserted by the very key that may be compromised,
so it cannot prove the signature came before the revocation. When a CRL of the issuer is
present but none verifies, the check fails (hard fail).

Every CA of the path needs its own current CRL: a CA whose CRL is unknown makes the check
``not_performed`` (``no_crl``), one whose CRLs are all past their nextUpdate makes it
``not_performed`` (``crl_stale``), even when another CA's CRL is current (as during a CSCA
rollover). The policy then decides; its default refers the traveller.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from asn1crypto import crl as asn1_crl

from kiosk.icao.auth.anchors import CertificateParseError
from kiosk.icao.auth.public_keys import UnsupportedKeyError, load_verifying_key
from kiosk.icao.auth.signatures import (
    SignatureInvalidError,
    UnsupportedSignatureError,
    verify_signature,
)
from models.records import CheckResult, CheckStatus

CHECK = "revocation"


def load_crl(der: bytes) -> Any:
    try:
        crl = asn1_crl.CertificateList.load(bytes(der), strict=True)
        _ = crl["tbs_cert_list"]["issuer"].native
        _ = crl["tbs_cert_list"]["next_update"].native
    except (ValueError, TypeError, KeyError, OverflowError, AttributeError) as exc:
        raise CertificateParseError(f"CRL unreadable ({exc.__class__.__name__})") from exc
    return crl


def crl_signed_by(crl: Any, issuer: Any) -> bool:
    """Whether ``crl`` names ``issuer`` (asn1crypto certificate) and its signature verifies."""
    if crl["tbs_cert_list"]["issuer"] != issuer.subject:
        return False
    algorithm = crl["signature_algorithm"]
    params = algorithm["parameters"]
    try:
        key = load_verifying_key(issuer.public_key.dump())
        verify_signature(
            key,
            algorithm["algorithm"].dotted,
            params.dump() if params.native is not None else None,
            bytes(crl["signature"].native),
            crl["tbs_cert_list"].dump(),
        )
    except (SignatureInvalidError, UnsupportedKeyError, UnsupportedSignatureError):
        return False
    return True


def _serials(crl: Any) -> set[int]:
    revoked = crl["tbs_cert_list"]["revoked_certificates"]
    return {int(entry["user_certificate"].native) for entry in revoked}


def _crls_of(issuer: Any, path: tuple[Any, ...], parsed: list[Any]) -> tuple[list[Any], bool]:
    """(CRLs of ``issuer`` whose signature verifies, whether any CRL names it at all). A CRL
    signed by another key of the same CA (a rollover) counts when that key is in the path."""
    candidates = [c for c in parsed if c["tbs_cert_list"]["issuer"] == issuer.subject]
    keys = [c for c in path if c.subject == issuer.subject and c.ca]
    valid = [c for c in candidates if any(crl_signed_by(c, k) for k in keys or [issuer])]
    return valid, bool(candidates)


def check_revocation(
    path: tuple[Any, ...], crls: tuple[bytes, ...], now: dt.datetime
) -> CheckResult:
    """Every certificate after the trust anchor in ``path`` against its issuer's CRLs."""
    parsed = []
    for der in crls:
        try:
            parsed.append(load_crl(der))
        except CertificateParseError:
            continue
    unknown = stale = 0
    for issuer, cert in zip(path, path[1:], strict=False):
        valid, named = _crls_of(issuer, path, parsed)
        if named and not valid:
            return CheckResult(
                CHECK,
                CheckStatus.FAILED,
                "crl_invalid",
                "the issuer's CRL signature does not verify",
            )
        serial = int(cert.serial_number)
        if any(serial in _serials(c) for c in valid):
            return CheckResult(
                CHECK,
                CheckStatus.FAILED,
                "certificate_revoked",
                "a certificate of the chain is revoked",
            )
        if not valid:
            unknown += 1
            continue
        next_updates = [c["tbs_cert_list"]["next_update"].native for c in valid]
        if not any(n is not None and n >= now for n in next_updates):
            stale += 1
    if unknown:
        return CheckResult(
            CHECK,
            CheckStatus.NOT_PERFORMED,
            "no_crl",
            f"no CRL is known for {unknown} CA(s) of the chain",
        )
    if stale:
        return CheckResult(
            CHECK,
            CheckStatus.NOT_PERFORMED,
            "crl_stale",
            f"the CRL of {stale} CA(s) of the chain is past its next update",
        )
    return CheckResult(CHECK, CheckStatus.PASSED, None, "not revoked; every CRL is current")
