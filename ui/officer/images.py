"""Decoding face images for the officer's screen (on a worker thread), re-encoded as PNG that
Qt can always load.

The chip portrait is bytes a chip chose (signed, but by whichever document signer the chip
carries), so it is held to the kiosk's chip photo rules (:mod:`kiosk.face.chip_photo`): JPEG
or JPEG 2000 only, recognised by their magic bytes, the declared size checked before any
pixel is decoded, a portrait's pixel cap, one Pillow plugin. The live frame is the kiosk's
own JPEG and is decoded as JPEG only. Anything else shows as "no photo", never runs another
decoder (EPS would start Ghostscript)."""

from __future__ import annotations

import io

MAX_PIXELS = 20_000_000


def to_png(data: bytes | None, max_side: int = 480, *, chip: bool = False) -> bytes | None:
    """PNG bytes of an image, scaled to ``max_side``; None when absent or undecodable.
    ``chip``: the chip portrait (JPEG / JPEG 2000 under the chip photo rules); otherwise a
    JPEG live frame."""
    if not data:
        return None
    from PIL import Image, UnidentifiedImageError

    if chip:
        from kiosk.face.chip_photo import decode_chip_photo
        from kiosk.face.images import ImageRejected

        decoded = decode_chip_photo(data)
        if isinstance(decoded, ImageRejected):
            return None
        picture = Image.fromarray(decoded)
    else:
        try:
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
                if image.width * image.height > MAX_PIXELS:
                    return None
                picture = image.convert("RGB")
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
            return None
    picture.thumbnail((max_side, max_side))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()
