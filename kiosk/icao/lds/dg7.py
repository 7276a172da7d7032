"""DG7: displayed signature or usual mark (one or more images)."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.icao.lds._tlv import encode_tlv, iter_tlvs, read_single, uint_value
from kiosk.icao.lds.errors import LdsEncodeError, LdsParseError
from kiosk.icao.lds.images import sniff_image_format

DG7_TAG = 0x67
IMAGE_TAG = 0x5F43


@dataclass(frozen=True)
class Dg7:
    raw: bytes
    images: tuple[bytes, ...]
    formats: tuple[str, ...]  # "jpeg", "jpeg2000" or "unknown" for each image


def parse_dg7(data: bytes) -> Dg7:
    children = list(iter_tlvs(read_single(data, DG7_TAG).value))
    if not children or children[0].tag != 0x02:
        raise LdsParseError("DG7: image count missing")
    count = uint_value(children[0], 1)
    images = tuple(c.value for c in children[1:] if c.tag == IMAGE_TAG)
    if len(images) != count:
        raise LdsParseError(f"DG7 announces {count} images, holds {len(images)}")
    return Dg7(bytes(data), images, tuple(sniff_image_format(i) for i in images))


def encode_dg7(images: list[bytes] | tuple[bytes, ...]) -> bytes:
    if not 1 <= len(images) <= 255:
        raise LdsEncodeError("DG7 holds 1 to 255 images")
    body = encode_tlv(0x02, bytes([len(images)]))
    body += b"".join(encode_tlv(IMAGE_TAG, img) for img in images)
    return encode_tlv(DG7_TAG, body)
