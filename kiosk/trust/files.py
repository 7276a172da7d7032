"""What a trust file holds: certificates (DER or PEM), CRLs (DER or PEM), master lists (CMS)
or ICAO PKD LDIF with any of them. Every item comes out as DER with its kind."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass

from asn1crypto import cms

from kiosk.icao.auth.anchors import CertificateParseError, load_certificate
from kiosk.icao.auth.revocation import load_crl
from kiosk.trust.errors import TrustFileError
from kiosk.trust.ldif import looks_like_ldif, read_ldif

MAX_FILE_BYTES = 64 * 1024 * 1024
_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)
LDIF_KINDS = {
    "usercertificate;binary": "certificate",
    "cacertificate;binary": "certificate",
    "certificaterevocationlist;binary": "crl",
    "pkdmasterlistcontent": "master_list",
    "pkdmasterlistcontent;binary": "master_list",
}


@dataclass(frozen=True)
class TrustItem:
    kind: str  # certificate | crl | master_list
    der: bytes


def _kind_of_der(der: bytes) -> str:
    try:
        load_certificate(der)
        return "certificate"
    except CertificateParseError:
        pass
    try:
        load_crl(der)
        return "crl"
    except CertificateParseError:
        pass
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native == "signed_data":
            return "master_list"
    except (ValueError, TypeError, KeyError):
        pass
    raise TrustFileError("neither a certificate, a CRL nor a CMS master list")


def _pem_items(data: bytes) -> Iterator[TrustItem]:
    for match in _PEM.finditer(data):
        label = match.group(1).decode()
        try:
            der = base64.b64decode(b"".join(match.group(2).split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise TrustFileError(f"PEM block {label} is not valid base64") from exc
        if label in ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"):
            yield TrustItem("certificate", der)
        elif label == "X509 CRL":
            yield TrustItem("crl", der)
        elif label in ("CMS", "PKCS7"):
            yield TrustItem("master_list", der)
        else:
            raise TrustFileError(f"PEM block {label} is not a certificate, CRL or CMS")


def trust_items(data: bytes) -> list[TrustItem]:
    """The items of one trust file; raises :class:`TrustFileError` when it holds none."""
    if len(data) > MAX_FILE_BYTES:
        raise TrustFileError("trust file larger than 64 MB")
    if b"-----BEGIN " in data[:65536]:
        items = list(_pem_items(data))
    elif looks_like_ldif(data):
        items = [
            TrustItem(LDIF_KINDS[name.lower()], value)
            for record in read_ldif(data)
            for name, value in record
            if name.lower() in LDIF_KINDS
        ]
    else:
        items = [TrustItem(_kind_of_der(data), data)]
    if not items:
        raise TrustFileError("no certificate, CRL or master list in the file")
    return items
