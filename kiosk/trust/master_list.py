"""CSCA master lists (ICAO Doc 9303 Part 12, 9): CMS SignedData over CscaMasterList, signed by
a master list signer whose certificate is in the CMS and was issued by a CSCA of the same
country. That CSCA must be in the list itself or already trusted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from asn1crypto import core
from asn1crypto import x509 as asn1_x509

from kiosk.icao.auth.anchors import TrustAnchors, country_of, load_certificate
from kiosk.icao.auth.chain import validate_chain
from kiosk.icao.auth.cms_verify import verify_signer_info
from kiosk.icao.lds import oids
from kiosk.icao.lds.signed_data import parse_signed_data
from kiosk.trust.errors import TrustFileError
from kiosk.trust.records import is_self_signed
from models.errors import ParseError
from models.records import CheckStatus

MAX_CERTIFICATES = 20_000


class _CertificateSet(core.SetOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = asn1_x509.Certificate


class _CscaMasterList(core.Sequence):  # type: ignore[misc]
    _fields = [("version", core.Integer), ("cert_list", _CertificateSet)]


@dataclass(frozen=True)
class MasterList:
    certificates: tuple[bytes, ...]  # DER CSCA and link certificates listed
    signer_certificate: bytes | None
    signer_verified: bool
    signer_status: str  # "verified" or a reason why not
    signing_time: dt.datetime | None


def _certificates(content: bytes) -> tuple[bytes, ...]:
    try:
        parsed = _CscaMasterList.load(content, strict=True)
        items = parsed["cert_list"]
        if len(items) > MAX_CERTIFICATES:
            raise TrustFileError("master list with too many certificates")
        return tuple(bytes(item.dump()) for item in items)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise TrustFileError(f"CscaMasterList unreadable ({exc.__class__.__name__})") from exc


def parse_master_list(der: bytes, trusted: TrustAnchors | None = None) -> MasterList:
    """Parse a master list and verify its signer (``trusted``: CSCAs already in the store)."""
    try:
        signed = parse_signed_data(der, "master list")
    except ParseError as exc:
        raise TrustFileError(f"not a CMS master list: {exc}") from exc
    if signed.content_type != oids.CSCA_MASTER_LIST:
        raise TrustFileError("CMS content is not a CSCA master list")
    certificates = _certificates(signed.content)
    signer = signed.signer_infos[0]
    outcome = verify_signer_info(signed.content_type, signed.content, signer, signed.certificates)
    signer_der = outcome.certificate.dump() if outcome.certificate is not None else None
    if outcome.status is not CheckStatus.PASSED or outcome.certificate is None:
        if outcome.status is CheckStatus.FAILED and outcome.reason != "signer_certificate_missing":
            raise TrustFileError(f"master list signature invalid ({outcome.reason})")
        return MasterList(
            certificates, signer_der, False, outcome.reason or "not_verified", signer.signing_time
        )
    status = _signer_chain(outcome.certificate, certificates, trusted, signer.signing_time)
    return MasterList(certificates, signer_der, status == "verified", status, signer.signing_time)


def _signer_chain(
    signer: Any, listed: tuple[bytes, ...], trusted: TrustAnchors | None, when: dt.datetime | None
) -> str:
    country = country_of(signer.subject)
    if country is None or country_of(signer.issuer) != country:
        return "signer_country_mismatch"
    cscas: list[bytes] = []
    links: list[bytes] = []
    needle = country.encode("ascii")
    for der in listed:
        if needle not in der and needle.lower() not in der:  # cheap filter before parsing
            continue
        cert = load_certificate(der)
        if country_of(cert.subject) != country or not cert.ca:
            continue
        (cscas if is_self_signed(cert) else links).append(der)
    anchors = TrustAnchors(tuple(cscas), tuple(links))
    if trusted is not None:
        anchors = anchors.merged(trusted)
    result = validate_chain(signer, anchors, when or dt.datetime.now(dt.UTC)).result
    return "verified" if result.status is CheckStatus.PASSED else f"signer_{result.reason}"
