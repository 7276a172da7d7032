"""Bad input gets a typed rejection, never an exception and never unbounded memory."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from kiosk.face.images import ImageRejected, Rejection, decode_image, read_image_file
from kiosk.face.matcher import DlibFaceMatcher, FacePurpose, FaceTemplate, select_face


def _encode(image: Image.Image, fmt: str = "PNG", **kwargs: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size in its header and has no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    idat = zlib.compress(b"\x00" * 16)  # far too little data for the claimed size
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"", "empty"),
        (b"\xff\xd8\xff\xe0 this is no jpeg at all" * 10, "corrupt"),
        (_png_header_only(10_000, 6_000), "too_large"),  # 60 megapixels: refused unread
    ],
)
def test_unreadable_inputs_are_typed(data: bytes, detail: str) -> None:
    # GIVEN bytes that are not a usable image WHEN decoded
    result = decode_image(data)
    # THEN the result is a typed rejection naming why
    assert isinstance(result, ImageRejected)
    assert result.reason is Rejection.UNREADABLE_IMAGE
    assert result.detail == detail


def test_truncated_jpeg_is_unreadable(faces_dir: Path) -> None:
    data = (faces_dir / "obama" / "obama_480p.jpg").read_bytes()
    result = decode_image(data[: len(data) // 2])
    assert isinstance(result, ImageRejected)
    assert result.code == "unreadable_image"


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    result = read_image_file(tmp_path / "absent.jpg")
    assert isinstance(result, ImageRejected) and result.code == "unreadable_image"


@pytest.mark.parametrize("mode", ["L", "RGBA", "I;16", "P", "CMYK", "LA"])
def test_every_pixel_mode_becomes_8bit_rgb(mode: str) -> None:
    # GIVEN a 30x20 image in an unusual mode
    gradient = np.tile(np.linspace(0, 255, 30, dtype=np.uint8), (20, 1))
    image = Image.fromarray(np.stack([gradient] * 3, axis=2)).convert(mode)
    if mode == "I;16":
        image = Image.fromarray(gradient.astype("<u2") * 257)
        assert image.mode == "I;16"
    # WHEN decoded
    result = decode_image(_encode(image, "TIFF" if mode == "CMYK" else "PNG"))
    # THEN it is an 8-bit RGB array of the same size, with the gradient preserved
    assert not isinstance(result, ImageRejected)
    assert result.shape == (20, 30, 3) and result.dtype == np.uint8
    assert result[:, -1].mean() > result[:, 0].mean()


def test_transparent_pixels_become_white() -> None:
    image = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    result = decode_image(_encode(image))
    assert not isinstance(result, ImageRejected)
    assert result.min() == 255


def test_exif_orientation_is_applied() -> None:
    # GIVEN a 40x20 JPEG whose EXIF says "rotate 90 degrees clockwise to display"
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _encode(Image.new("RGB", (40, 20), (200, 10, 10)), "JPEG", exif=exif.tobytes())
    # WHEN decoded THEN it comes out upright: 20 wide, 40 high
    result = decode_image(data)
    assert not isinstance(result, ImageRejected)
    assert result.shape[:2] == (40, 20)


def test_no_face_and_several_faces_are_typed(faces_dir: Path, matcher: DlibFaceMatcher) -> None:
    blank = np.full((240, 320, 3), 128, np.uint8)
    no_face = matcher.template(blank)
    assert isinstance(no_face, ImageRejected) and no_face.code == "no_face"
    group = read_image_file(faces_dir / "_group" / "obama_and_biden.jpg")
    assert not isinstance(group, ImageRejected)
    several = matcher.template(group)
    assert isinstance(several, ImageRejected) and several.code == "several_faces"


def test_wrong_array_is_rejected_not_raised(matcher: DlibFaceMatcher) -> None:
    result = matcher.template(np.zeros((10, 10), np.uint8))
    assert isinstance(result, ImageRejected) and result.code == "unreadable_image"


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_never_raise(data: bytes) -> None:
    result = decode_image(data, max_pixels=1_000_000)
    assert isinstance(result, ImageRejected) or result.ndim == 3


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2000), st.binary(min_size=1, max_size=8))
def test_damaged_jpeg_never_raises(position: int, junk: bytes) -> None:
    clean = _encode(Image.new("RGB", (64, 48), (90, 120, 150)), "JPEG")
    cut = position % len(clean)
    data = clean[:cut] + junk + clean[cut + len(junk) :]
    result = decode_image(data, max_pixels=1_000_000)
    assert isinstance(result, ImageRejected) or result.shape[2] == 3


def test_a_small_background_face_is_ignored_for_a_reference_not_live(
    faces_dir: Path, matcher: DlibFaceMatcher, templates: dict[Path, FaceTemplate]
) -> None:
    # GIVEN a photo of Obama with Biden smaller (0.58 of the width) in the background
    image = read_image_file(faces_dir / "_background" / "obama_with_small_biden.jpg")
    assert not isinstance(image, ImageRejected)
    assert len(matcher.detect(image)) == 2
    # WHEN encoded as a chip photo or an evaluation image
    reference = matcher.template(image, FacePurpose.REFERENCE)
    # THEN the largest face is taken, and it is Obama's
    assert isinstance(reference, FaceTemplate)
    obama = templates[faces_dir / "obama" / "obama_1.jpg"]
    biden = templates[faces_dir / "biden" / "biden_2.jpg"]
    assert matcher.verify(reference, obama).match and not matcher.verify(reference, biden).match
    # WHEN the same frame comes from the gate's camera THEN two people is a refusal
    live = matcher.template(image, FacePurpose.LIVE)
    assert isinstance(live, ImageRejected) and live.code == "several_faces"


def test_two_faces_of_similar_size_are_refused_even_as_a_reference(
    faces_dir: Path, matcher: DlibFaceMatcher
) -> None:
    group = read_image_file(faces_dir / "_group" / "obama_and_biden.jpg")
    assert not isinstance(group, ImageRejected)
    result = matcher.template(group, FacePurpose.REFERENCE)
    assert isinstance(result, ImageRejected) and result.code == "several_faces"


def test_face_selection_rule() -> None:
    big, small, similar = (0, 0, 100, 100), (0, 0, 79, 79), (0, 0, 80, 80)
    assert select_face([big, small], FacePurpose.REFERENCE) == big
    assert select_face([big, similar], FacePurpose.REFERENCE) is None
    assert select_face([big, (0, 0, 20, 20)], FacePurpose.LIVE) is None
    assert select_face([big], FacePurpose.LIVE) == big
    assert select_face([], FacePurpose.REFERENCE) is None
