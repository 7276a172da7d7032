"""DG2: the biometric information group template holding encoded face records.

75 { 7F61 { 02 count, 7F60 { A1 header template, 5F2E ISO 19794-5 record | 7F2E ISO 39794-5 } } }
(ICAO 9303 Part 10, 4.7.2 and ISO/IEC 7816-11).
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.icao.lds._tlv import Tlv, encode_tlv, find, iter_tlvs, read_single, require, uint_value
from kiosk.icao.lds.errors import LdsEncodeError, LdsParseError
from kiosk.icao.lds.face_iso19794 import encode_iso19794_face_record, parse_iso19794_face_record
from kiosk.icao.lds.face_iso39794 import encode_iso39794_face_record, parse_iso39794_face_record
from kiosk.icao.lds.face_record import ISO19794_5, ISO39794_5, FaceImage

DG2_TAG = 0x75
GROUP_TEMPLATE = 0x7F61
INFO_TEMPLATE = 0x7F60
HEADER_TEMPLATE = 0xA1
DATA_19794 = 0x5F2E
DATA_39794 = 0x7F2E
FORMAT_OWNER_ISO = 0x0101  # ISO/IEC JTC 1/SC 37
FORMAT_TYPE = {ISO19794_5: 0x0008, ISO39794_5: 0x002A}
BIOMETRIC_TYPE_FACE = 0x02


@dataclass(frozen=True)
class BiometricHeader:
    """The biometric header template (CBEFF patron format, ISO/IEC 7816-11 table 5)."""

    version: int | None
    biometric_type: int | None
    format_owner: int
    format_type: int
    creation_time: bytes | None = None
    validity: bytes | None = None
    creator: bytes | None = None


@dataclass(frozen=True)
class Dg2:
    raw: bytes
    faces: tuple[FaceImage, ...]
    headers: tuple[BiometricHeader, ...]


def _header(tlv: Tlv) -> BiometricHeader:
    items = list(iter_tlvs(tlv.value))
    version = find(items, 0x80)
    btype = find(items, 0x81)
    creation = find(items, 0x83)
    validity = find(items, 0x85)
    creator = find(items, 0x86)
    return BiometricHeader(
        version=uint_value(version, 2) if version else None,
        biometric_type=uint_value(btype, 3) if btype else None,
        format_owner=uint_value(require(items, 0x87), 2),
        format_type=uint_value(require(items, 0x88), 2),
        creation_time=creation.value if creation else None,
        validity=validity.value if validity else None,
        creator=creator.value if creator else None,
    )


def _faces(info: Tlv) -> tuple[BiometricHeader, list[FaceImage]]:
    items = list(iter_tlvs(info.value))
    header = _header(require(items, HEADER_TEMPLATE))
    data = find(items, DATA_19794) or find(items, DATA_39794)
    if data is None:
        raise LdsParseError("DG2: biometric data block missing")
    if data.value[:4] == b"FAC\x00":
        return header, parse_iso19794_face_record(data.value)
    if data.value[:1] in (b"\xa1", b"\x65"):
        return header, parse_iso39794_face_record(data.value)
    raise LdsParseError("DG2: face record in an unknown format")


def parse_dg2(data: bytes) -> Dg2:
    group = read_single(read_single(data, DG2_TAG).value, GROUP_TEMPLATE)
    items = list(iter_tlvs(group.value))
    if not items or items[0].tag != 0x02:
        raise LdsParseError("DG2: number of instances missing")
    count = uint_value(items[0], 1)
    templates = [i for i in items[1:] if i.tag == INFO_TEMPLATE]
    if len(templates) != count or count == 0:
        raise LdsParseError(f"DG2 announces {count} templates, holds {len(templates)}")
    headers: list[BiometricHeader] = []
    faces: list[FaceImage] = []
    for template in templates:
        header, found = _faces(template)
        headers.append(header)
        faces.extend(found)
    return Dg2(bytes(data), tuple(faces), tuple(headers))


def encode_dg2(
    faces: list[FaceImage] | tuple[FaceImage, ...], record_format: str = ISO19794_5
) -> bytes:
    """DG2 with one biometric information template per face, encoded in ``record_format``."""
    if not 1 <= len(faces) <= 255:
        raise LdsEncodeError("DG2 holds 1 to 255 faces")
    if record_format not in FORMAT_TYPE:
        raise LdsEncodeError(f"unknown face record format {record_format}")
    templates = b""
    for face in faces:
        header = (
            encode_tlv(0x80, b"\x01\x01")
            + encode_tlv(0x81, bytes([BIOMETRIC_TYPE_FACE]))
            + encode_tlv(0x82, b"\x00")
            + encode_tlv(0x87, FORMAT_OWNER_ISO.to_bytes(2, "big"))
            + encode_tlv(0x88, FORMAT_TYPE[record_format].to_bytes(2, "big"))
        )
        if record_format == ISO19794_5:
            record = encode_tlv(DATA_19794, encode_iso19794_face_record(face))
        else:
            record = encode_tlv(DATA_39794, encode_iso39794_face_record(face))
        templates += encode_tlv(INFO_TEMPLATE, encode_tlv(HEADER_TEMPLATE, header) + record)
    body = encode_tlv(0x02, bytes([len(faces)])) + templates
    return encode_tlv(DG2_TAG, encode_tlv(GROUP_TEMPLATE, body))
