"""Genuine profiles are correctly signed; each defective profile really carries its defect."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from asn1crypto import algos
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from hardware.sim.chip_image import DG_FIDS, FID_EF_CARDACCESS, FID_EF_COM, FID_EF_SOD, ChipImage
from hardware.sim.passports import PassportFactory, profile_listing
from hardware.sim.pki.dh_groups import load_dh_pkcs8
from hardware.sim.profiles import shipped_profiles
from kiosk.icao.lds import (
    LdsParseError,
    SecurityObject,
    parse_card_access,
    parse_com,
    parse_dg1,
    parse_dg2,
    parse_dg11,
    parse_dg14,
    parse_dg15,
    parse_sod,
)
from kiosk.icao.lds.oids import ICAO_HASH_ALGORITHMS

HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
SIGNATURES = {
    "1.2.840.10045.4.3.2": ("ecdsa", "sha256"),
    "1.2.840.10045.4.3.3": ("ecdsa", "sha384"),
    "1.2.840.10045.4.3.4": ("ecdsa", "sha512"),
    "1.2.840.113549.1.1.11": ("pkcs1", "sha256"),
}
GENUINE = sorted(n for n, p in shipped_profiles().items() if p.genuine)


def _sod(image: ChipImage) -> SecurityObject:
    return parse_sod(image.application_files[FID_EF_SOD])


def _signature_valid(sod: SecurityObject) -> bool:
    signer = sod.signer_infos[0]
    key = x509.load_der_x509_certificate(sod.certificates[0]).public_key()
    data = signer.signed_attributes
    assert data is not None
    try:
        if signer.signature_algorithm == "1.2.840.113549.1.1.10":
            assert isinstance(key, rsa.RSAPublicKey) and signer.signature_parameters
            params = algos.RSASSAPSSParams.load(signer.signature_parameters)
            h = HASHES[params["hash_algorithm"]["algorithm"].native]()
            key.verify(
                signer.signature,
                data,
                padding.PSS(padding.MGF1(h), params["salt_length"].native),
                h,
            )
        else:
            kind, name = SIGNATURES[signer.signature_algorithm]
            if kind == "ecdsa":
                assert isinstance(key, ec.EllipticCurvePublicKey)
                key.verify(signer.signature, data, ec.ECDSA(HASHES[name]()))
            else:
                assert isinstance(key, rsa.RSAPublicKey)
                key.verify(signer.signature, data, padding.PKCS1v15(), HASHES[name]())
    except InvalidSignature:
        return False
    return True


def _mismatched(image: ChipImage, sod: SecurityObject) -> list[int]:
    return [
        n
        for n, expected in sod.data_group_hashes.items()
        if hashlib.new(sod.hash_algorithm, image.application_files[DG_FIDS[n]]).digest() != expected
    ]


def _ds(sod: SecurityObject) -> x509.Certificate:
    return x509.load_der_x509_certificate(sod.certificates[0])


def _issued_by_an_anchor(passports: PassportFactory, cert: x509.Certificate) -> bool:
    for path in passports.pki.trust_anchor_paths():
        try:
            cert.verify_directly_issued_by(x509.load_der_x509_certificate(path.read_bytes()))
            return True
        except (ValueError, TypeError, InvalidSignature):
            continue
    return False


def _public_der(pkcs8: bytes) -> bytes:
    key = serialization.load_der_private_key(pkcs8, password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_at_least_twenty_defects_and_the_listing_contract() -> None:
    listing = profile_listing()
    assert sum(not item["genuine"] for item in listing) >= 20
    assert {"LCA", "JAM", "TTO", "BRB", "GUY"} <= {i["name"][:3].upper() for i in listing}
    for item in listing:
        assert set(item) >= {"name", "genuine", "mrz", "can", "expected"}
        assert set(item["expected"]) == {"authentic", "failed_check", "reason", "also_failed"}
        assert all(len(line) in (30, 44) for line in item["mrz"].split("\n"))


@pytest.mark.parametrize("name", GENUINE)
def test_genuine_profile_is_correctly_signed(passports: PassportFactory, name: str) -> None:
    # GIVEN the chip image of a genuine profile
    image = passports.chip_image(name)
    sod = _sod(image)
    # THEN its SOD signature verifies, the digest covers the LDS security object,
    # every data group hash matches and the DS chains to the country's current CSCA
    assert _signature_valid(sod)
    assert hashlib.new(sod.signer_infos[0].digest_algorithm, sod.encapsulated_content).digest() == (
        sod.signer_infos[0].message_digest
    )
    assert _mismatched(image, sod) == []
    com = parse_com(image.application_files[FID_EF_COM])
    assert set(com.data_groups) == set(sod.data_group_hashes)
    assert _issued_by_an_anchor(passports, _ds(sod))
    assert parse_dg1(image.application_files[DG_FIDS[1]]).mrz == passports.printed_mrz(name)
    assert parse_dg2(image.application_files[DG_FIDS[2]]).faces[0].image_format in (
        "jpeg",
        "jpeg2000",
    )
    if image.aa_private_key:
        assert parse_dg15(
            image.application_files[DG_FIDS[15]]
        ).public_key.named_spki() == _public_der(image.aa_private_key)
    if image.pace:
        assert parse_card_access(image.master_files[FID_EF_CARDACCESS]).pace


def test_jam_uses_jpeg2000_in_iso39794_and_dh_chip_authentication(
    passports: PassportFactory,
) -> None:
    image = passports.chip_image("jam-genuine")
    face = parse_dg2(image.application_files[DG_FIDS[2]]).faces[0]
    assert (face.image_format, face.record_format) == ("jpeg2000", "iso39794-5")
    dg14 = parse_dg14(image.application_files[DG_FIDS[14]])
    key = dg14.chip_authentication_keys[0].public_key
    chip_key = load_dh_pkcs8(image.ca_private_keys[None])
    assert key.algorithm == "dh" and key.spki == chip_key.spki_der()


def _image(passports: PassportFactory, name: str) -> tuple[ChipImage, SecurityObject]:
    image = passports.chip_image(name)
    return image, _sod(image)


def test_dg1_and_dg2_tampering_break_their_hash(passports: PassportFactory) -> None:
    for name, dg in (("lca-dg1-altered", 1), ("lca-dg2-swapped", 2)):
        image, sod = _image(passports, name)
        assert _signature_valid(sod)
        assert _mismatched(image, sod) == [dg]


def test_broken_signature(passports: PassportFactory) -> None:
    image, sod = _image(passports, "lca-sod-signature-broken")
    assert not _signature_valid(sod) and _mismatched(image, sod) == []


def test_ds_not_chaining_and_unknown_csca(passports: PassportFactory) -> None:
    for name in ("lca-ds-not-chaining", "lca-csca-unknown"):
        image, sod = _image(passports, name)
        assert _signature_valid(sod)
        assert not _issued_by_an_anchor(passports, _ds(sod))
    rogue = x509.load_der_x509_certificate(passports.pki.untrusted_csca_path("LCA").read_bytes())
    _ds(_image(passports, "lca-csca-unknown")[1]).verify_directly_issued_by(rogue)


def test_revoked_ds_is_on_the_crl(passports: PassportFactory) -> None:
    _, sod = _image(passports, "lca-ds-revoked")
    crl = x509.load_der_x509_crl(passports.pki.path("crl/LCA-2.crl").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(_ds(sod).serial_number) is not None
    assert _issued_by_an_anchor(passports, _ds(sod))


def test_ds_expired_when_it_signed(passports: PassportFactory) -> None:
    _, sod = _image(passports, "lca-ds-expired-at-signing")
    signing_time = sod.signer_infos[0].signing_time
    assert signing_time is not None and signing_time > _ds(sod).not_valid_after_utc


def test_cloned_chip_keys_differ_from_the_signed_ones(passports: PassportFactory) -> None:
    image, _ = _image(passports, "lca-aa-clone")
    dg15 = parse_dg15(image.application_files[DG_FIDS[15]]).public_key
    assert image.aa_private_key and dg15.named_spki() != _public_der(image.aa_private_key)
    image, _ = _image(passports, "lca-ca-key-mismatch")
    dg14 = parse_dg14(image.application_files[DG_FIDS[14]]).chip_authentication_keys[0]
    assert dg14.public_key.spki != _public_der(image.ca_private_keys[1])


def test_unsigned_dg14_matches_the_chip_key_but_not_the_sod(passports: PassportFactory) -> None:
    image, sod = _image(passports, "lca-dg14-unsigned")
    assert 14 not in sod.data_group_hashes
    assert 14 in parse_com(image.application_files[FID_EF_COM]).data_groups
    dg14 = parse_dg14(image.application_files[DG_FIDS[14]]).chip_authentication_keys[0]
    assert dg14.public_key.spki == _public_der(image.ca_private_keys[1])


def test_printed_mrz_defects(passports: PassportFactory) -> None:
    image, _ = _image(passports, "lca-mrz-mismatch")
    dg1 = parse_dg1(image.application_files[DG_FIDS[1]]).mrz
    printed = passports.printed_mrz("lca-mrz-mismatch")
    assert dg1 != printed and dg1.split("\n")[1] == printed.split("\n")[1]
    image, _ = _image(passports, "lca-wrong-password")
    printed = passports.printed_mrz("lca-wrong-password").split("\n")[1]
    assert printed[13:19] != image.mrz_information[10:16]


def test_issuer_mismatch_and_expired_document(passports: PassportFactory) -> None:
    image, sod = _image(passports, "lca-issuer-mismatch")
    assert parse_dg1(image.application_files[DG_FIDS[1]]).mrz[2:5] == "JAM"
    assert _ds(sod).issuer.rfc4514_string().endswith("C=LC")
    image, sod = _image(passports, "lca-expired")
    expiry = parse_dg1(image.application_files[DG_FIDS[1]]).lines[1][21:27]
    assert dt.datetime.strptime(expiry, "%y%m%d").date() < dt.date.today()
    assert _signature_valid(sod) and _mismatched(image, sod) == []


def test_unreadable_documents(passports: PassportFactory) -> None:
    image, sod = _image(passports, "lca-dg11-malformed")
    assert _mismatched(image, sod) == []
    with pytest.raises(LdsParseError):
        parse_dg11(image.application_files[DG_FIDS[11]])
    image = passports.chip_image("lca-sod-truncated")
    with pytest.raises(LdsParseError):
        parse_sod(image.application_files[FID_EF_SOD])
    image = passports.chip_image("lca-stops-mid-read")
    total = sum(len(f) for f in image.application_files.values())
    assert image.behaviour.stop_after_bytes_read is not None
    assert image.behaviour.stop_after_bytes_read < total


def test_access_protocol_variants(passports: PassportFactory) -> None:
    bac_only = passports.chip_image("lca-bac-only")
    assert bac_only.bac and not bac_only.pace and FID_EF_CARDACCESS not in bac_only.master_files
    pace_only = passports.chip_image("lca-pace-only")
    assert not pace_only.bac and pace_only.pace
    assert parse_card_access(pace_only.master_files[FID_EF_CARDACCESS]).pace[0].parameter_id == 13


def test_unlisted_hash_algorithm(passports: PassportFactory) -> None:
    image, sod = _image(passports, "lca-sod-unlisted-hash")
    assert sod.hash_algorithm == "md5" and sod.hash_algorithm not in ICAO_HASH_ALGORITHMS
    assert _signature_valid(sod) and _mismatched(image, sod) == []
