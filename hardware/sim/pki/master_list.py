"""CSCA master list: CMS SignedData over CscaMasterList (ICAO 9303 Part 12, section 9)."""

from __future__ import annotations

from asn1crypto import core
from asn1crypto import x509 as asn1_x509

from hardware.sim.pki.cms_signing import Signer, sign_content
from kiosk.icao.lds import oids


class _CertificateSet(core.SetOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = asn1_x509.Certificate


class CscaMasterList(core.Sequence):  # type: ignore[misc]
    _fields = [("version", core.Integer), ("cert_list", _CertificateSet)]


def encode_master_list(certificates: list[bytes], signer: Signer) -> bytes:
    """DER ContentInfo: the master list of ``certificates``, signed by ``signer`` (whose
    certificate is included, as ICAO requires)."""
    content = CscaMasterList(
        {"version": 0, "cert_list": [asn1_x509.Certificate.load(c) for c in certificates]}
    ).dump()
    return sign_content(oids.CSCA_MASTER_LIST, bytes(content), signer)


def master_list_certificates(content: bytes) -> list[bytes]:
    """The certificates of a CscaMasterList content (for tests and tools)."""
    parsed = CscaMasterList.load(content)
    return [c.dump() for c in parsed["cert_list"]]
