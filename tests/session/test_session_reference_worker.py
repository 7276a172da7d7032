"""The chip photo's template: made with the reference side's encoder on the pipeline's
reference worker while the traveller is captured, then cancelled or joined when the face
steps end; the live frame's with the live side's encoder."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiosk.app import face_settings
from kiosk.config import load_config
from kiosk.demo.kiosk_loop import GENUINE, DemoKioskLoop
from kiosk.face.images import ImageRejected, Rejection, RgbImage
from kiosk.face.matcher import (
    DlibFaceMatcher,
    FaceMatcher,
    FacePurpose,
    FaceTemplate,
    VerificationTransaction,
)
from kiosk.face.quality import FrameQuality, Guidance
from kiosk.face.remote import ProcessFaceMatcher
from kiosk.face.sided import EncoderSettings, SidedFaceMatcher
from kiosk.session.pipeline import FaceReference, KioskPipeline
from kiosk.session.steps import ChipStep, Outcome
from models.errors import ConfigError

PHOTO = (Path(__file__).resolve().parent.parent / "data/faces/obama/obama_small.jpg").read_bytes()


class GatedMatcher(FaceMatcher):
    """Makes a template only once ``gate`` opens; records what happened, in order."""

    def __init__(self) -> None:
        super().__init__(0.5)
        self.gate = threading.Event()
        self.started = threading.Event()
        self.log: list[str] = []

    def _template(self, image: RgbImage, purpose: FacePurpose) -> FaceTemplate | ImageRejected:
        self.log.append(f"started on {threading.current_thread().name}")
        self.started.set()
        assert self.gate.wait(30.0), "the test never opened the gate"
        self.log.append("encoded")
        quality = FrameQuality(1, Guidance.OK)
        return FaceTemplate(np.zeros(128), (0, 0, 1, 1), np.zeros((68, 2)), quality)


@pytest.fixture
def gated() -> Iterator[tuple[GatedMatcher, KioskPipeline]]:
    matcher = GatedMatcher()
    none: Any = None
    pipeline = KioskPipeline(
        chip_reader=none,
        camera=none,
        gate=none,
        verifier=none,
        matcher=lambda: VerificationTransaction(matcher),
        liveness=none,
        screener=none,
        recorder=none,
        kiosk_id="k1",
        face_threshold=0.5,
    )
    yield matcher, pipeline
    matcher.gate.set()
    pipeline.close()


def _chip(reference: FaceReference) -> ChipStep:
    return ChipStep(read=True, portrait=PHOTO, reference=reference)


def test_a_queued_chip_photo_job_is_cancelled_at_the_end_of_its_transaction(
    gated: tuple[GatedMatcher, KioskPipeline],
) -> None:
    # GIVEN one transaction's chip photo being encoded and the next one's queued behind it
    matcher, pipeline = gated
    running = pipeline._encode_reference_in_background(PHOTO)
    assert matcher.started.wait(30.0)
    queued = pipeline._encode_reference_in_background(PHOTO)
    # WHEN the second transaction ends first
    pipeline.release_reference(_chip(queued))
    # THEN its job never runs; the first one, let go, finishes on the reference worker
    assert queued.job.cancelled()
    matcher.gate.set()
    pipeline.release_reference(_chip(running))
    assert running.job.done() and not running.job.cancelled()
    assert matcher.log == ["started on kiosk-reference_0", "encoded"]


def test_a_running_chip_photo_job_is_joined_before_the_transaction_ends(
    gated: tuple[GatedMatcher, KioskPipeline],
) -> None:
    # GIVEN a chip photo being encoded
    matcher, pipeline = gated
    reference = pipeline._encode_reference_in_background(PHOTO)
    assert matcher.started.wait(30.0)
    # WHEN its transaction ends while it runs
    released = threading.Thread(
        target=lambda: (pipeline.release_reference(_chip(reference)), matcher.log.append("ended"))
    )
    released.start()
    matcher.gate.set()
    released.join(30.0)
    # THEN the end waited for the job: nothing of this traveller runs past it
    assert matcher.log[1:] == ["encoded", "ended"]
    assert reference.verification.encodings == 1


def test_a_transaction_with_no_chip_photo_job_releases_nothing(
    gated: tuple[GatedMatcher, KioskPipeline],
) -> None:
    _, pipeline = gated
    pipeline.release_reference(None)
    pipeline.release_reference(ChipStep(read=False))


class Spy:
    """Wraps one side's ``template`` to record the purpose and the thread of each call."""

    def __init__(self, side: FaceMatcher, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[FacePurpose, str]] = []
        original = side.template

        def template(image: RgbImage, purpose: FacePurpose = FacePurpose.LIVE) -> Any:
            self.calls.append((purpose, threading.current_thread().name))
            return original(image, purpose)

        monkeypatch.setattr(side, "template", template)


