"""Session fixtures of the face tests: the matcher and the templates of the fixture faces
(encodings cost about 0.1 s each, so each image is encoded once per test run)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.face.enrolment import Enrolment, enrol
from kiosk.face.images import ImageRejected, read_image_file
from kiosk.face.matcher import DlibFaceMatcher, FacePurpose, FaceTemplate

FACES = Path(__file__).resolve().parent.parent / "data" / "faces"


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    return FACES


@pytest.fixture(scope="session")
def matcher() -> DlibFaceMatcher:
    return DlibFaceMatcher(threshold=0.6)


@pytest.fixture(scope="session")
def enrolment(matcher: DlibFaceMatcher) -> Enrolment:
    return enrol(FACES, matcher)


@pytest.fixture(scope="session")
def templates(matcher: DlibFaceMatcher, enrolment: Enrolment) -> dict[Path, FaceTemplate]:
    """The full templates (box, landmarks, quality) of the enrolled fixture faces."""
    out: dict[Path, FaceTemplate] = {}
    for path in enrolment.paths:
        image = read_image_file(path)
        assert not isinstance(image, ImageRejected)
        made = matcher.template(image, FacePurpose.REFERENCE)
        assert isinstance(made, FaceTemplate)
        out[path] = made
    return out


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """`kiosk` CLI calls set up logging on the captured stream; put the old handlers back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
