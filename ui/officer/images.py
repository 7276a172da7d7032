"""Decoding face images for the officer's screen (on a worker thread): JPEG, PNG and JPEG 2000
(chip portraits) through Pillow, re-encoded as PNG that Qt can always load."""

from __future__ import annotations

import io

MAX_PIXELS = 20_000_000


def to_png(data: bytes | None, max_side: int = 480) -> bytes | None:
    """PNG bytes of an image, scaled to ``max_side``; None when absent or undecodable."""
    if not data:
        return None
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                return None
            picture = image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    picture.thumbnail((max_side, max_side))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()
