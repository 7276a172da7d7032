"""Revocation of the certificates of a validated path by the CSCAs' CRLs.

A CRL counts only when its issuer name is the issuing CSCA's subject and its signature
verifies with that CSCA's key. A certificate listed on such a CRL is revoked whatever the
revocation date: the SOD's signing time is asserted by the very key that may be compromised,
so it cannot prove the signature came before the revocation. When a CRL of the issuer is
present but none verifies, the check fails (hard fail); with no CRL at all it is
``not_performed``.
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
    checked = 0
    stale = False
    for issuer, cert in zip(path, path[1:], strict=False):
        candidates = [c for c in parsed if c["tbs_cert_list"]["issuer"] == issuer.subject]
        if not candidates:
            continue
        valid = [c for c in candidates if crl_signed_by(c, issuer)]
        if not valid:
            return CheckResult(
                CHECK,
                CheckStatus.FAILED,
                "crl_invalid",
                "the issuer's CRL signature does not verify",
            )
        checked += 1
        serial = int(cert.serial_number)
        if any(serial in _serials(c) for c in valid):
            return CheckResult(
                CHECK,
                CheckStatus.FAILED,
                "certificate_revoked",
                "a certificate of the chain is revoked",
            )
        next_updates = [c["tbs_cert_list"]["next_update"].native for c in valid]
        stale = stale or all(n is not None and n < now for n in next_updates)
    if not checked:
        return CheckResult(
            CHECK, CheckStatus.NOT_PERFORMED, "no_crl", "no CRL of the issuer is known"
        )
    if stale:
        return CheckResult(
            CHECK,
            CheckStatus.PASSED,
            "crl_stale",
            "not revoked, but the CRL is past its next update",
        )
    return CheckResult(CHECK, CheckStatus.PASSED, None, "not revoked")
