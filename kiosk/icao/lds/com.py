"""EF.COM: LDS version, Unicode version and the tags of the data groups present."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.icao.lds._tlv import encode_tlv, iter_tlvs, read_single, require
from kiosk.icao.lds.errors import LdsEncodeError, LdsParseError

COM_TAG = 0x60
# Tag of each data group's file (ICAO 9303 Part 10, table 34).
DG_TAGS: dict[int, int] = {
    1: 0x61, 2: 0x75, 3: 0x63, 4: 0x76, 5: 0x65, 6: 0x66, 7: 0x67, 8: 0x68,
    9: 0x69, 10: 0x6A, 11: 0x6B, 12: 0x6C, 13: 0x6D, 14: 0x6E, 15: 0x6F, 16: 0x70,
}  # fmt: skip
DG_OF_TAG = {tag: n for n, tag in DG_TAGS.items()}


@dataclass(frozen=True)
class EfCom:
    raw: bytes
    lds_version: str  # "0107" means LDS 1.7
    unicode_version: str  # "040000" means Unicode 4.0.0
    data_groups: tuple[int, ...]  # DG numbers in the order EF.COM lists them


def _digits(value: bytes, size: int, what: str) -> str:
    text = value.decode("ascii", errors="replace")
    if len(value) != size or not text.isdigit():
        raise LdsParseError(f"EF.COM: {what} is not {size} digits")
    return text


def parse_com(data: bytes) -> EfCom:
    children = list(iter_tlvs(read_single(data, COM_TAG).value))
    lds = _digits(require(children, 0x5F01).value, 4, "LDS version")
    unicode = _digits(require(children, 0x5F36).value, 6, "Unicode version")
    groups: list[int] = []
    for tag in require(children, 0x5C).value:
        if tag not in DG_OF_TAG:
            raise LdsParseError(f"EF.COM lists unknown tag {tag:02X}")
        if DG_OF_TAG[tag] in groups:
            raise LdsParseError("EF.COM lists a data group twice")
        groups.append(DG_OF_TAG[tag])
    return EfCom(bytes(data), lds, unicode, tuple(groups))


def encode_com(
    data_groups: list[int] | tuple[int, ...],
    lds_version: str = "0107",
    unicode_version: str = "040000",
) -> bytes:
    if len(lds_version) != 4 or len(unicode_version) != 6:
        raise LdsEncodeError("LDS version is 4 digits, Unicode version 6")
    try:
        tags = bytes(DG_TAGS[n] for n in data_groups)
    except KeyError as exc:
        raise LdsEncodeError(f"no data group {exc}") from exc
    body = (
        encode_tlv(0x5F01, lds_version.encode("ascii"))
        + encode_tlv(0x5F36, unicode_version.encode("ascii"))
        + encode_tlv(0x5C, tags)
    )
    return encode_tlv(COM_TAG, body)
