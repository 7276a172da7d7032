"""CSCA master lists (ICAO Doc 9303 Part 12, 9): CMS SignedData over CscaMasterList, signed by
a master list signer whose certificate is in the CMS. The list counts as verified only when
its signature verifies and its signer is pinned or chains to a pinned CSCA
(:mod:`kiosk.trust.pinning`); a CSCA inside the list never vouches for the list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from asn1crypto import core
from asn1crypto import x509 as asn1_x509

from kiosk.icao.auth.cms_verify import verify_signer_info
from kiosk.icao.lds import oids
from kiosk.icao.lds.signed_data import parse_signed_data
from kiosk.trust.errors import TrustFileError
from kiosk.trust.pinning import VERIFIED, PinnedAnchors
from models.errors import ParseError
from models.records import CheckStatus

MAX_CERTIFICATES = 20_000


class _CertificateSet(core.SetOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = asn1_x509.Certificate


class CscaMasterListSyntax(core.Sequence):  # type: ignore[misc]
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
        parsed = CscaMasterListSyntax.load(content, strict=True)
        items = parsed["cert_list"]
        if len(items) > MAX_CERTIFICATES:
            raise TrustFileError("master list with too many certificates")
        return tuple(bytes(item.dump()) for item in items)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise TrustFileError(f"CscaMasterList unreadable ({exc.__class__.__name__})") from exc


def parse_master_list(der: bytes, pinned: PinnedAnchors | None = None) -> MasterList:
    """Parse a master list and verify its signer against the ``pinned`` anchors."""
    try:
        signed = parse_signed_data(der, "master list")
    except ParseError as exc:
        raise TrustFileError(f"not a CMS master list: {exc}") from exc
    if signed.content_type != oids.CSCA_MASTER_LIST:
        raise TrustFileError("CMS content is not a CSCA master list")
    certificates = _certificates(signed.content)
    if len(signed.signer_infos) != 1:
        raise TrustFileError("a master list has exactly one signer")
    signer = signed.signer_infos[0]
    outcome = verify_signer_info(signed.content_type, signed.content, signer, signed.certificates)
    signer_der = outcome.certificate.dump() if outcome.certificate is not None else None
    if outcome.status is not CheckStatus.PASSED or outcome.certificate is None:
        if outcome.status is CheckStatus.FAILED and outcome.reason != "signer_certificate_missing":
            raise TrustFileError(f"master list signature invalid ({outcome.reason})")
        return MasterList(
            certificates, signer_der, False, outcome.reason or "not_verified", signer.signing_time
        )
    when = signer.signing_time or dt.datetime.now(dt.UTC)
    status = (pinned or PinnedAnchors()).signer_status(outcome.certificate, certificates, when)
    return MasterList(certificates, signer_der, status == VERIFIED, status, signer.signing_time)
