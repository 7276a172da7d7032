"""``kiosk face match`` bounds every read: a strip-shaped image and an endless device are
typed refusals, never a cv2 traceback or an unbounded read."""

from __future__ import annotations

import io
import json
import resource
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kiosk.cli.main import main
from kiosk.face.images import MAX_IMAGE_BYTES, read_image_file

FACES = Path(__file__).resolve().parents[1] / "data" / "faces"


def _a_face() -> Path:
    return next(p for p in sorted(FACES.rglob("*.jpg")) if not p.parent.name.startswith("_"))


def _strip(tmp_path: Path) -> Path:
    buffer = io.BytesIO()
    Image.fromarray(np.full((2, 100_000, 3), 128, dtype=np.uint8)).save(buffer, "PNG")
    path = tmp_path / "strip.png"
    path.write_bytes(buffer.getvalue())
    return path


def test_a_100000_by_2_image_is_a_typed_refusal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    strip = _strip(tmp_path)
    with Image.open(strip) as image:
        assert image.size == (100_000, 2)  # the hostile image is what it says
    code = main(["face", "match", str(_a_face()), str(strip), "--json"])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err and "cv2" not in err
    assert json.loads(out) == {
        "error": "unreadable_image",
        "detail": "bad_dimensions",
        "image": "second",
    }


def test_dev_zero_is_read_within_the_bound_and_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = read_image_file(Path("/dev/zero"))
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert getattr(result, "detail", None) == "too_large"
    assert grown_kib * 1024 <= 3 * MAX_IMAGE_BYTES  # bounded: at most the limit was read
    code = main(["face", "match", "/dev/zero", str(_a_face()), "--json"])
    out, _ = capsys.readouterr()
    assert code == 1 and json.loads(out)["detail"] == "too_large"
