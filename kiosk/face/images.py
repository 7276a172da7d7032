"""Safe decoding of face images (chip photos, files) into 8-bit RGB arrays.

Images come from outside: a chip, a file, a request. Decoding checks the byte count, then
reads only the header to learn the pixel count and refuses anything over the limit before
a pixel is decoded, so a 60,000 x 60,000 PNG costs nothing. Grayscale, 16-bit, palette,
CMYK and RGBA images become RGB (alpha composited on white); EXIF orientation is applied.
Every failure is a :class:`ImageRejected` *value* with a stable reason, never an exception.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFile, ImageOps

log = logging.getLogger(__name__)

RgbImage = npt.NDArray[np.uint8]

MAX_IMAGE_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_PIXELS = 50_000_000


class Rejection(Enum):
    """Why an image gave no face template; the values are stable codes."""

    UNREADABLE_IMAGE = "unreadable_image"
    NO_FACE = "no_face"
    SEVERAL_FACES = "several_faces"


@dataclass(frozen=True)
class ImageRejected:
    reason: Rejection
    detail: str  # e.g. "empty", "truncated", "too_large"; never image content

    @property
    def code(self) -> str:
        return self.reason.value


def _unreadable(detail: str) -> ImageRejected:
    return ImageRejected(Rejection.UNREADABLE_IMAGE, detail)


def read_image_file(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> RgbImage | ImageRejected:
    """Read and decode an image file; a missing or oversized file is a rejection too."""
    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            return _unreadable("too_large")
        data = path.read_bytes()
    except OSError:
        return _unreadable("not_readable")
    return decode_image(data, max_pixels)


def decode_image(
    data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, formats: tuple[str, ...] | None = None
) -> RgbImage | ImageRejected:
    """Decode JPEG, JPEG 2000, PNG, ... bytes into an RGB array, within every bound;
    ``formats`` (Pillow format names) restricts the decoders that may be tried."""
    if not data:
        return _unreadable("empty")
    if len(data) > MAX_IMAGE_BYTES:
        return _unreadable("too_large")
    # face_recognition sets this global when imported; a truncated image must be refused
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(formats) if formats else None)
            width, height = image.size
            if width <= 0 or height <= 0:
                return _unreadable("no_pixels")
            if width * height > max_pixels:
                return _unreadable("too_large")
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return _unreadable("too_large")
    except Exception as exc:
        log.info("image not decoded: %s", exc.__class__.__name__)
        return _unreadable("truncated" if "truncated" in str(exc) else "corrupt")
    try:
        return _to_rgb(_upright(image))
    except Exception as exc:
        log.info("image not converted: %s", exc.__class__.__name__)
        return _unreadable("unsupported_mode")


def _upright(image: Image.Image) -> Image.Image:
    try:
        turned = ImageOps.exif_transpose(image)
    except Exception:
        return image
    return turned if turned is not None else image


def _to_rgb(image: Image.Image) -> RgbImage:
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        if mode.startswith("I;16"):
            scale = 255.0 / 65535.0
        else:
            top = float(values.max()) if values.size else 0.0
            scale = 255.0 / top if top > 255 else 1.0
        gray = np.clip(values * scale, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    rgb = image.convert("RGB")
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
