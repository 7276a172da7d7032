"""ISO/IEC 39794-5 face image data (ICAO application profile, DER with context tags).

FaceImageDataBlock ::= [APPLICATION 5] { versionBlock [0], representationBlocks [1] }, wrapped
in [1] as DG2 stores it. Each representation block holds the 2D image ([1][0][0][0]), its image
information (format, size) and optionally identity metadata ([8]: gender, eye and hair colour,
subject height, expression, pose angles).
"""

from __future__ import annotations

from kiosk.icao.lds._tlv import Tlv, encode_tlv, find, iter_tlvs, read_single, require
from kiosk.icao.lds.errors import LdsEncodeError, LdsParseError
from kiosk.icao.lds.face_record import ISO39794_5, FaceImage
from kiosk.icao.lds.images import sniff_image_format

WRAPPER_TAG = 0xA1
FACE_IMAGE_DATA_BLOCK = 0x65
GENDER = {0: "unknown", 1: "other", 2: "male", 3: "female"}
EYE_COLOUR = {0: "unknown", 1: "other", 2: "black", 3: "blue", 4: "brown", 5: "grey",
              6: "green", 7: "hazel", 8: "multi_coloured", 9: "pink"}  # fmt: skip
HAIR_COLOUR = {0: "unknown", 1: "other", 2: "bald", 3: "black", 4: "blonde", 5: "brown",
               6: "grey", 7: "white", 8: "red", 9: "known_coloured"}  # fmt: skip
EXPRESSION = {0: "neutral", 1: "smile", 2: "raised_eyebrows", 3: "eyes_looking_away",
              4: "squinting", 5: "frowning"}  # fmt: skip
IMAGE_DATA_FORMAT = {0: "unknown", 2: "jpeg", 3: "jpeg2000_lossy", 4: "jpeg2000_lossless"}
MAX_DEPTH = 3


def _children(tlv: Tlv) -> list[Tlv]:
    if not tlv.constructed:
        raise LdsParseError(f"ISO 39794-5: {tlv.tag:X} should be constructed")
    return list(iter_tlvs(tlv.value))


def _int(tlv: Tlv) -> int:
    """A small INTEGER (two's complement, at most 4 bytes)."""
    if not 1 <= len(tlv.value) <= 4:
        raise LdsParseError("ISO 39794-5: integer of bad size")
    return int.from_bytes(tlv.value, "big", signed=True)


def _code(tlv: Tlv, depth: int = 0) -> int:
    """A code, either directly [0] INTEGER or inside a CHOICE/extension wrapper."""
    if not tlv.constructed:
        return _int(tlv)
    if depth >= MAX_DEPTH:
        raise LdsParseError("ISO 39794-5: code nested too deep")
    children = _children(tlv)
    if not children:
        raise LdsParseError("ISO 39794-5: empty code")
    return _code(children[0], depth + 1)


def _name(table: dict[int, str], code: int) -> str:
    return table.get(code, f"code_{code}")


def _angle(block: Tlv | None) -> int | None:
    if block is None:
        return None
    value = find(_children(block), 0x80)
    return None if value is None else _int(value)


def _representation(rep: Tlv) -> FaceImage:
    fields = _children(rep)
    image_rep = _children(require(fields, 0xA1))
    base = require(image_rep, 0xA0)  # extension blocks ([1]) carry no 2D image
    block = _children(require(_children(base), 0xA0))
    image = require(block, 0x80).value
    info = _children(require(block, 0xA1))
    metadata: dict[str, int | str] = {}
    fmt = find(info, 0xA0)
    if fmt is not None:
        metadata["declared_image_data_format"] = _name(IMAGE_DATA_FORMAT, _code(fmt))
    width = height = None
    size = find(info, 0xA7)
    if size is not None:
        dims = _children(size)
        width, height = _int(require(dims, 0x80)), _int(require(dims, 0x81))
    for tag, key in ((0x84, "camera_to_subject_distance_mm"), (0x85, "sensor_diagonal_mm"),
                     (0x86, "lens_focal_length_mm")):  # fmt: skip
        found = find(info, tag)
        if found is not None:
            metadata[key] = _int(found)
    gender = eye = hair = expression = None
    pose: tuple[int | None, int | None, int | None] | None = None
    identity = find(fields, 0xA8)
    if identity is not None:
        items = _children(identity)
        if (g := find(items, 0xA0)) is not None:
            gender = _name(GENDER, _code(g))
        if (e := find(items, 0xA1)) is not None:
            eye = _name(EYE_COLOUR, _code(e))
        if (h := find(items, 0xA2)) is not None:
            hair = _name(HAIR_COLOUR, _code(h))
        if (height_mm := find(items, 0x83)) is not None:
            metadata["subject_height_mm"] = _int(height_mm)
        if (expr := find(items, 0xA5)) is not None:
            flags = [c.tag & 0x1F for c in _children(expr) if c.value and c.value != b"\x00"]
            expression = "+".join(EXPRESSION.get(f, f"flag_{f}") for f in flags) or "unspecified"
        if (angles := find(items, 0xA6)) is not None:
            parts = _children(angles)
            pose = (_angle(find(parts, 0xA0)), _angle(find(parts, 0xA1)), _angle(find(parts, 0xA2)))
    return FaceImage(
        image=image,
        image_format=sniff_image_format(image),
        record_format=ISO39794_5,
        width=width,
        height=height,
        gender=gender,
        eye_colour=eye,
        hair_colour=hair,
        expression=expression,
        pose_angles=pose,
        metadata=metadata,
    )


