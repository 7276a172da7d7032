"""CMS SignedData as the LDS uses it (EF.SOD, EF.CardSecurity), parsed with asn1crypto.

The signed attributes are kept as the exact DER SET that was signed (RFC 5652 5.4), the
encapsulated content as the exact bytes the message digest covers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509

from kiosk.icao.lds import oids
from kiosk.icao.lds.asn1_types import parse_der
from kiosk.icao.lds.errors import LdsParseError

SIGNED_DATA = "1.2.840.113549.1.7.2"
ATTR_CONTENT_TYPE = "1.2.840.113549.1.9.3"
ATTR_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
ATTR_SIGNING_TIME = "1.2.840.113549.1.9.5"


@dataclass(frozen=True)
class SignerInfo:
    """One signer of EF.SOD, with the exact bytes its signature covers."""

    digest_algorithm: str  # name from oids.HASH_ALGORITHMS, or the dotted OID
    signature_algorithm: str  # dotted OID
    signature_parameters: bytes | None  # DER of the algorithm parameters (RSA-PSS), if any
    signature: bytes
    signed_attributes: bytes | None  # DER of the signed attributes as a SET (tag 31)
    content_type: str | None  # content-type signed attribute
    message_digest: bytes | None  # message-digest signed attribute
    signing_time: dt.datetime | None
    issuer: bytes | None  # DER Name of the issuer of the signer certificate
    serial_number: int | None
    subject_key_identifier: bytes | None
    # a defect of the signed attributes that makes the signature meaningless (RFC 5652 5.3:
    # each attribute type at most once), e.g. "duplicate_signed_attribute"
    attribute_problem: str | None = None


@dataclass(frozen=True)
class SignedContent:
    content_type: str
    content: bytes
    certificates: tuple[bytes, ...]
    signer_infos: tuple[SignerInfo, ...]
    digest_algorithms: tuple[str, ...]


def hash_name(oid: str) -> str:
    return oids.HASH_ALGORITHMS.get(oid, oid)


def _signer_info(si: Any) -> SignerInfo:
    sid = si["sid"]
    issuer = serial = ski = None
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"].dump()
        serial = int(sid.chosen["serial_number"].native)
    else:
        ski = bytes(sid.chosen.native)
    attrs = si["signed_attrs"]
    signed_der = content_type = digest = signing_time = None
    problem: str | None = None
    if attrs.native is not None:
        raw_attrs = attrs.dump()
        signed_der = b"\x31" + raw_attrs[1:]  # [0] IMPLICIT -> SET, as RFC 5652 5.4 signs it
        seen: set[str] = set()
        for attr in attrs:
            kind = attr["type"].dotted
            if kind in seen:
                problem = "duplicate_signed_attribute"
            seen.add(kind)
            values = attr["values"]
            if len(values) != 1:
                raise LdsParseError("signed attribute with several values")
            if kind == ATTR_CONTENT_TYPE:
                content_type = values[0].dotted
            elif kind == ATTR_MESSAGE_DIGEST:
                digest = bytes(values[0].native)
            elif kind == ATTR_SIGNING_TIME:
                signing_time = values[0].native
    sig_alg = si["signature_algorithm"]
    params = sig_alg["parameters"]
    return SignerInfo(
        digest_algorithm=hash_name(si["digest_algorithm"]["algorithm"].dotted),
        signature_algorithm=sig_alg["algorithm"].dotted,
        signature_parameters=params.dump() if params.native is not None else None,
        signature=bytes(si["signature"].native),
        signed_attributes=signed_der,
        content_type=content_type,
        message_digest=digest,
        signing_time=signing_time,
        issuer=issuer,
        serial_number=serial,
        subject_key_identifier=ski,
        attribute_problem=problem,
    )


def parse_signed_data(der: bytes, what: str) -> SignedContent:
    """Parse a DER ContentInfo that must hold SignedData with encapsulated content."""

    def check(info: Any) -> SignedContent:
        if info["content_type"].dotted != SIGNED_DATA:
            raise LdsParseError(f"{what} does not hold SignedData")
        signed = info["content"]
        encap = signed["encap_content_info"]
        content = encap["content"]
        if content.native is None:
            raise LdsParseError(f"{what} has no encapsulated content")
        payload = bytes(content.contents) if content.method == 0 else bytes(content.native)
        certs = tuple(c.chosen.dump() for c in signed["certificates"] or [])
        signers = tuple(_signer_info(si) for si in signed["signer_infos"])
        if not signers:
            raise LdsParseError(f"{what} has no signer")
        digests = tuple(hash_name(a["algorithm"].dotted) for a in signed["digest_algorithms"])
        return SignedContent(encap["content_type"].dotted, payload, certs, signers, digests)

    return parse_der(cms.ContentInfo, der, what, check)


def encode_signed_data(
    content_type: str,
    content: bytes,
    signer_certificate: bytes,
    digest_algorithm: str,
    signed_attributes: Any | None,
    signature_algorithm: Any,
    signature: bytes,
    certificates: list[bytes] | None = None,
) -> bytes:
    """DER ContentInfo of SignedData with one SignerInfo (issuer and serial number of
    ``signer_certificate``) over ``content``; ``signed_attributes`` is an asn1crypto
    CMSAttributes (None: none), ``signature_algorithm`` a SignedDigestAlgorithm.
    ``certificates`` (DER) go into the CMS; default: the signer's certificate."""
    cert = asn1_x509.Certificate.load(signer_certificate)
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value=cms.IssuerAndSerialNumber(
                    {"issuer": cert.issuer, "serial_number": cert.serial_number}
                ),
            ),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest_algorithm}),
            "signed_attrs": signed_attributes,
            "signature_algorithm": signature_algorithm,
            "signature": signature,
        }
    )
    listed = [signer_certificate] if certificates is None else certificates
    fields: dict[str, Any] = {
        "version": "v3",
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": digest_algorithm})],
        "encap_content_info": cms.EncapsulatedContentInfo(
            {"content_type": content_type, "content": core.ParsableOctetString(content)}
        ),
        "signer_infos": [signer_info],
    }
    if listed:
        fields["certificates"] = [asn1_x509.Certificate.load(c) for c in listed]
    signed = cms.SignedData(fields)
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())
