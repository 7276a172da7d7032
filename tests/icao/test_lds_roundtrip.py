"""LDS encoders and parsers agree, and the TLV walker refuses impossible lengths."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kiosk.icao.lds import (
    FaceImage,
    LdsParseError,
    encode_com,
    encode_dg1,
    encode_dg2,
    encode_dg7,
    encode_dg11,
    encode_dg12,
    encode_dg14,
    encode_dg15,
    encode_lds_security_object,
    encode_sod,
    oids,
    parse_com,
    parse_data_group,
    parse_dg1,
    parse_dg2,
    parse_dg7,
    parse_dg11,
    parse_dg12,
    parse_dg14,
    parse_dg15,
    parse_lds_file,
    parse_sod,
)
from kiosk.icao.lds import security_infos as si
from kiosk.icao.lds._tlv import read_tlv
from kiosk.icao.lds.ec_params import with_explicit_parameters
from kiosk.icao.lds.sod import parse_lds_security_object

TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
JPEG = bytes.fromhex("ffd8ffe000104a464946") + bytes(200)


def _spki(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_tlv_claiming_two_gigabytes_fails_at_once() -> None:
    with pytest.raises(LdsParseError, match="exceeds"):
        read_tlv(b"\x61\x84\x80\x00\x00\x00" + b"\x00" * 10)


def test_tlv_with_five_length_bytes_is_refused() -> None:
    with pytest.raises(LdsParseError):
        read_tlv(b"\x61\x85\x00\x00\x00\x00\x01\x00")


def test_com_round_trip() -> None:
    com = parse_com(encode_com([1, 2, 11, 14, 15]))
    assert com.data_groups == (1, 2, 11, 14, 15)
    assert (com.lds_version, com.unicode_version) == ("0107", "040000")


def test_dg1_round_trip_keeps_lines() -> None:
    dg1 = parse_dg1(encode_dg1(TD3))
    assert dg1.mrz == TD3
    assert dg1.mrz_tlv.startswith(b"\x5f\x1f\x58")


def test_dg1_with_lowercase_mrz_is_refused() -> None:
    bad = encode_dg1(TD3).replace(b"ERIKSSON", b"eriksson")
    with pytest.raises(LdsParseError):
        parse_dg1(bad)


@pytest.mark.parametrize("record", ["iso19794-5", "iso39794-5"])
def test_dg2_round_trip_both_record_formats(record: str) -> None:
    face = FaceImage(JPEG, "jpeg", record, 480, 600, "female", "brown", "black", None, (0, 10, -4))
    parsed = parse_dg2(encode_dg2([face], record)).faces[0]
    assert parsed.image == JPEG
    assert (parsed.width, parsed.height, parsed.gender) == (480, 600, "female")
    assert parsed.eye_colour == "brown"
    assert parsed.pose_angles == (0, 10, -4)
    assert parsed.record_format == record


def test_dg7_round_trip() -> None:
    assert parse_dg7(encode_dg7([JPEG, JPEG])).formats == ("jpeg", "jpeg")


def test_dg11_and_dg12_round_trip() -> None:
    dg11 = parse_dg11(
        encode_dg11({"full_name": "ERIKSSON<<ANNA MARIA", "place_of_birth": "ZENITH"}, ["ANNA E"])
    )
    assert dg11.text == {"full_name": "ERIKSSON<<ANNA MARIA", "place_of_birth": "ZENITH"}
    assert dg11.names == ("ANNA E",)
    dg12 = parse_dg12(encode_dg12({"issuing_authority": "UTOPIA", "date_of_issue": "20200101"}))
    assert dg12.text["date_of_issue"] == "20200101"


def test_dg15_round_trip_rsa_and_explicit_ec() -> None:
    rsa_key = rsa.generate_private_key(65537, 1024)
    assert parse_dg15(encode_dg15(_spki(rsa_key))).public_key.key_bits == 1024
    ec_key = ec.generate_private_key(ec.BrainpoolP256R1())
    explicit = with_explicit_parameters(_spki(ec_key))
    key = parse_dg15(encode_dg15(explicit)).public_key
    assert (key.curve, key.explicit_parameters) == ("brainpoolP256r1", True)
    # the named form loads in cryptography and is the same key
    loaded = serialization.load_der_public_key(key.named_spki())
    assert loaded.public_numbers() == ec_key.public_key().public_numbers()  # type: ignore[union-attr]


def test_dg14_round_trip() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    dg14 = encode_dg14(
        [
            si.chip_authentication_info(oids.CA_ECDH, 2, 1),
            si.chip_authentication_public_key_info(_spki(ec_key), 1),
            si.pace_info(oids.PACE_ECDH_GM, 2, 12),
            si.active_authentication_info("1.2.840.10045.4.3.2"),
            si.terminal_authentication_info(),
        ]
    )
    infos = parse_dg14(dg14)
    assert infos.chip_authentication[0].cipher == "aes-cbc-cmac-128"
    assert infos.chip_authentication_keys[0].key_id == 1
    assert infos.chip_authentication_keys[0].public_key.curve == "secp256r1"
    assert infos.pace[0].curve_or_group == "secp256r1"
    assert infos.active_authentication is not None


def test_lds_security_object_round_trip_and_legacy_oid() -> None:
    hashes = {1: hashlib.sha256(b"a").digest(), 2: hashlib.sha256(b"b").digest()}
    lso = encode_lds_security_object("sha256", hashes, ("0108", "040000"))
    version, alg, parsed, lds, unicode = parse_lds_security_object(lso)
    assert (version, alg, parsed, lds, unicode) == (1, "sha256", hashes, "0108", "040000")
    assert "1.3.27.1.1.1" in oids.LDS_SECURITY_OBJECT_LEGACY


def test_sod_without_signed_data_is_refused() -> None:
    with pytest.raises(LdsParseError):
        parse_sod(encode_sod(b"\x30\x03\x02\x01\x00"))


def test_unknown_data_group_is_kept_raw() -> None:
    raw = parse_data_group(3, b"\x63\x02\x01\x02")
    assert raw.value == b"\x01\x02"
    with pytest.raises(LdsParseError):
        parse_lds_file("DG3", b"\x61\x02\x01\x02")
