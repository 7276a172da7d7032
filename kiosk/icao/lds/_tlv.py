"""Minimal BER-TLV walking for the LDS parsers (ISO/IEC 7816-4 / ISO 8825-1 rules).

Every length is checked against the bytes actually present before anything is sliced, so a
length that claims gigabytes fails at once. ``kiosk.icao.tlv`` is the general codec of the
project; this module is the small subset the LDS needs and may be merged into it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from kiosk.icao.lds.errors import LdsEncodeError, LdsParseError

MAX_TAG_BYTES = 3
MAX_LENGTH_BYTES = 4


@dataclass(frozen=True)
class Tlv:
    """One data object: the tag as an integer of its bytes (``0x7F61``) and its value."""

    tag: int
    value: bytes
    raw: bytes

    @property
    def constructed(self) -> bool:
        return bool(_first_tag_byte(self.tag) & 0x20)

    def children(self) -> list[Tlv]:
        return list(iter_tlvs(self.value))


def _first_tag_byte(tag: int) -> int:
    while tag > 0xFF:
        tag >>= 8
    return tag


def read_tlv(data: bytes, offset: int = 0) -> tuple[Tlv, int]:
    """Read the data object starting at ``offset``; return it and the offset after it."""
    end = len(data)
    pos = offset
    if pos >= end:
        raise LdsParseError("TLV: no tag (data ends)")
    first = data[pos]
    pos += 1
    if first in (0x00, 0xFF):
        raise LdsParseError(f"TLV: invalid tag byte {first:02X}")
    tag = first
    if first & 0x1F == 0x1F:
        for count in range(MAX_TAG_BYTES):
            if pos >= end:
                raise LdsParseError("TLV: tag truncated")
            b = data[pos]
            pos += 1
            tag = (tag << 8) | b
            if not b & 0x80:
                break
            if count == MAX_TAG_BYTES - 2:
                raise LdsParseError("TLV: tag longer than 3 bytes")
    if pos >= end:
        raise LdsParseError("TLV: length missing")
    lb = data[pos]
    pos += 1
    if lb < 0x80:
        length = lb
    elif lb == 0x80:
        raise LdsParseError("TLV: indefinite length not allowed")
    else:
        n = lb & 0x7F
        if n > MAX_LENGTH_BYTES:
            raise LdsParseError(f"TLV: {n}-byte length field")
        if pos + n > end:
            raise LdsParseError("TLV: length truncated")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    if length > end - pos:
        raise LdsParseError(f"TLV: length {length} exceeds the {end - pos} bytes left")
    value = bytes(data[pos : pos + length])
    return Tlv(tag, value, bytes(data[offset : pos + length])), pos + length


def iter_tlvs(data: bytes) -> Iterator[Tlv]:
    """Every data object of ``data`` in order; the whole buffer must be consumed."""
    pos = 0
    while pos < len(data):
        tlv, pos = read_tlv(data, pos)
        yield tlv


def read_single(data: bytes, tag: int) -> Tlv:
    """``data`` must be exactly one data object with ``tag`` (trailing bytes are refused)."""
    tlv, end = read_tlv(data, 0)
    if tlv.tag != tag:
        raise LdsParseError(f"expected tag {tag:X}, found {tlv.tag:X}")
    if end != len(data):
        raise LdsParseError(f"{len(data) - end} bytes after tag {tag:X}")
    return tlv


def find(children: list[Tlv], tag: int) -> Tlv | None:
    return next((c for c in children if c.tag == tag), None)


def require(children: list[Tlv], tag: int) -> Tlv:
    found = find(children, tag)
    if found is None:
        raise LdsParseError(f"data object {tag:X} missing")
    return found


def encode_length(length: int) -> bytes:
    if length < 0 or length >= 1 << 32:
        raise LdsEncodeError(f"length {length} cannot be encoded")
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def encode_tlv(tag: int, value: bytes) -> bytes:
    if tag <= 0 or tag >= 1 << 24:
        raise LdsEncodeError(f"tag {tag:X} cannot be encoded")
    tag_bytes = tag.to_bytes((tag.bit_length() + 7) // 8, "big")
    return tag_bytes + encode_length(len(value)) + bytes(value)


def uint_value(tlv: Tlv, max_bytes: int = 4) -> int:
    if not 1 <= len(tlv.value) <= max_bytes:
        raise LdsParseError(f"integer in tag {tlv.tag:X} has {len(tlv.value)} bytes")
    return int.from_bytes(tlv.value, "big")
