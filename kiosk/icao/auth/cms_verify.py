"""Verifying one CMS SignerInfo (RFC 5652 5.4 and 5.6): the signer's certificate, the signed
attributes (content type, message digest) and the signature. Shared by EF.SOD and CSCA master
lists."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kiosk.icao.auth.anchors import CertificateParseError, load_certificate
from kiosk.icao.auth.public_keys import UnsupportedKeyError, load_verifying_key
from kiosk.icao.auth.signatures import (
    SignatureInvalidError,
    UnsupportedSignatureError,
    verify_signature,
)
from kiosk.icao.lds import oids
from kiosk.icao.lds.signed_data import SignerInfo
from models.records import CheckStatus


@dataclass(frozen=True)
class SignerOutcome:
    status: CheckStatus
    reason: str | None
    message: str
    certificate: Any | None  # asn1crypto certificate of the signer, when found


def _matches(cert: Any, signer: SignerInfo) -> bool:
    if signer.subject_key_identifier is not None:
        return bool(cert.key_identifier == signer.subject_key_identifier)
    return bool(
        signer.issuer is not None
        and cert.issuer.dump() == signer.issuer
        and int(cert.serial_number) == signer.serial_number
    )


def find_signer_certificate(signer: SignerInfo, certificates: Iterable[bytes]) -> Any | None:
    for der in certificates:
        try:
            cert = load_certificate(der)
        except CertificateParseError:
            continue
        if _matches(cert, signer):
            return cert
    return None


def verify_signer_info(
    content_type: str, content: bytes, signer: SignerInfo, certificates: Iterable[bytes]
) -> SignerOutcome:
    cert = find_signer_certificate(signer, certificates)
    if cert is None:
        return SignerOutcome(
            CheckStatus.FAILED,
            "signer_certificate_missing",
            "the signer certificate is missing",
            None,
        )
    if signer.signed_attributes is None:
        # ICAO 9303 Part 10 4.6.2.2: signed attributes are mandatory; a bare signature over
        # the content is refused.
        return SignerOutcome(
            CheckStatus.FAILED,
            "signed_attributes_missing",
            "the SignerInfo has no signed attributes",
            cert,
        )
    if signer.attribute_problem is not None:
        return SignerOutcome(
            CheckStatus.FAILED,
            signer.attribute_problem,
            "a signed attribute appears more than once",
            cert,
        )
    if signer.message_digest is None or signer.content_type is None:
        return SignerOutcome(
            CheckStatus.FAILED,
            "signed_attribute_missing",
            "content type or message digest attribute missing",
            cert,
        )
    if signer.content_type != content_type:
        return SignerOutcome(
            CheckStatus.FAILED, "content_type_mismatch", "signed content type differs", cert
        )
    if signer.digest_algorithm not in oids.ICAO_HASH_ALGORITHMS:
        return SignerOutcome(
            CheckStatus.NOT_SUPPORTED,
            "unsupported_digest_algorithm",
            "digest not supported",
            cert,
        )
    if signer.message_digest != hashlib.new(signer.digest_algorithm, content).digest():
        return SignerOutcome(
            CheckStatus.FAILED,
            "message_digest_mismatch",
            "signed digest differs from the content",
            cert,
        )
    signed_data = signer.signed_attributes
    try:
        key = load_verifying_key(cert.public_key.dump())
        verify_signature(
            key,
            signer.signature_algorithm,
            signer.signature_parameters,
            signer.signature,
            signed_data,
            digest_algorithm=signer.digest_algorithm,
        )
    except SignatureInvalidError:
        return SignerOutcome(
            CheckStatus.FAILED, "signature_invalid", "the signature does not verify", cert
        )
    except (UnsupportedKeyError, UnsupportedSignatureError) as exc:
        return SignerOutcome(
            CheckStatus.NOT_SUPPORTED, exc.code, "algorithm or key not supported", cert
        )
    return SignerOutcome(CheckStatus.PASSED, None, "signature verifies", cert)
