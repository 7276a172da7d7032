"""GIVEN a running demo kiosk (the real composition root over simulated devices) and a
traveller screen attached to the challenge prompts WHEN the capture reaches the liveness
challenge THEN it is announced (the liveness screen, then the cue), the capture waits until
the screen answers that it was shown and spoken, and liveness judges only the frames the
camera took after that answer; a screen that never answers does not hold the traveller."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.config import load_config
from kiosk.demo.kiosk_loop import GENUINE, DemoKioskLoop
from kiosk.session.events import ChallengeAnnounced, Guidance, SessionEvent, State, StateEntered
from kiosk.session.steps import CaptureStep, LivenessStep
from models.records import Decision


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoKioskLoop]:
    home: Path = tmp_path_factory.mktemp("challenge")
    with DemoKioskLoop(load_config(None, data_dir=str(home)), travellers=(GENUINE,)) as loop:
        loop.transact(GENUINE, timeout_s=90.0)  # the kiosk's own workers start here, not in a test
        yield loop


class Screen:
    """Stands for the traveller window: sees every event, answers a cue when told to."""

    def __init__(self, kiosk: DemoKioskLoop) -> None:
        self.prompts = kiosk.kiosk.engine.prompts
        self.events: list[SessionEvent] = []
        self.announced = threading.Event()
        self.cues: list[int] = []
        self.detach = self.prompts.attach()
        self.unsubscribe = kiosk.kiosk.bus.subscribe(self._on_event)

    def _on_event(self, event: SessionEvent) -> None:
        self.events.append(event)
        if isinstance(event, ChallengeAnnounced):
            self.cues.append(event.cue)
            self.announced.set()

    def close(self) -> None:
        self.detach()
        self.unsubscribe()


def _judged(kiosk: DemoKioskLoop) -> list[CaptureStep]:
    pipeline = kiosk.kiosk.pipeline
    captures: list[CaptureStep] = []
    original = pipeline.check_liveness

    def check(capture: CaptureStep) -> LivenessStep:
        captures.append(capture)
        return original(capture)

    pipeline.check_liveness = check  # type: ignore[method-assign]
    return captures


def test_liveness_judges_only_frames_taken_after_the_prompt_was_presented(
    kiosk: DemoKioskLoop,
) -> None:
    screen = Screen(kiosk)
    captures = _judged(kiosk)
    camera = kiosk.devices.camera
    presented_at: list[float] = []

    def present() -> None:
        # the screen takes its time: several frames go by between the announcement and
        # the answer, and none of them may be judged
        assert screen.announced.wait(60.0)
        first = camera.latest_frame()
        assert first is not None
        later = camera.wait_frame(first.index + 5, timeout_s=10.0)
        assert later is not None
        presented_at.append(later.timestamp)
        screen.prompts.presented(screen.cues[0])

    answering = threading.Thread(target=present)
    answering.start()
    try:
        result = kiosk.transact(GENUINE, timeout_s=90.0)
    finally:
        answering.join(30.0)
        screen.close()
        del kiosk.kiosk.pipeline.check_liveness
    assert result.outcome.decision is Decision.ACCEPT
    # the face was framed (guidance) before the challenge was announced ...
    kinds = [type(e) for e in screen.events]
    assert Guidance in kinds[: kinds.index(ChallengeAnnounced)]
    # ... the liveness screen came before the cue ...
    before = screen.events[: kinds.index(ChallengeAnnounced)]
    assert isinstance(before[-1], StateEntered) and before[-1].state is State.LIVENESS
    # ... and every judged frame was taken once the prompt had been presented
    (capture,) = captures
    assert capture.prompted_at is not None and capture.prompted_at >= presented_at[0]
    assert capture.frames and all(f.timestamp >= capture.prompted_at for f in capture.frames)


def test_a_screen_that_never_answers_does_not_hold_the_traveller(kiosk: DemoKioskLoop) -> None:
    screen = Screen(kiosk)  # attached, but it never answers
    engine = kiosk.kiosk.engine
    original = engine.timeouts
    engine.timeouts = dataclasses.replace(original, prompt_s=0.2)
    captures = _judged(kiosk)
    try:
        result = kiosk.transact(GENUINE, timeout_s=90.0)
    finally:
        engine.timeouts = original
        screen.close()
        del kiosk.kiosk.pipeline.check_liveness
    assert result.outcome.decision is Decision.ACCEPT
    assert screen.cues and captures[0].prompted_at is not None
