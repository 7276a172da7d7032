"""GIVEN the face worker processes (``kiosk.face.worker`` / ``kiosk.face.remote``) WHEN they
make templates and find faces THEN they agree with the in-process matcher and detector, a
killed or stuck worker gives a typed error and is replaced, and close() leaves no process."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kiosk.face.images import ImageRejected, read_image_file
from kiosk.face.matcher import DlibFaceMatcher, FaceTemplate, VerificationTransaction
from kiosk.face.remote import ProcessFaceDetector, ProcessFaceMatcher
from kiosk.face.tracker import _detect_here
from kiosk.face.worker import FaceWorker, FaceWorkerError
from models.errors import DeviceError

PAIRS = [
    ("obama/obama_1.jpg", "obama/obama_2.jpg"),  # genuine
    ("kit_harington/kit_1.jpg", "kit_harington/kit_2.jpg"),  # genuine
    ("obama/obama_1.jpg", "biden/biden_1.jpg"),  # impostor
    ("rose_leslie/rose_1.jpg", "kit_harington/kit_3.jpg"),  # impostor
]


@pytest.fixture(autouse=True)
def _no_leaked_processes() -> Iterator[None]:
    before = set(multiprocessing.active_children())
    yield
    left = [p for p in multiprocessing.active_children() if p not in before]
    assert not left, f"test left processes running: {left}"


@pytest.fixture(scope="module")
def remote() -> Iterator[ProcessFaceMatcher]:
    with ProcessFaceMatcher(threshold=0.6) as matcher:
        yield matcher
    assert not multiprocessing.active_children()


def _image(faces_dir: Path, name: str) -> np.ndarray:
    image = read_image_file(faces_dir / name)
    assert not isinstance(image, ImageRejected)
    return image


def _template(matcher: DlibFaceMatcher | ProcessFaceMatcher, image: np.ndarray) -> FaceTemplate:
    template = matcher.template(image)
    assert isinstance(template, FaceTemplate)
    return template


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_the_worker_gives_the_in_process_distance_and_decision(
    a: str, b: str, faces_dir: Path, matcher: DlibFaceMatcher, remote: ProcessFaceMatcher
) -> None:
    # GIVEN two photos WHEN both matchers compare them
    here = matcher.verify(*(_template(matcher, _image(faces_dir, n)) for n in (a, b)))
    there = remote.verify(*(_template(remote, _image(faces_dir, n)) for n in (a, b)))
    # THEN the decision is the same and the distance agrees to 1e-6
    assert there.match == here.match
    assert abs(there.distance - here.distance) <= 1e-6
    assert here.match is (a.split("/")[0] == b.split("/")[0])


def test_bad_images_get_the_same_typed_rejections(
    faces_dir: Path, matcher: DlibFaceMatcher, remote: ProcessFaceMatcher
) -> None:
    cases = {
        "no_face": np.full((240, 320, 3), 128, np.uint8),
        "several_faces": _image(faces_dir, "_group/obama_and_biden.jpg"),
        "not_rgb": np.zeros((10, 10), np.uint8),
        "not_8_bit": np.zeros((10, 10, 3), np.uint16),
    }
    for name, image in cases.items():
        here, there = matcher.template(image), remote.template(image)  # type: ignore[arg-type]
        assert isinstance(here, ImageRejected) and isinstance(there, ImageRejected), name
        assert (there.code, there.detail) == (here.code, here.detail), name
    # a corrupt chip photo is refused before any worker is asked
    outcome = VerificationTransaction(remote).verify(cases["no_face"], b"\xff\xd8\xff broken")
    assert isinstance(outcome, ImageRejected) and outcome.code == "unreadable_image"


def test_an_image_over_the_pixel_limit_is_refused_without_sending_it() -> None:
    # GIVEN a matcher bounded to 100,000 pixels (not even started)
    small_limit = ProcessFaceMatcher(threshold=0.6, max_pixels=100_000)
    try:
        # WHEN it is given a 400 x 400 image THEN it is a typed rejection, and no worker ran
        result = small_limit.template(np.zeros((400, 400, 3), np.uint8))
        assert isinstance(result, ImageRejected) and result.detail == "too_large"
        assert small_limit.worker.pid is None
    finally:
        small_limit.close()


def test_a_killed_worker_gives_a_typed_error_and_is_restarted(faces_dir: Path) -> None:
    image = _image(faces_dir, "obama/obama_1.jpg")
    with ProcessFaceMatcher(threshold=0.6) as matcher:
        matcher.wait_ready()
        first = matcher.worker.pid
        assert first is not None
        # WHEN the worker is killed and a template is asked for
        os.kill(first, signal.SIGKILL)
        # THEN the caller gets a typed error (the engine refers the traveller), not a hang
        with pytest.raises(FaceWorkerError) as raised:
            matcher.template(image)
        assert isinstance(raised.value, DeviceError)
        assert raised.value.code == "face_worker_failed"
        # AND a new worker was started at once and answers the next request
        assert matcher.worker.restarts == 1
        assert matcher.worker.pid not in (None, first)
        assert isinstance(matcher.template(image), FaceTemplate)


def test_a_stuck_worker_times_out_and_is_replaced(faces_dir: Path) -> None:
    image = _image(faces_dir, "obama/obama_1.jpg")
    with ProcessFaceMatcher(threshold=0.6, request_timeout_s=0.5) as matcher:
        matcher.wait_ready()
        stuck = matcher.worker.pid
        assert stuck is not None
        os.kill(stuck, signal.SIGSTOP)  # alive, but never answers
        with pytest.raises(FaceWorkerError, match="within"):
            matcher.template(image)
        assert matcher.worker.pid not in (None, stuck)
        with pytest.raises(ProcessLookupError):
            os.kill(stuck, 0)  # killed and reaped


def test_close_stops_the_worker_and_refuses_later_requests() -> None:
    matcher = ProcessFaceMatcher(threshold=0.6).start()
    pid = matcher.worker.pid
    assert pid in [p.pid for p in multiprocessing.active_children()]
    matcher.close()
    assert pid not in [p.pid for p in multiprocessing.active_children()]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(FaceWorkerError):
        matcher.template(np.zeros((100, 100, 3), np.uint8))
    matcher.close()  # twice is fine


def test_the_detector_worker_finds_the_boxes_found_here(faces_dir: Path) -> None:
    import cv2

    gray = cv2.cvtColor(_image(faces_dir, "obama/obama_480p.jpg"), cv2.COLOR_RGB2GRAY)
    small = np.ascontiguousarray(cv2.resize(gray, (320, 240)))
    with ProcessFaceDetector() as detector:
        there = detector.detect(small, 1)
        assert there == _detect_here(small, 1) and len(there) == 1
        with pytest.raises(ValueError):
            detector.detect(np.zeros((3000, 3000), np.uint8), 1)


def test_unknown_roles_and_fork_are_refused() -> None:
    with pytest.raises(ValueError):
        FaceWorker("encoder")
    with pytest.raises(ValueError):
        FaceWorker("matcher", start_method="fork")
