"""Every sample LDS file from public projects parses, and its images decode."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from kiosk.icao.lds import parse_card_security, parse_dg2, parse_dg14
from kiosk.icao.lds.face_iso19794 import parse_iso19794_face_record
from kiosk.icao.lds.face_iso39794 import parse_iso39794_face_record
from kiosk.icao.lds.security_infos import ChipAuthenticationPublicKey, TerminalAuthenticationInfo

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "biometrics"


def _decode(image: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(image)) as img:
        img.load()
        return img.size


@pytest.mark.parametrize(
    "name",
    [
        "ICAO_39794_5_AP_DG2_AllFields.dat",
        "ICAO_39794_5_AP_DG2_MandFields.dat",
        "dg2_silver_all_fields.bin",
        "dg2_silver_mandatory_fields.bin",
    ],
)
def test_dg2_samples_parse_and_their_jpeg2000_faces_decode(name: str) -> None:
    # GIVEN a DG2 with an ISO 39794-5 face record
    data = (SAMPLES / name).read_bytes()
    # WHEN it is parsed
    dg2 = parse_dg2(data)
    # THEN one JPEG 2000 face comes out, equal to the reference image, and it decodes
    assert len(dg2.faces) == 1
    face = dg2.faces[0]
    assert face.record_format == "iso39794-5"
    assert face.image_format == "jpeg2000"
    assert face.image == (SAMPLES / "silver.jp2").read_bytes()
    assert _decode(face.image) == (413, 531)
    assert dg2.headers[0].format_owner == 0x0101


def test_all_fields_sample_yields_its_metadata() -> None:
    face = parse_dg2((SAMPLES / "ICAO_39794_5_AP_DG2_AllFields.dat").read_bytes()).faces[0]
    assert (face.width, face.height) == (572, 731)
    assert face.gender == "female"
    assert face.eye_colour == "blue"
    assert face.hair_colour == "brown"
    assert face.pose_angles == (2, 3, 1)
    assert face.expression == "neutral"
    assert face.metadata["subject_height_mm"] == 1786
    assert face.metadata["declared_image_data_format"] == "jpeg2000_lossy"


@pytest.mark.parametrize(
    "name", ["ICAO_39794_5_AP_AllFields.dat", "ICAO_39794_5_AP_MandFields.dat"]
)
def test_bare_39794_records_parse(name: str) -> None:
    faces = parse_iso39794_face_record((SAMPLES / name).read_bytes())
    assert faces[0].image == (SAMPLES / "ICAO_39794_5_AP_Face.jpg").read_bytes()
    assert _decode(faces[0].image) == (413, 531)


def test_iso19794_record_yields_the_jpeg() -> None:
    faces = parse_iso19794_face_record((SAMPLES / "ISO19794_Test1_Data.bin").read_bytes())
    assert len(faces) == 1
    assert faces[0].image == (SAMPLES / "ISO19794_Test1_Face.jpg").read_bytes()
    assert faces[0].image_format == "jpeg"
    assert _decode(faces[0].image) == (faces[0].width, faces[0].height) == (148, 70)
    assert faces[0].metadata["face_image_type"] == "token_frontal"


def test_dg14_sample_has_dh_chip_authentication() -> None:
    infos = parse_dg14((SAMPLES / "spec_sample_encoded_dg14.bin").read_bytes())
    keys = infos.of_type(ChipAuthenticationPublicKey)
    assert [k.public_key.algorithm for k in keys] == ["dh"]
    assert infos.chip_authentication[0].agreement == "dh"
    assert infos.of_type(TerminalAuthenticationInfo)


def test_card_security_sample_parses_with_signer_and_ec_key() -> None:
    card = parse_card_security((SAMPLES / "efcardsecurity.dump").read_bytes())
    assert card.signed.content_type == "0.4.0.127.0.7.3.2.1"
    assert card.signed.signer_infos[0].digest_algorithm == "sha256"
    assert card.signed.signer_infos[0].serial_number is not None
    assert len(card.signed.certificates) == 1
    key = card.security_infos.chip_authentication_keys[0].public_key
    assert (key.algorithm, key.curve) == ("ec", "brainpoolP256r1")
