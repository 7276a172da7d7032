"""Certificates and CRLs of the ICAO PKI profile (Doc 9303 Part 12, section 7).

CSCA: self-signed, C=<country>, keyCertSign + cRLSign, CA with path length 0, subject and
authority key identifiers, private key usage period. Link certificate: the new CSCA key signed
by the old one. Document signer: digitalSignature, authority key identifier, document type
list. Master list signer: digitalSignature with the master list signing extended key usage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

from hardware.sim.pki.keys import SigningKey
from hardware.sim.pki.signatures import SignatureScheme, certificate_hash
from kiosk.icao.lds import oids

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


class _DocumentTypeList(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    class _Types(core.SetOf):  # type: ignore[misc]
        _child_spec = core.PrintableString

    _fields = [("version", core.Integer), ("doc_type_list", _Types)]


@dataclass(frozen=True)
class Validity:
    not_before: dt.datetime
    not_after: dt.datetime
    usage_not_after: dt.datetime | None = None  # private key usage period end


def country_name(alpha2: str, common_name: str, serial: str | None = None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, alpha2),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"Test Government of {alpha2}"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    if serial is not None:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    return x509.Name(attributes)


def _sign(
    builder: x509.CertificateBuilder, key: SigningKey, scheme: SignatureScheme
) -> x509.Certificate:
    return builder.sign(key, certificate_hash(scheme.hash), rsa_padding=scheme.rsa_padding())


def _base(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: PublicKey,
    validity: Validity,
    issuer_key_id: bytes,
) -> x509.CertificateBuilder:
    ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity.not_before)
        .not_valid_after(validity.not_after)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier(issuer_key_id, None, None), critical=False)
    )
    if validity.usage_not_after is not None:
        builder = builder.add_extension(
            x509.PrivateKeyUsagePeriod(validity.not_before, validity.usage_not_after),
            critical=False,
        )
    return builder


def _ca_extensions(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    usage = x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    return builder.add_extension(usage, critical=True).add_extension(
        x509.BasicConstraints(ca=True, path_length=0), critical=True
    )


def _signing_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def key_id(public_key: PublicKey) -> bytes:
    return x509.SubjectKeyIdentifier.from_public_key(public_key).digest


def make_csca(
    name: x509.Name, key: SigningKey, scheme: SignatureScheme, validity: Validity
) -> x509.Certificate:
    builder = _base(name, name, key.public_key(), validity, key_id(key.public_key()))
    return _sign(_ca_extensions(builder), key, scheme)


def make_link(
    new_csca: x509.Certificate,
    old_name: x509.Name,
    old_key: SigningKey,
    scheme: SignatureScheme,
    validity: Validity,
) -> x509.Certificate:
    """The new CSCA's name and key certified by the old CSCA key."""
    public = new_csca.public_key()
    assert isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey)
    builder = _base(new_csca.subject, old_name, public, validity, key_id(old_key.public_key()))
    return _sign(_ca_extensions(builder), old_key, scheme)


def make_document_signer(
    subject: x509.Name,
    public_key: PublicKey,
    issuer: x509.Name,
    issuer_key: SigningKey,
    scheme: SignatureScheme,
    validity: Validity,
    *,
    authority_key_id: bytes | None = None,
    document_types: tuple[str, ...] = ("P",),
    usage: x509.KeyUsage | None = None,
    ca: bool = False,
    extended_usage: tuple[str, ...] = (),
) -> x509.Certificate:
    """A DS certificate; ``authority_key_id`` overrides the AKI (forged certificates);
    ``usage``, ``ca`` and ``extended_usage`` make certificates that break the DS profile."""
    aki = authority_key_id or key_id(issuer_key.public_key())
    builder = _base(subject, issuer, public_key, validity, aki).add_extension(
        usage or _signing_usage(), critical=True
    )
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
    if extended_usage:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ObjectIdentifier(o) for o in extended_usage]), critical=False
        )
    if document_types:
        value = _DocumentTypeList({"version": 0, "doc_type_list": list(document_types)}).dump()
        builder = builder.add_extension(
            x509.UnrecognizedExtension(ObjectIdentifier(oids.DOCUMENT_TYPE_LIST), value),
            critical=False,
        )
    return _sign(builder, issuer_key, scheme)


def make_master_list_signer(
    subject: x509.Name,
    public_key: PublicKey,
    issuer: x509.Name,
    issuer_key: SigningKey,
    scheme: SignatureScheme,
    validity: Validity,
) -> x509.Certificate:
    builder = (
        _base(subject, issuer, public_key, validity, key_id(issuer_key.public_key()))
        .add_extension(_signing_usage(), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ObjectIdentifier(oids.CSCA_MASTER_LIST_SIGNING_KEY)]),
            critical=False,
        )
    )
    return _sign(builder, issuer_key, scheme)


def make_crl(
    issuer: x509.Certificate,
    issuer_key: SigningKey,
    scheme: SignatureScheme,
    revoked_serials: list[int],
    this_update: dt.datetime,
    next_update: dt.datetime,
    crl_number: int = 1,
) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(crl_number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier(key_id(issuer_key.public_key()), None, None),
            critical=False,
        )
    )
    for serial in revoked_serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(this_update - dt.timedelta(days=1))
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
    return builder.sign(issuer_key, certificate_hash(scheme.hash), rsa_padding=scheme.rsa_padding())
