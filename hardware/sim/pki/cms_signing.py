"""Writing CMS SignedData the way states sign EF.SOD, EF.CardSecurity and master lists."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from hardware.sim.pki.keys import SigningKey
from hardware.sim.pki.signatures import SignatureScheme, hash_algorithm
from kiosk.icao.lds.signed_data import encode_signed_data


@dataclass(frozen=True)
class Signer:
    """A certificate with its private key and the scheme it signs with."""

    certificate: x509.Certificate
    key: SigningKey
    scheme: SignatureScheme

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)


def digest(name: str, data: bytes) -> bytes:
    h = hashes.Hash(hash_algorithm(name))
    h.update(data)
    return h.finalize()


def sign_content(
    content_type: str,
    content: bytes,
    signer: Signer,
    *,
    digest_algorithm: str | None = None,
    signing_time: dt.datetime | None = None,
    extra_certificates: tuple[bytes, ...] = (),
    include_certificate: bool = True,
    attribute_defect: str | None = None,
) -> bytes:
    """DER ContentInfo holding SignedData over ``content`` (signed attributes: content type,
    message digest and, when given, signing time). ``attribute_defect`` (red team):
    "none" signs the content without signed attributes, "double_digest" adds a second
    message digest attribute (of other content) after the right one."""
    digest_name = digest_algorithm or signer.scheme.hash
    attrs = [
        cms.CMSAttribute({"type": "content_type", "values": [content_type]}),
        cms.CMSAttribute({"type": "message_digest", "values": [digest(digest_name, content)]}),
    ]
    if attribute_defect == "double_digest":
        other = digest(digest_name, content + b"\x00")
        attrs.append(cms.CMSAttribute({"type": "message_digest", "values": [other]}))
    if signing_time is not None:
        attrs.append(
            cms.CMSAttribute(
                {"type": "signing_time", "values": [cms.Time({"utc_time": signing_time})]}
            )
        )
    signed_attrs = cms.CMSAttributes(attrs)
    # The signature covers the DER SET OF the attributes (RFC 5652 5.4).
    signature = signer.scheme.sign(signer.key, signed_attrs.untag().dump())
    if attribute_defect == "none":
        signature = signer.scheme.sign(signer.key, content)
    listed = [signer.certificate_der] if include_certificate else []
    return encode_signed_data(
        content_type,
        content,
        signer.certificate_der,
        digest_name,
        signed_attrs if attribute_defect != "none" else None,
        signer.scheme.cms_algorithm(),
        signature,
        listed + list(extra_certificates),
    )
