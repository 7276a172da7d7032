"""The test PKI follows the ICAO certificate profile and its parts chain as they should."""

from __future__ import annotations

from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID

from hardware.sim.passports import PassportFactory
from hardware.sim.pki.master_list import master_list_certificates
from hardware.sim.pki.test_pki import TestPki
from kiosk.icao.lds import oids, parse_signed_data


def _cert(path: Path) -> x509.Certificate:
    return x509.load_der_x509_certificate(path.read_bytes())


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


@pytest.fixture(scope="module")
def pki(passports: PassportFactory) -> TestPki:
    return passports.pki


@pytest.mark.parametrize("country", ["LCA", "JAM", "TTO", "BRB", "GUY"])
def test_csca_has_the_icao_profile(pki: TestPki, country: str) -> None:
    for path in pki.csca_paths(country):
        csca = _cert(path)
        assert _issued_by(csca, csca)
        usage = csca.extensions.get_extension_for_class(x509.KeyUsage)
        assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
        constraints = csca.extensions.get_extension_for_class(x509.BasicConstraints)
        assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
        ski = csca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        aki = csca.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        assert aki.key_identifier == ski
    first = _cert(pki.csca_paths(country)[0])
    assert first.extensions.get_extension_for_class(x509.PrivateKeyUsagePeriod)


def test_country_names_are_alpha2(pki: TestPki) -> None:
    csca = _cert(pki.csca_paths("LCA")[1])
    assert csca.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "LC"


@pytest.mark.parametrize("country", ["LCA", "JAM", "TTO", "BRB", "GUY"])
def test_link_certificate_carries_the_new_key_signed_by_the_old(pki: TestPki, country: str) -> None:
    old, new = (_cert(p) for p in pki.csca_paths(country))
    link = _cert(pki.path(pki.manifest["countries"][country]["link"]))
    assert _issued_by(link, old)
    assert link.public_key() == new.public_key()
    assert link.subject == new.subject and link.issuer == old.subject


@pytest.mark.parametrize("country", ["LCA", "JAM", "TTO", "BRB", "GUY"])
def test_document_signers_chain_or_not_as_their_variant_says(pki: TestPki, country: str) -> None:
    old, new = (_cert(p) for p in pki.csca_paths(country))
    rogue = _cert(pki.untrusted_csca_path(country))
    current = pki.document_signer(country, "current").signer.certificate
    assert _issued_by(current, new)
    usage = current.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    doc_types = current.extensions.get_extension_for_oid(
        x509.ObjectIdentifier(oids.DOCUMENT_TYPE_LIST)
    )
    assert doc_types.value.value.endswith(b"\x13\x01P")
    assert _issued_by(pki.document_signer(country, "old").signer.certificate, old)
    forged = pki.document_signer(country, "forged").signer.certificate
    assert forged.issuer == new.subject and not _issued_by(forged, new)
    unknown = pki.document_signer(country, "unknown-csca").signer.certificate
    assert _issued_by(unknown, rogue)
    assert pki.untrusted_csca_path(country).read_bytes() not in {
        p.read_bytes() for p in pki.trust_anchor_paths()
    }


def test_crl_revokes_exactly_the_revoked_signer(pki: TestPki) -> None:
    new = _cert(pki.csca_paths("LCA")[1])
    crl = x509.load_der_x509_crl(pki.path("crl/LCA-2.crl").read_bytes())
    assert crl.is_signature_valid(new.public_key())  # type: ignore[arg-type]
    revoked = pki.document_signer("LCA", "revoked").signer.certificate
    current = pki.document_signer("LCA", "current").signer.certificate
    assert crl.get_revoked_certificate_by_serial_number(revoked.serial_number) is not None
    assert crl.get_revoked_certificate_by_serial_number(current.serial_number) is None
    assert crl.next_update_utc is not None and crl.next_update_utc > crl.last_update_utc


def test_master_list_holds_every_anchor_and_is_signed_by_its_signer(pki: TestPki) -> None:
    signed = parse_signed_data(pki.master_list_path.read_bytes(), "master list")
    assert signed.content_type == oids.CSCA_MASTER_LIST
    listed = set(master_list_certificates(signed.content))
    assert listed == {p.read_bytes() for p in pki.trust_anchor_paths()}
    signer_cert = _cert(pki.master_list_signer_path)
    assert signed.certificates[0] == pki.master_list_signer_path.read_bytes()
    assert _issued_by(signer_cert, _cert(pki.csca_paths(pki.countries[0])[1]))
    eku = signer_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.ObjectIdentifier(oids.CSCA_MASTER_LIST_SIGNING_KEY) in list(eku)
    info = cms.ContentInfo.load(pki.master_list_path.read_bytes())
    attrs = info["content"]["signer_infos"][0]["signed_attrs"]
    assert attrs[0]["values"][0].dotted == oids.CSCA_MASTER_LIST


def test_ensure_reuses_a_fresh_pki(pki: TestPki) -> None:
    again = TestPki.ensure(pki.directory, pki.countries)
    assert again.build_id == pki.build_id
