"""Decoding the chip photo (DG2) safely: JPEG and JPEG 2000 only, dimensions checked first.

ISO/IEC 19794-5 and 39794-5 allow a facial image to be JPEG or JPEG 2000, nothing else; a
general image library would also run EPS (Ghostscript), TIFF, BMP, PNG ... decoders on bytes a
chip chose. So the format is recognised by its magic bytes, the dimensions the image declares
are read from its own header (JPEG SOFn, JPEG 2000 ``ihdr`` box and codestream SIZ marker)
without decoding, anything larger than a portrait is refused, and only then is the image
decoded by the one Pillow plugin of its format. The pixel cap also caps the decoding time: a
1.9 KB JPEG 2000 declaring 7000 x 7000 is refused in microseconds. The session decodes the
photo only once Passive Authentication proved DG2 (:meth:`DocumentVerdict.proven`).
"""

from __future__ import annotations

import struct

from kiosk.face.images import ImageRejected, Rejection, RgbImage, decode_image
from kiosk.icao.lds.images import sniff_image_format

# A portrait of 1,500 x 2,000 is far more than ICAO 9303 Part 9 asks (90 pixels between the
# eyes); the chip photos of real passports are 0.2 to 1 megapixel.
MAX_PORTRAIT_PIXELS = 3_000_000
MAX_PORTRAIT_SIDE = 4_000
MAX_PORTRAIT_BYTES = 1024 * 1024
PILLOW_FORMATS = {"jpeg": ("JPEG",), "jpeg2000": ("JPEG2000",)}
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # not DHT, JPG, DAC


def _refused(detail: str) -> ImageRejected:
    return ImageRejected(Rejection.UNREADABLE_IMAGE, detail)


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the first start-of-frame segment, or None."""
    index = 2
    while index + 4 <= len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        if marker == 0xFF:  # fill byte
            index += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):
            index += 2
            continue
        (length,) = struct.unpack(">H", data[index + 2 : index + 4])
        if length < 2:
            return None
        if marker in _SOF_MARKERS:
            segment = data[index + 4 : index + 2 + length]
            if len(segment) < 5:
                return None
            height, width = struct.unpack(">HH", segment[1:5])
            return width, height
        if marker == 0xDA:  # scan before any frame header
            return None
        index += 2 + length
    return None


def _siz_size(codestream: bytes) -> tuple[int, int] | None:
    """(width, height) of a JPEG 2000 codestream's SIZ marker segment."""
    if not codestream.startswith(b"\xff\x4f\xff\x51") or len(codestream) < 24:
        return None
    xsiz, ysiz, xosiz, yosiz = struct.unpack(">IIII", codestream[8:24])
    if xosiz > xsiz or yosiz > ysiz:
        return None
    return xsiz - xosiz, ysiz - yosiz


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, content start, content end) of the JP2 boxes in data[start:end]."""
    out = []
    index = start
    while index + 8 <= end:
        length, kind = struct.unpack(">I4s", data[index : index + 8])
        header = 8
        if length == 1:
            if index + 16 > end:
                break
            (length,) = struct.unpack(">Q", data[index + 8 : index + 16])
            header = 16
        elif length == 0:
            length = end - index
        if length < header or index + length > end:
            break
        out.append((kind, index + header, index + length))
        index += length
    return out


def jpeg2000_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a JP2 file (the larger of ``ihdr`` and the codestream's SIZ) or of
    a bare codestream; None when neither can be read."""
    if data.startswith(b"\xff\x4f\xff\x51"):
        return _siz_size(data)
    sizes: list[tuple[int, int]] = []
    for kind, start, end in _boxes(data, 0, len(data)):
        if kind == b"jp2h":
            for inner, s, e in _boxes(data, start, end):
                if inner == b"ihdr" and e - s >= 8:
                    height, width = struct.unpack(">II", data[s : s + 8])
                    sizes.append((width, height))
        elif kind == b"jp2c":
            siz = _siz_size(data[start:end])
            if siz is not None:
                sizes.append(siz)
    if not sizes:
        return None
    return max(w for w, _ in sizes), max(h for _, h in sizes)


def declared_size(data: bytes) -> tuple[str, tuple[int, int] | None]:
    """(format, declared (width, height) or None); format "unknown" for anything else."""
    kind = sniff_image_format(data)
    if kind == "jpeg":
        return kind, jpeg_size(data)
    if kind == "jpeg2000":
        return kind, jpeg2000_size(data)
    return kind, None


def check_chip_photo(data: bytes, max_pixels: int = MAX_PORTRAIT_PIXELS) -> ImageRejected | None:
    """Why ``data`` may not be decoded as a chip photo, or None."""
    if not data:
        return _refused("empty")
    if len(data) > MAX_PORTRAIT_BYTES:
        return _refused("too_large")
    kind, size = declared_size(data)
    if kind not in PILLOW_FORMATS:
        return _refused("format_not_allowed")
    if size is None:
        return _refused("dimensions_unreadable")
    width, height = size
    if width <= 0 or height <= 0:
        return _refused("no_pixels")
    if max(width, height) > MAX_PORTRAIT_SIDE or width * height > max_pixels:
        return _refused("too_large")
    return None


def decode_chip_photo(
    data: bytes, max_pixels: int = MAX_PORTRAIT_PIXELS
) -> RgbImage | ImageRejected:
    """The chip photo as RGB, or why it was refused (before any pixel was decoded);
    ``max_pixels`` (the face configuration's limit) can only lower the portrait cap."""
    limit = min(max_pixels, MAX_PORTRAIT_PIXELS)
    refused = check_chip_photo(data, limit)
    if refused is not None:
        return refused
    kind = sniff_image_format(data)
    return decode_image(data, limit, formats=PILLOW_FORMATS[kind])
