"""1:1 verification on the fixture faces, the per-transaction cache, and the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kiosk.cli.main import main
from kiosk.face.images import ImageRejected
from kiosk.face.matcher import (
    DlibFaceMatcher,
    FaceTemplate,
    VerificationTransaction,
    score_from_distance,
)

Templates = dict[Path, FaceTemplate]


def _template(templates: Templates, faces_dir: Path, name: str) -> FaceTemplate:
    return templates[faces_dir / name]


def test_genuine_pair_matches(
    templates: Templates, faces_dir: Path, matcher: DlibFaceMatcher
) -> None:
    # GIVEN two photos of the same person WHEN compared
    result = matcher.verify(
        _template(templates, faces_dir, "obama/obama_480p.jpg"),
        _template(templates, faces_dir, "obama/obama_1.jpg"),
    )
    # THEN they match with a high score
    assert result.match and result.distance <= 0.6 and result.score > 0.4


def test_impostor_pair_does_not_match(
    templates: Templates, faces_dir: Path, matcher: DlibFaceMatcher
) -> None:
    result = matcher.verify(
        _template(templates, faces_dir, "obama/obama_480p.jpg"),
        _template(templates, faces_dir, "biden/biden_2.jpg"),
    )
    assert not result.match and result.distance > 0.6


def test_score_is_monotone_and_bounded() -> None:
    assert score_from_distance(0.0) == 1.0
    assert score_from_distance(2.0) == 0.0
    assert score_from_distance(0.3) > score_from_distance(0.5)


def test_chip_photo_is_encoded_once_per_transaction(
    faces_dir: Path, matcher: DlibFaceMatcher, templates: Templates
) -> None:
    # GIVEN a chip photo in JPEG 2000 and a transaction
    source = Image.open(faces_dir / "obama" / "obama_small.jpg")
    buffer = io.BytesIO()
    source.save(buffer, "JPEG2000")
    transaction = VerificationTransaction(matcher)
    live = _template(templates, faces_dir, "obama/obama_480p.jpg")
    # WHEN two live attempts are verified against it
    first = transaction.verify(live, buffer.getvalue())
    second = transaction.verify(live, buffer.getvalue())
    # THEN both match and the chip photo was encoded only once
    assert not isinstance(first, ImageRejected) and first.match
    assert second == first
    assert transaction.encodings == 1


def test_bad_chip_photo_is_a_typed_result(matcher: DlibFaceMatcher) -> None:
    transaction = VerificationTransaction(matcher)
    result = transaction.verify(np.zeros((48, 64, 3), np.uint8), b"\x00\x01not an image")
    assert isinstance(result, ImageRejected) and result.code == "unreadable_image"


def test_detector_finds_a_small_face_in_a_large_picture(
    matcher: DlibFaceMatcher, faces_dir: Path
) -> None:
    # GIVEN a face that is small in a large canvas (too small for the first, cheap pass)
    face = np.asarray(Image.open(faces_dir / "obama" / "obama_small.jpg").convert("RGB"))
    canvas = np.full((1600, 2000, 3), 120, np.uint8)
    canvas[700 : 700 + face.shape[0], 900 : 900 + face.shape[1]] = face
    # WHEN detected THEN the fallback passes find it where it is
    boxes = matcher.detect(canvas)
    assert len(boxes) == 1
    left, top, _, _ = boxes[0]
    assert 900 <= left <= 900 + face.shape[1] and 700 <= top <= 700 + face.shape[0]


def test_cli_match_prints_the_contract(faces_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "face",
            "match",
            str(faces_dir / "obama/obama_480p.jpg"),
            str(faces_dir / "obama/obama_2.jpg"),
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0
    assert set(out) >= {"score", "distance", "match", "quality", "timings_ms"}
    assert out["match"] is True
    assert out["quality"]["first"]["guidance"]["code"]


def test_cli_match_reports_a_typed_error(
    tmp_path: Path, faces_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff garbage")
    code = main(["face", "match", str(broken), str(faces_dir / "obama/obama_2.jpg"), "--json"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 1 and out["error"] == "unreadable_image" and out["image"] == "first"
