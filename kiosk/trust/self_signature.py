"""A CSCA certificate must verify under its own key before it becomes a trust anchor.

A self-signed certificate whose signature does not verify was altered (its key, its name or
its validity changed after signing) or badly made; either way it proves nothing about who
holds the key, and the trust store refuses it. Certificates issued by another key (link
certificates, which may repeat the CSCA's name; document signers) are checked against their
issuer elsewhere.
"""

from __future__ import annotations

from kiosk.icao.auth.anchors import CertificateParseError, load_certificate
from kiosk.icao.auth.public_keys import UnsupportedKeyError, load_verifying_key
from kiosk.icao.auth.signatures import (
    SignatureInvalidError,
    UnsupportedSignatureError,
    verify_signature,
)
from kiosk.trust.records import is_self_signed

SELF_SIGNATURE_INVALID = "csca_self_signature_invalid"
SELF_SIGNATURE_UNSUPPORTED = "csca_self_signature_unverifiable"


def self_signature_problem(der: bytes) -> str | None:
    """None when ``der`` is not self-signed or its self-signature verifies; else the reason."""
    try:
        cert = load_certificate(der)
    except CertificateParseError:
        return None  # the store's own parsing names that
    if not is_self_signed(cert):  # a link certificate repeats the name, not the key
        return None
    algorithm = cert["signature_algorithm"]
    params = algorithm["parameters"]
    try:
        verify_signature(
            load_verifying_key(cert.public_key.dump()),
            algorithm["algorithm"].dotted,
            params.dump() if params.native is not None else None,
            bytes(cert["signature_value"].native),
            cert["tbs_certificate"].dump(),
        )
    except SignatureInvalidError:
        return SELF_SIGNATURE_INVALID
    except (UnsupportedKeyError, UnsupportedSignatureError):
        return SELF_SIGNATURE_UNSUPPORTED
    return None