def parse_iso39794_face_record(data: bytes) -> list[FaceImage]:
    """Parse ``[1] { FaceImageDataBlock }`` (or the bare [APPLICATION 5] block)."""
    first = data[:1]
    outer = read_single(data, WRAPPER_TAG if first == b"\xa1" else FACE_IMAGE_DATA_BLOCK)
    block = outer if outer.tag == FACE_IMAGE_DATA_BLOCK else read_single(outer.value, 0x65)
    fields = _children(block)
    version = _children(require(fields, 0xA0))
    generation = _int(require(version, 0x80))
    reps = _children(require(fields, 0xA1))
    if not reps:
        raise LdsParseError("ISO 39794-5: no representation")
    faces = []
    for rep in reps:
        if rep.tag != 0x30:
            raise LdsParseError("ISO 39794-5: representation is not a SEQUENCE")
        face = _representation(rep)
        face.metadata["version_generation"] = generation
        faces.append(face)
    return faces


def _enc_int(tag: int, value: int) -> bytes:
    size = max(1, (value.bit_length() + 8) // 8)
    return encode_tlv(tag, value.to_bytes(size, "big", signed=True))


def _reverse(table: dict[int, str], name: str) -> int:
    for code, value in table.items():
        if value == name:
            return code
    raise LdsEncodeError(f"unknown code {name}")


def encode_iso39794_face_record(face: FaceImage) -> bytes:
    """``[1] { [APPLICATION 5] FaceImageDataBlock }`` with one representation of ``face``."""
    fmt_code = {"jpeg": 2, "jpeg2000": 3}.get(face.image_format, 0)
    info = encode_tlv(0xA0, _enc_int(0x80, fmt_code))
    if face.width is not None and face.height is not None:
        info += encode_tlv(0xA7, _enc_int(0x80, face.width) + _enc_int(0x81, face.height))
    image_2d = encode_tlv(0x80, face.image) + encode_tlv(0xA1, info)
    representation = _enc_int(0x80, 0) + encode_tlv(
        0xA1, encode_tlv(0xA0, encode_tlv(0xA0, image_2d))
    )
    identity = b""
    for tag, table, value in ((0xA0, GENDER, face.gender), (0xA1, EYE_COLOUR, face.eye_colour),
                              (0xA2, HAIR_COLOUR, face.hair_colour)):  # fmt: skip
        if value is not None:
            identity += encode_tlv(tag, encode_tlv(0xA1, _enc_int(0x80, _reverse(table, value))))
    if face.pose_angles is not None:
        angles = b"".join(
            encode_tlv(tag, _enc_int(0x80, angle))
            for tag, angle in zip((0xA0, 0xA1, 0xA2), face.pose_angles, strict=True)
            if angle is not None
        )
        identity += encode_tlv(0xA6, angles)
    if identity:
        representation += encode_tlv(0xA8, identity)
    version = encode_tlv(0xA0, _enc_int(0x80, 3) + _enc_int(0x81, 2019))
    block = encode_tlv(0x65, version + encode_tlv(0xA1, encode_tlv(0x30, representation)))
    return encode_tlv(WRAPPER_TAG, block)
