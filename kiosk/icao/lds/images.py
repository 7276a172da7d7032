"""Recognising the image formats the LDS carries."""

from __future__ import annotations

JPEG_MAGIC = b"\xff\xd8\xff"
JP2_MAGIC = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
J2K_CODESTREAM_MAGIC = b"\xff\x4f\xff\x51"


def sniff_image_format(image: bytes) -> str:
    """ "jpeg", "jpeg2000" or "unknown" from the first bytes of ``image``."""
    if image.startswith(JPEG_MAGIC):
        return "jpeg"
    if image.startswith((JP2_MAGIC, J2K_CODESTREAM_MAGIC)):
        return "jpeg2000"
    return "unknown"
