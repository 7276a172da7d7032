"""Compiling an ICAO CSCA master list (Doc 9303 Part 12, 9) from CSCAs collected bilaterally.

The regional agency gathers the CSCA and link certificates of its member states (those absent
from the German or Dutch master lists) and publishes them as one CMS SignedData over
``CscaMasterList`` (content type id-icao-cscaMasterList), signed by its own master list
signer: signed attributes content type, message digest and signing time, the signer
certificate in the CMS. Kiosks accept the list only under that signer, pinned in
``[trust_pinning] master_list_signers``.

Before signing, every certificate is checked: a CA certificate (CSCA or link) with a country
(C=), and the signer certificate must carry the master list signing key usage (2.23.136.1.1.3)
and match the private key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from asn1crypto import algos, cms
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from kiosk.icao.auth.anchors import CertificateParseError, country_of, load_certificate
from kiosk.icao.lds import oids
from kiosk.icao.lds.signed_data import encode_signed_data
from kiosk.trust.errors import TrustFileError
from kiosk.trust.master_list import MAX_CERTIFICATES, CscaMasterListSyntax
from kiosk.trust.records import CSCA, LINK, certificate_kind

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_ECDSA = {"sha256": "sha256_ecdsa", "sha384": "sha384_ecdsa", "sha512": "sha512_ecdsa"}
_RSA = {"sha256": "sha256_rsa", "sha384": "sha384_rsa", "sha512": "sha512_rsa"}


@dataclass(frozen=True)
class BuiltMasterList:
    der: bytes
    certificates: int
    countries: tuple[str, ...]
    skipped: tuple[str, ...]  # duplicates, by fingerprint


def _checked_certificates(items: Iterable[tuple[str, bytes]]) -> tuple[list[bytes], list[str]]:
    seen: set[str] = set()
    out: list[bytes] = []
    skipped: list[str] = []
    for name, der in items:
        try:
            cert = load_certificate(der)
        except CertificateParseError as exc:
            raise TrustFileError(f"{name}: not a certificate ({exc.code})") from exc
        if certificate_kind(cert) not in (CSCA, LINK):
            raise TrustFileError(f"{name}: not a CSCA or link certificate")
        if country_of(cert.subject) is None:
            raise TrustFileError(f"{name}: CSCA without a country (C=)")
        print_ = hashlib.sha256(der).hexdigest()
        if print_ in seen:
            skipped.append(name)
            continue
        seen.add(print_)
        out.append(bytes(der))
    if not out:
        raise TrustFileError("no CSCA certificate to put in the master list")
    if len(out) > MAX_CERTIFICATES:
        raise TrustFileError("too many certificates for one master list")
    return out, skipped


def _signer(cert_der: bytes, key: Any) -> tuple[Any, str]:
    try:
        cert = load_certificate(cert_der)
    except CertificateParseError as exc:
        raise TrustFileError(f"signer certificate unreadable ({exc.code})") from exc
    usages = [u.dotted for u in cert.extended_key_usage_value or []]
    if oids.CSCA_MASTER_LIST_SIGNING_KEY not in usages:
        raise TrustFileError("the signer certificate lacks the master list signing key usage")
    if cert.ca:
        raise TrustFileError("the master list signer must not be a CA certificate")
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if public != cert.public_key.dump():
        raise TrustFileError("the private key does not belong to the signer certificate")
    if isinstance(key, rsa.RSAPrivateKey):
        return cert, "rsa"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return cert, "ecdsa"
    raise TrustFileError("the signer key must be RSA or EC")


def load_private_key(data: bytes, password: bytes | None = None) -> Any:
    """A PEM or DER private key; TrustFileError when it cannot be read."""
    for loader in (serialization.load_pem_private_key, serialization.load_der_private_key):
        try:
            return loader(data, password=password)
        except (ValueError, TypeError):
            continue
    raise TrustFileError("the signer key is not a readable PEM or DER private key")


def build_master_list(
    certificates: Iterable[tuple[str, bytes]],
    signer_certificate: bytes,
    signer_key: Any,
    *,
    digest: str = "sha256",
    now: dt.datetime | None = None,
) -> BuiltMasterList:
    """The DER CMS master list of ``certificates`` ((name, DER) pairs), signed by the list
    signer; raises :class:`TrustFileError` naming the first bad input."""
    if digest not in _HASHES:
        raise TrustFileError(f"digest {digest} not allowed (sha256, sha384, sha512)")
    listed, skipped = _checked_certificates(certificates)
    cert, kind = _signer(signer_certificate, signer_key)
    content = CscaMasterListSyntax(
        {"version": 0, "cert_list": [asn1_x509.Certificate.load(d) for d in listed]}
    ).dump()
    moment = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": [oids.CSCA_MASTER_LIST]}),
            cms.CMSAttribute(
                {"type": "message_digest", "values": [hashlib.new(digest, content).digest()]}
            ),
            cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": moment})]}),
        ]
    )
    to_sign = attrs.untag().dump()
    algorithm = _HASHES[digest]()
    if kind == "rsa":
        signature = signer_key.sign(to_sign, padding.PKCS1v15(), algorithm)
        signature_algorithm = _RSA[digest]
    else:
        signature = signer_key.sign(to_sign, ec.ECDSA(algorithm))
        signature_algorithm = _ECDSA[digest]
    der = encode_signed_data(
        oids.CSCA_MASTER_LIST,
        content,
        signer_certificate,
        digest,
        attrs,
        algos.SignedDigestAlgorithm({"algorithm": signature_algorithm}),
        signature,
    )
    countries = sorted({country_of(load_certificate(d).subject) or "" for d in listed})
    return BuiltMasterList(der, len(listed), tuple(countries), tuple(skipped))
