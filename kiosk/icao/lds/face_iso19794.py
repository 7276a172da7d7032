"""ISO/IEC 19794-5:2005 face image record (the binary 'FAC' record of DG2, ICAO 9303 Part 10)."""

from __future__ import annotations

import struct

from kiosk.icao.lds.errors import LdsEncodeError, LdsParseError
from kiosk.icao.lds.face_record import ISO19794_5, FaceImage
from kiosk.icao.lds.images import sniff_image_format

FORMAT_ID = b"FAC\x00"
VERSION = b"010\x00"
HEADER_SIZE = 14
INFO_SIZE = 20
FEATURE_POINT_SIZE = 8
IMAGE_INFO_SIZE = 12

GENDER = {0: "unspecified", 1: "male", 2: "female", 0xFF: "unknown"}
EYE_COLOUR = {0: "unspecified", 1: "black", 2: "blue", 3: "brown", 4: "gray", 5: "green",
              6: "multi_coloured", 7: "pink", 0xFF: "unknown"}  # fmt: skip
HAIR_COLOUR = {0: "unspecified", 1: "bald", 2: "black", 3: "blonde", 4: "brown", 5: "gray",
               6: "white", 7: "red", 0xFF: "unknown"}  # fmt: skip
EXPRESSION = {0: "unspecified", 1: "neutral", 2: "smile_closed", 3: "smile_open",
              4: "raised_eyebrows", 5: "eyes_away", 6: "squinting", 7: "frowning"}  # fmt: skip
IMAGE_DATA_TYPE = {0: "jpeg", 1: "jpeg2000"}
FACE_IMAGE_TYPE = {0: "basic", 1: "full_frontal", 2: "token_frontal"}


def _code(table: dict[int, str], value: int) -> str:
    return table.get(value, f"reserved_{value}")


def _angle(value: int) -> int | None:
    """Pose angle byte: 0 unspecified, 1..181 in steps of two degrees from -180."""
    return None if value == 0 or value > 181 else (value - 91) * 2


def _encode_angle(angle: int | None) -> int:
    if angle is None:
        return 0
    if not -180 <= angle <= 180:
        raise LdsEncodeError("pose angle out of range")
    return angle // 2 + 91


def parse_iso19794_face_record(data: bytes) -> list[FaceImage]:
    if len(data) < HEADER_SIZE or data[:4] != FORMAT_ID:
        raise LdsParseError("ISO 19794-5: not a FAC record")
    record_length, count = struct.unpack(">IH", data[8:14])
    if record_length != len(data):
        raise LdsParseError(f"ISO 19794-5: record says {record_length} bytes, has {len(data)}")
    if count == 0:
        raise LdsParseError("ISO 19794-5: no face in the record")
    faces: list[FaceImage] = []
    pos = HEADER_SIZE
    for _ in range(count):
        if len(data) - pos < INFO_SIZE:
            raise LdsParseError("ISO 19794-5: facial information truncated")
        block_length, points = struct.unpack(">IH", data[pos : pos + 6])
        gender, eye, hair = data[pos + 6], data[pos + 7], data[pos + 8]
        mask = int.from_bytes(data[pos + 9 : pos + 12], "big")
        expression = int.from_bytes(data[pos + 12 : pos + 14], "big")
        yaw, pitch, roll = data[pos + 14], data[pos + 15], data[pos + 16]
        fixed = INFO_SIZE + points * FEATURE_POINT_SIZE + IMAGE_INFO_SIZE
        if block_length < fixed or block_length > len(data) - pos:
            raise LdsParseError("ISO 19794-5: facial record block length out of bounds")
        info = pos + INFO_SIZE + points * FEATURE_POINT_SIZE
        face_type, data_type = data[info], data[info + 1]
        width, height = struct.unpack(">HH", data[info + 2 : info + 6])
        colour_space, source_type = data[info + 6], data[info + 7]
        device_type, quality = struct.unpack(">HH", data[info + 8 : info + 12])
        image = bytes(data[info + IMAGE_INFO_SIZE : pos + block_length])
        faces.append(
            FaceImage(
                image=image,
                image_format=sniff_image_format(image),
                record_format=ISO19794_5,
                width=width,
                height=height,
                gender=_code(GENDER, gender),
                eye_colour=_code(EYE_COLOUR, eye),
                hair_colour=_code(HAIR_COLOUR, hair),
                expression=_code(EXPRESSION, expression),
                pose_angles=(_angle(yaw), _angle(pitch), _angle(roll)),
                metadata={
                    "feature_points": points,
                    "feature_mask": mask,
                    "face_image_type": _code(FACE_IMAGE_TYPE, face_type),
                    "declared_image_data_type": _code(IMAGE_DATA_TYPE, data_type),
                    "colour_space": colour_space,
                    "source_type": source_type,
                    "device_type": device_type,
                    "quality": quality,
                },
            )
        )
        pos += block_length
    if pos != len(data):
        raise LdsParseError("ISO 19794-5: bytes after the last face")
    return faces


def _reverse(table: dict[int, str], name: str | None) -> int:
    if name is None:
        return 0
    for code, value in table.items():
        if value == name:
            return code
    raise LdsEncodeError(f"unknown code {name}")


def encode_iso19794_face_record(face: FaceImage) -> bytes:
    """One-face FAC record (no feature points) for ``face``; width/height are required."""
    if face.width is None or face.height is None:
        raise LdsEncodeError("image size required")
    fmt = face.image_format if face.image_format != "unknown" else "jpeg"
    yaw, pitch, roll = face.pose_angles or (None, None, None)
    info = struct.pack(
        ">IHBBB3sH3s3s",
        INFO_SIZE + IMAGE_INFO_SIZE + len(face.image),
        0,
        _reverse(GENDER, face.gender),
        _reverse(EYE_COLOUR, face.eye_colour),
        _reverse(HAIR_COLOUR, face.hair_colour),
        b"\x00\x00\x00",
        _reverse(EXPRESSION, face.expression),
        bytes([_encode_angle(yaw), _encode_angle(pitch), _encode_angle(roll)]),
        b"\x00\x00\x00",
    )
    image_info = struct.pack(
        ">BBHHBBHH", 1, _reverse(IMAGE_DATA_TYPE, fmt), face.width, face.height, 1, 2, 0, 0
    )
    body = info + image_info + face.image
    header = FORMAT_ID + VERSION + struct.pack(">IH", HEADER_SIZE + len(body), 1)
    return header + body