def test_the_kiosk_encodes_each_side_with_its_own_encoder_and_the_chip_photo_in_its_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the packaged kiosk's configuration, with the live side set to 2 jitters
    config = load_config(None, data_dir=str(tmp_path / "kiosk"))
    live_side = config.face.live.model_copy(update={"num_jitters": 2})
    face = config.face.model_copy(update={"live": live_side})
    config = config.model_copy(update={"face": face})
    with DemoKioskLoop(config, travellers=(GENUINE,)) as loop:
        matcher = loop.kiosk.pipeline.new_verification().matcher
        # THEN the chip photo side is a worker process with the shipped 3 jitters and the
        # live side the configured 2, both against the one resolved threshold
        assert isinstance(matcher, SidedFaceMatcher)
        reference, live = matcher.sides[FacePurpose.REFERENCE], matcher.sides[FacePurpose.LIVE]
        assert isinstance(reference, ProcessFaceMatcher) and isinstance(live, DlibFaceMatcher)
        assert reference.worker.settings["num_jitters"] == 3 and live.num_jitters == 2
        assert matcher.threshold == reference.threshold == live.threshold == config.face_threshold
        assert reference.worker.pid is not None
        spies = Spy(reference, monkeypatch), Spy(live, monkeypatch)
        # WHEN a genuine traveller goes through
        result = loop.transact(GENUINE)
    # THEN accepted, the chip photo encoded once on the reference worker, the frame on the
    # matching step
    assert result.outcome.outcome is Outcome.ACCEPTED
    assert spies[0].calls == [(FacePurpose.REFERENCE, "kiosk-reference_0")]
    attempts = [name for name in result.outcome.timings_ms if name.startswith("matching_")]
    assert len(spies[1].calls) == len(attempts) >= 1
    assert all(p is FacePurpose.LIVE and t.startswith("kiosk-step-") for p, t in spies[1].calls)


def test_each_side_s_encoder_is_read_from_the_configuration_file(tmp_path: Path) -> None:
    # GIVEN a configuration that sets both sides and a policy threshold
    path = tmp_path / "kiosk.toml"
    path.write_text(
        "[face]\nthreshold = 0.58\n\n[face.reference]\nnum_jitters = 5\nlandmarks = 5\n\n"
        "[face.live]\nnum_jitters = 2\n"
    )
    # WHEN the composition root resolves the face settings
    resolved = face_settings(load_config(path))
    # THEN each side has its own encoder and the one threshold comes with them
    assert resolved.reference == EncoderSettings(5, 5)
    assert resolved.live == EncoderSettings(2, 68)
    assert resolved.threshold == 0.58
    # and the shipped defaults are the calibrated pair
    shipped = face_settings(load_config(None, data_dir=str(tmp_path)))
    assert (shipped.reference, shipped.live) == (EncoderSettings(3, 68), EncoderSettings(1, 68))


@pytest.mark.parametrize(
    "text",
    [
        "[face]\nnum_jitters = 3\n",  # the old single setting: both sides must be named
        "[face.live]\nnum_jitters = 0\n",
        "[face.reference]\nlandmarks = 7\n",
    ],
)
def test_a_bad_encoder_setting_is_a_configuration_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        load_config(path)


def test_the_sided_matcher_routes_by_purpose_and_closes_each_side_once() -> None:
    # GIVEN two sides that count what they are asked
    class Counting(FaceMatcher):
        def __init__(self) -> None:
            super().__init__(0.9)
            self.purposes: list[FacePurpose] = []
            self.closed = 0

        def _template(self, image: RgbImage, purpose: FacePurpose) -> ImageRejected:
            self.purposes.append(purpose)
            return ImageRejected(Rejection.NO_FACE, "no_face")

        def close(self) -> None:
            self.closed += 1

    chip, live = Counting(), Counting()
    sided = SidedFaceMatcher(0.5, reference=chip, live=live)
    image = np.zeros((8, 8, 3), np.uint8)
    # WHEN asked for a chip photo's template and a live one, and closed
    sided.template(image, FacePurpose.REFERENCE)
    sided.template(image)
    sided.close()
    # THEN each went to its side, and the one threshold is the sided matcher's
    assert chip.purposes == [FacePurpose.REFERENCE] and live.purposes == [FacePurpose.LIVE]
    assert chip.closed == live.closed == 1 and sided.threshold == 0.5
    same = Counting()
    SidedFaceMatcher(0.5, reference=same, live=same).close()
    assert same.closed == 1
