"""BER-TLV codec (ISO/IEC 7816-4 / ISO/IEC 8825-1 subset used by ICAO 9303).

Every tag and length is checked against the buffer before use: a length that claims more bytes
than the buffer holds fails at once with :class:`TlvError` and nothing is allocated for it.
Tags are returned as integers holding their encoded bytes (``0x5F1F``, ``0x7F61``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from kiosk.icao.errors import TlvError

MAX_TAG_BYTES = 4
MAX_LENGTH_BYTES = 4


@dataclass(frozen=True, slots=True)
class Tlv:
    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        return bool(_first_tag_byte(self.tag) & 0x20)

    def children(self) -> list[Tlv]:
        """Decode the value as a sequence of TLVs (only for constructed tags)."""
        if not self.constructed:
            raise TlvError(f"tag {self.tag:X} is primitive and has no children")
        return decode_all(self.value)

    def encode(self) -> bytes:
        return encode(self.tag, self.value)


def _first_tag_byte(tag: int) -> int:
    size = max(1, (tag.bit_length() + 7) // 8)
    return (tag >> (8 * (size - 1))) & 0xFF


def read_tag(buf: bytes, pos: int = 0) -> tuple[int, int]:
    """Read one tag at ``pos``; return (tag, position after it)."""
    end = len(buf)
    if pos >= end:
        raise TlvError("truncated: tag expected")
    first = buf[pos]
    if first in (0x00, 0xFF):
        raise TlvError(f"invalid tag byte {first:02X} at offset {pos}")
    tag = first
    pos += 1
    if first & 0x1F == 0x1F:
        count = 1
        while True:
            if pos >= end:
                raise TlvError("truncated: multi-byte tag")
            byte = buf[pos]
            tag = (tag << 8) | byte
            pos += 1
            count += 1
            if count > MAX_TAG_BYTES:
                raise TlvError("tag longer than 4 bytes")
            if not byte & 0x80:
                break
    return tag, pos


def read_length(buf: bytes, pos: int = 0) -> tuple[int, int]:
    """Read one definite length at ``pos``; return (length, position after it).

    The length is not compared with the buffer here; :func:`read_tlv` does that.
    """
    if pos >= len(buf):
        raise TlvError("truncated: length expected")
    first = buf[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0:
        raise TlvError("indefinite length is not allowed")
    if count > MAX_LENGTH_BYTES:
        raise TlvError(f"length field of {count} bytes is not supported")
    if pos + count > len(buf):
        raise TlvError("truncated: long length")
    length = int.from_bytes(buf[pos : pos + count], "big")
    return length, pos + count


def read_header(buf: bytes, pos: int = 0) -> tuple[int, int, int]:
    """Return (tag, value offset, value length) without requiring the value to be present."""
    tag, pos = read_tag(buf, pos)
    length, pos = read_length(buf, pos)
    return tag, pos, length


def read_tlv(buf: bytes, pos: int = 0) -> tuple[Tlv, int]:
    """Decode the TLV at ``pos``; return it and the position after it."""
    tag, start, length = read_header(buf, pos)
    end = start + length
    if end > len(buf):
        raise TlvError(
            f"length {length} of tag {tag:X} exceeds the {len(buf) - start} bytes available"
        )
    return Tlv(tag, bytes(buf[start:end])), end


def iter_tlvs(buf: bytes) -> Iterator[Tlv]:
    pos = 0
    while pos < len(buf):
        item, pos = read_tlv(buf, pos)
        yield item


def decode_all(buf: bytes) -> list[Tlv]:
    """Decode a concatenation of TLVs that must fill ``buf`` exactly."""
    return list(iter_tlvs(buf))


def decode_one(buf: bytes, expected_tag: int | None = None) -> Tlv:
    """Decode exactly one TLV filling ``buf`` (optionally of ``expected_tag``)."""
    item, end = read_tlv(buf, 0)
    if end != len(buf):
        raise TlvError(f"{len(buf) - end} trailing bytes after tag {item.tag:X}")
    if expected_tag is not None and item.tag != expected_tag:
        raise TlvError(f"expected tag {expected_tag:X}, found {item.tag:X}")
    return item


def find(items: list[Tlv], tag: int) -> Tlv | None:
    for item in items:
        if item.tag == tag:
            return item
    return None


def require(items: list[Tlv], tag: int) -> bytes:
    item = find(items, tag)
    if item is None:
        raise TlvError(f"mandatory tag {tag:X} missing")
    return item.value


def encode_tag(tag: int) -> bytes:
    if tag <= 0:
        raise ValueError("tag must be positive")
    return tag.to_bytes((tag.bit_length() + 7) // 8, "big")


def encode_length(length: int) -> bytes:
    if length < 0:
        raise ValueError("negative length")
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    if len(raw) > MAX_LENGTH_BYTES:
        raise ValueError("length too large")
    return bytes([0x80 | len(raw)]) + raw


def encode(tag: int, value: bytes) -> bytes:
    return encode_tag(tag) + encode_length(len(value)) + bytes(value)


def encode_constructed(tag: int, *children: bytes) -> bytes:
    return encode(tag, b"".join(children))


def total_length(prefix: bytes) -> int:
    """Total encoded size of the TLV whose first bytes are ``prefix`` (used to size file reads)."""
    _tag, start, length = read_header(prefix, 0)
    return start + length
