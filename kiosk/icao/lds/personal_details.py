"""DG11 (additional personal details) and DG12 (additional document details).

Both are a tag list (5C) followed by optional text fields, a constructed A0 holding a count and
repeated names, and in DG11/DG12 a few binary image fields. Text is UTF-8 (ICAO 9303 Part 10);
older chips used ISO 8859-1, which is accepted as a fallback.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.icao.lds._tlv import Tlv, encode_tlv, iter_tlvs, read_single, uint_value
from kiosk.icao.lds.errors import LdsEncodeError, LdsParseError

DG11_TAG = 0x6B
DG12_TAG = 0x6C
TAG_LIST = 0x5C
NAMES_GROUP = 0xA0
COUNT = 0x02

DG11_TEXT = {
    0x5F0E: "full_name",
    0x5F10: "personal_number",
    0x5F2B: "full_date_of_birth",
    0x5F11: "place_of_birth",
    0x5F42: "permanent_address",
    0x5F12: "telephone",
    0x5F13: "profession",
    0x5F14: "title",
    0x5F15: "personal_summary",
    0x5F17: "other_valid_td_numbers",
    0x5F18: "custody_information",
}
DG11_BINARY = {0x5F16: "proof_of_citizenship"}
DG11_NAME = 0x5F0F  # other name, inside A0

DG12_TEXT = {
    0x5F19: "issuing_authority",
    0x5F26: "date_of_issue",
    0x5F1B: "endorsements_and_observations",
    0x5F1C: "tax_or_exit_requirements",
    0x5F55: "personalisation_time",
    0x5F56: "personalisation_system_serial",
}
DG12_BINARY = {0x5F1D: "image_of_front", 0x5F1E: "image_of_rear"}
DG12_NAME = 0x5F1A  # name of other person, inside A0


@dataclass(frozen=True)
class PersonalDetails:
    """DG11 or DG12: text fields by name, the repeated names, binary fields by name."""

    raw: bytes
    data_group: int
    text: dict[str, str]
    names: tuple[str, ...] = ()
    binary: dict[str, bytes] = field(default_factory=dict)
    unknown: tuple[bytes, ...] = ()  # data objects this parser does not know, kept raw


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _names(group: Tlv, name_tag: int) -> tuple[str, ...]:
    children = list(iter_tlvs(group.value))
    if not children or children[0].tag != COUNT:
        raise LdsParseError("name group without its count")
    count = uint_value(children[0], 1)
    names = [_text(c.value) for c in children[1:] if c.tag == name_tag]
    if len(names) != count or len(children) != count + 1:
        raise LdsParseError(f"name group announces {count} names, holds {len(children) - 1}")
    return tuple(names)


def _parse(data: bytes, dg: int) -> PersonalDetails:
    file_tag, text_tags, binary_tags, name_tag = (
        (DG11_TAG, DG11_TEXT, DG11_BINARY, DG11_NAME)
        if dg == 11
        else (DG12_TAG, DG12_TEXT, DG12_BINARY, DG12_NAME)
    )
    children = list(iter_tlvs(read_single(data, file_tag).value))
    if not children or children[0].tag != TAG_LIST:
        raise LdsParseError(f"DG{dg}: tag list missing")
    text: dict[str, str] = {}
    binary: dict[str, bytes] = {}
    names: tuple[str, ...] = ()
    unknown: list[bytes] = []
    for child in children[1:]:
        if child.tag in text_tags:
            text[text_tags[child.tag]] = _text(child.value)
        elif child.tag in binary_tags:
            binary[binary_tags[child.tag]] = child.value
        elif child.tag == NAMES_GROUP:
            names = _names(child, name_tag)
        else:
            unknown.append(child.raw)
    return PersonalDetails(bytes(data), dg, text, names, binary, tuple(unknown))


def parse_dg11(data: bytes) -> PersonalDetails:
    return _parse(data, 11)


def parse_dg12(data: bytes) -> PersonalDetails:
    return _parse(data, 12)


def _encode(
    dg: int, text: dict[str, str], names: list[str] | tuple[str, ...], binary: dict[str, bytes]
) -> bytes:
    file_tag, text_tags, binary_tags, name_tag = (
        (DG11_TAG, DG11_TEXT, DG11_BINARY, DG11_NAME)
        if dg == 11
        else (DG12_TAG, DG12_TEXT, DG12_BINARY, DG12_NAME)
    )
    tag_of = {name: tag for tag, name in {**text_tags, **binary_tags}.items()}
    objects: list[tuple[int, bytes]] = []
    for name, value in text.items():
        if name not in tag_of:
            raise LdsEncodeError(f"DG{dg} has no field {name}")
        objects.append((tag_of[name], value.encode("utf-8")))
    for name, blob in binary.items():
        if name not in tag_of:
            raise LdsEncodeError(f"DG{dg} has no field {name}")
        objects.append((tag_of[name], blob))
    listed = [tag for tag, _ in objects]
    body = b"".join(encode_tlv(tag, value) for tag, value in objects)
    if names:
        if len(names) > 255:
            raise LdsEncodeError("too many names")
        group = encode_tlv(COUNT, bytes([len(names)])) + b"".join(
            encode_tlv(name_tag, n.encode("utf-8")) for n in names
        )
        body += encode_tlv(NAMES_GROUP, group)
        listed.append(name_tag)
    tag_list = b"".join(t.to_bytes(2, "big") for t in listed)
    return encode_tlv(file_tag, encode_tlv(TAG_LIST, tag_list) + body)


def encode_dg11(
    text: dict[str, str],
    other_names: list[str] | tuple[str, ...] = (),
    binary: dict[str, bytes] | None = None,
) -> bytes:
    """DG11 from fields named as in ``DG11_TEXT`` (dates as YYYYMMDD)."""
    return _encode(11, text, other_names, binary or {})


def encode_dg12(
    text: dict[str, str],
    other_persons: list[str] | tuple[str, ...] = (),
    binary: dict[str, bytes] | None = None,
) -> bytes:
    """DG12 from fields named as in ``DG12_TEXT`` (date of issue as YYYYMMDD)."""
    return _encode(12, text, other_persons, binary or {})
