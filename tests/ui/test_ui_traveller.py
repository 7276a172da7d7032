"""GIVEN the traveller window over a session engine and simulated devices WHEN a traveller
goes through the gate (or not) THEN the screens follow the engine, guidance is shown one
message at a time in the chosen language, and a timeout clears everything personal."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot

from hardware.gate import GateCommand
from hardware.sim.camera import SimulatedCamera
from hardware.sim.gate import SimulatedGate
from hardware.sim.speaker import SimulatedSpeaker
from kiosk.assistance import Assistance, AssistanceState
from kiosk.session.engine import SessionEngine
from kiosk.session.events import DocumentRead, State
from kiosk.speech import EspeakSynthesizer, VoicePrompter
from ui.i18n import messages
from ui.theme import MIN_TOUCH_PX
from ui.traveller.screens import CameraScreen
from ui.traveller.window import TravellerWindow

from .conftest import TRAVELLER_MRZ, ScriptedPipeline

pytestmark = pytest.mark.gui


@pytest.fixture
def window(
    qtbot: QtBot, engine: SessionEngine, camera: SimulatedCamera, tmp_path: Path
) -> Iterator[TravellerWindow]:
    # a voice that speaks nothing: the sound button is there, as in the product
    voice = VoicePrompter(EspeakSynthesizer(tmp_path / "speech"), SimulatedSpeaker(), enabled=False)
    win = TravellerWindow(
        engine.bus, camera, idle_ms=30_000, result_ms=30_000, voice=voice, assistance=Assistance()
    )
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    yield win
    win.close()
    voice.close()
    assert not win.idle_timer.isActive() and not win.animation.isActive()
    for screen in win.screens.values():
        if isinstance(screen, CameraScreen):
            assert not screen.preview.timer.isActive()


def visited(window: TravellerWindow) -> list[str]:
    names: list[str] = []
    window.stack.currentChanged.connect(lambda _: names.append(window.current_screen))
    return names


def test_an_accepted_traveller_sees_every_step_and_the_gate_opens(
    qtbot: QtBot, window: TravellerWindow, engine: SessionEngine, gate: SimulatedGate
) -> None:
    screens = visited(window)
    # no Start button: the welcome screen says to place the passport, and that starts
    assert window.current_screen == "welcome"
    assert not [b for b in window.screens["welcome"].findChildren(QPushButton) if b.isVisible()]
    assert engine.document_presented(TRAVELLER_MRZ.splitlines())
    qtbot.waitUntil(lambda: window.current_screen == "proceed", timeout=10_000)
    assert engine.wait_idle(10)
    qtbot.wait(50)
    assert screens[:4] == ["chip", "camera", "liveness", "wait"]
    assert window.current_screen == "proceed"  # the result stays after the engine is idle
    assert GateCommand.OPEN_EXIT in gate.commands


def test_a_mismatch_sends_the_traveller_to_an_officer(
    qtbot: QtBot,
    window: TravellerWindow,
    engine: SessionEngine,
    pipeline: ScriptedPipeline,
    gate: SimulatedGate,
) -> None:
    pipeline.distance = 0.9
    assert engine.document_presented(TRAVELLER_MRZ.splitlines())
    qtbot.waitUntil(lambda: window.current_screen == "officer", timeout=15_000)
    assert engine.wait_idle(15)
    qtbot.wait(50)
    assert window.current_screen == "officer"
    assert GateCommand.OPEN_EXIT not in gate.commands
    assert window.screens["officer"].title.text() == messages("en")["officer.title"]


def test_guidance_is_one_message_at_a_time_in_the_chosen_language(
    qtbot: QtBot, window: TravellerWindow
) -> None:
    window.set_language("es")
    window.show_screen("camera")
    screen = window.screens["camera"]
    assert isinstance(screen, CameraScreen)
    window.on_guidance("move_closer", "Please move closer")
    window.on_guidance("too_dark", "It is too dark")
    # the first message stays up long enough to be read; the newest waiting one follows
    assert screen.guidance.text() == messages("es")["guidance.move_closer"]
    qtbot.waitUntil(lambda: screen.guidance.text() == messages("es")["guidance.too_dark"])
    window.set_language("nl")
    assert screen.guidance.text() == messages("nl")["guidance.too_dark"]
    assert screen.title.text() == messages("nl")["camera.title"]


def test_engine_events_reach_the_window_on_the_gui_thread(
    qtbot: QtBot, window: TravellerWindow, engine: SessionEngine
) -> None:
    threads: list[threading.Thread] = []
    window.bridge.state_entered.connect(lambda _s: threads.append(threading.current_thread()))
    assert engine.document_presented(TRAVELLER_MRZ.splitlines())
    qtbot.waitUntil(lambda: window.current_screen == "proceed", timeout=10_000)
    engine.wait_idle(10)
    assert threads and all(t is threading.main_thread() for t in threads)


@pytest.mark.parametrize("large_text", [False, True])
def test_every_button_is_a_touch_target_of_at_least_44_px(
    qtbot: QtBot, window: TravellerWindow, large_text: bool
) -> None:
    window.set_large_text(large_text)
    window.show_options(True)  # the accessibility options row open too
    for language in ("en", "fr", "es", "nl"):
        window.set_language(language)
        for name in window.screens:
            window.show_screen(name)
            qtbot.wait(1)
            buttons = [b for b in window.findChildren(QPushButton) if b.isVisible()]
            assert buttons
            for button in buttons:
                size = button.size()
                assert size.width() >= MIN_TOUCH_PX and size.height() >= MIN_TOUCH_PX, (
                    f"{button.text()!r} on {name} is {size.width()}x{size.height()}"
                )
                assert button.fontMetrics().horizontalAdvance(button.text()) < size.width()
    window.show_screen("welcome")


def test_high_contrast_and_large_text_change_the_look(window: TravellerWindow) -> None:
    normal = window.screens["welcome"].title.font().pixelSize()
    window.set_large_text(True)
    window.set_high_contrast(True)
    assert window.screens["welcome"].title.font().pixelSize() > normal
    assert "#000000" in window.styleSheet()


def test_a_timeout_returns_to_welcome_and_clears_every_personal_detail(
    qtbot: QtBot, engine: SessionEngine, camera: SimulatedCamera
) -> None:
    window = TravellerWindow(engine.bus, camera, idle_ms=300, result_ms=300, more_time_ms=300)
    qtbot.addWidget(window)
    window.show()
    window.set_language("fr")
    window.set_high_contrast(True)
    window.show_screen("camera")
    screen = window.screens["camera"]
    assert isinstance(screen, CameraScreen)
    qtbot.waitUntil(lambda: screen.preview.image is not None, timeout=5000)
    window.on_guidance("hold_still", "Hold still")
    assert screen.guidance.isVisible()

    # the gate first asks whether the traveller needs more time, then gives up
    qtbot.waitUntil(lambda: window.more_time_panel.isVisible(), timeout=10_000)
    assert window.more_time_label.text() == messages("fr")["more_time.question"]
    qtbot.waitUntil(lambda: window.current_screen == "welcome", timeout=10_000)
    assert not window.more_time_panel.isVisible()

    for other in window.screens.values():
        if isinstance(other, CameraScreen):
            assert other.preview.image is None
            assert not other.preview.timer.isActive()
            assert other.guidance.text() == "" and not other.guidance.isVisible()
    assert window.catalogue.language == "en" and not window.high_contrast
    assert window.screens["welcome"].title.text() == messages("en")["welcome.title"]
    window.close()


def test_a_result_screen_times_out_to_welcome(qtbot: QtBot, engine: SessionEngine) -> None:
    window = TravellerWindow(engine.bus, None, idle_ms=10_000, result_ms=200)
    qtbot.addWidget(window)
    window.on_decided("refer", ["biometric_mismatch"])
    window.on_state("waiting")  # the engine is idle again: the result screen must stay a while
    assert window.current_screen == "officer"
    qtbot.waitUntil(lambda: window.current_screen == "welcome", timeout=2000)
    window.close()


def test_no_screen_shows_a_raw_message_key_in_any_language(window: TravellerWindow) -> None:
    keys = set(messages("en"))
    for language in ("en", "fr", "es", "nl"):
        window.set_language(language)
        for name in window.screens:
            window.show_screen(name)
            texts = [label.text() for label in window.findChildren(QLabel) if label.text()]
            texts += [b.text() for b in window.findChildren(QPushButton)]
            raw = [t for t in texts if t in keys or (("." in t) and " " not in t)]
            assert not raw, f"{name} in {language} shows {raw}"
    window.show_screen("welcome")


def test_a_message_is_never_replaced_before_it_could_be_read(
    qtbot: QtBot, window: TravellerWindow
) -> None:
    # GIVEN the camera screen showing "move closer"
    window.show_screen("camera")
    screen = window.screens["camera"]
    assert isinstance(screen, CameraScreen)
    shown: list[str] = []
    screen.guidance_shown.connect(shown.append)
    window.on_guidance("move_closer", "")
    # WHEN the tracker changes its mind at every frame
    for code in ("too_dark", "centre_face", "too_dark", "look_at_camera"):
        window.on_guidance(code, "")
    # THEN the first message is still up, and only the newest waiting one is shown next
    assert screen.guidance_code == "move_closer" and screen.hold.isActive()
    qtbot.waitUntil(lambda: screen.guidance_code == "look_at_camera", timeout=10_000)
    assert shown == ["move_closer", "look_at_camera"]


def test_a_retry_message_stays_longer_than_guidance(window: TravellerWindow) -> None:
    window.show_screen("camera")
    screen = window.screens["camera"]
    assert isinstance(screen, CameraScreen)
    window.on_guidance("retry", "")
    assert screen.hold.interval() > screen.min_message_ms


@pytest.mark.parametrize(
    ("code", "colour"),
    [
        ("ok", "success"),
        ("hold_still", "success"),
        ("move_closer", "attention"),
        ("several_faces", "attention"),
        (None, "pictogram"),
    ],
)
def test_the_outline_colour_and_the_message_come_from_one_code(
    window: TravellerWindow, code: str | None, colour: str
) -> None:
    window.show_screen("camera")
    screen = window.screens["camera"]
    assert isinstance(screen, CameraScreen)
    if code is not None:
        window.on_guidance(code, "")
        assert screen.guidance.text() == window.catalogue.guidance(code)
    assert screen.preview.guidance_code == code
    assert screen.preview.outline_colour() == getattr(screen.preview.palette_colours, colour)


def test_the_preview_shows_the_whole_camera_field(qtbot: QtBot, window: TravellerWindow) -> None:
    # GIVEN a 640x480 camera and a preview of a different shape
    window.show_screen("camera")
    screen = window.screens["camera"]
    assert isinstance(screen, CameraScreen)
    qtbot.waitUntil(lambda: screen.preview.image is not None, timeout=20_000)
    preview = screen.preview
    preview.resize(900, 400)
    image = preview.image
    assert image is not None
    # THEN the picture fits inside the widget with its aspect kept (nothing cropped)
    rect = preview.picture_rect()
    assert rect.width() <= preview.width() + 0.5 and rect.height() <= preview.height() + 0.5
    assert rect.width() / rect.height() == pytest.approx(image.width() / image.height(), 0.01)
    # AND the outline lies inside the picture
    assert rect.contains(preview.oval())


def test_help_calls_an_officer_says_help_is_coming_and_holds_the_screen(
    qtbot: QtBot, engine: SessionEngine, camera: SimulatedCamera, tmp_path: Path
) -> None:
    # GIVEN the gate with its assistance calls, a traveller on the camera screen
    assistance = Assistance()
    calls: list[AssistanceState] = []
    assistance.add_listener(calls.append)
    window = TravellerWindow(
        engine.bus, camera, idle_ms=200, result_ms=200, more_time_ms=200, assistance=assistance
    )
    qtbot.addWidget(window)
    try:
        window.show_screen("camera")
        # WHEN the traveller presses Help (visible on every screen)
        assert window.help_button.isVisibleTo(window)
        window.help_button.click()
        # THEN the call is made (off the GUI thread), help is said to be coming, and the gate
        # does not send the traveller back to Welcome while they wait
        qtbot.waitUntil(lambda: assistance.state.pending, timeout=10_000)
        assert calls[0].screen == "camera" and calls[0].calls == 1
        assert window.help_banner.isVisibleTo(window)
        assert window.help_banner.text() == messages("en")["help.coming"]
        assert not window.idle_timer.isActive()
        window.help_button.click()  # a second press while pending is the same call
        qtbot.wait(100)
        assert assistance.state.calls == 1
        # WHEN the officer acknowledges (from the booth, through the lane's link)
        assistance.acknowledge("officer-7")
        qtbot.waitUntil(lambda: not window.help_banner.isVisibleTo(window), timeout=10_000)
        # THEN the screen goes back to its normal countdown
        qtbot.waitUntil(lambda: window.current_screen == "welcome", timeout=10_000)
    finally:
        window.shutdown()


def test_without_an_assistance_line_there_is_no_help_button(
    qtbot: QtBot, engine: SessionEngine
) -> None:
    window = TravellerWindow(engine.bus, None)
    qtbot.addWidget(window)
    try:
        assert not window.help_button.isVisibleTo(window)
        assert window.help_button.isVisibleTo(window) is False
    finally:
        window.shutdown()


def test_a_traveller_who_needs_more_time_keeps_their_place(
    qtbot: QtBot, engine: SessionEngine, camera: SimulatedCamera
) -> None:
    window = TravellerWindow(engine.bus, camera, idle_ms=200, result_ms=200, more_time_ms=60_000)
    qtbot.addWidget(window)
    window.show()
    try:
        window.set_language("nl")
        window.show_screen("camera")
        qtbot.waitUntil(lambda: window.more_time_panel.isVisible(), timeout=10_000)
        assert window.more_time_button.text() == messages("nl")["more_time.yes"]
        window.more_time_button.click()
        assert not window.more_time_panel.isVisible() and not window.more_time_timer.isActive()
        assert window.current_screen == "camera" and window.catalogue.language == "nl"
        assert window.idle_timer.isActive()  # the countdown starts again
    finally:
        window.shutdown()


def test_the_seated_layout_puts_the_screen_and_help_in_the_lower_part(
    qtbot: QtBot, window: TravellerWindow
) -> None:
    window.show_screen("camera")
    preview = window.screens["camera"].preview  # type: ignore[union-attr]

    def preview_centre() -> float:
        return preview.mapTo(window, preview.rect().center()).y()

    assert preview_centre() < window.height() / 2
    window.show_options(True)
    window.low_reach_button.click()
    qtbot.wait(50)
    assert window.low_reach
    qtbot.waitUntil(lambda: preview_centre() > window.height() / 2)
    help_y = window.help_button.mapTo(window, window.help_button.rect().topLeft()).y()
    assert help_y > window.height() / 2
    # and the next traveller gets the standard layout back
    window.reset_to_welcome()
    assert not window.low_reach and not window.options_panel.isVisible()
    help_y = window.help_button.mapTo(window, window.help_button.rect().topLeft()).y()
    assert help_y < window.height() / 4


def test_the_language_follows_the_passport_until_the_traveller_chooses(
    qtbot: QtBot, engine: SessionEngine, camera: SimulatedCamera
) -> None:
    # GIVEN a gate whose site offers French to Haitian and Dutch to Surinamese passports
    window = TravellerWindow(engine.bus, camera, language_by_nationality={"HTI": "fr", "SUR": "nl"})
    qtbot.addWidget(window)
    try:
        # WHEN the engine reads a Haitian passport's MRZ (the event carries only the code)
        engine.bus.publish(DocumentRead("txn-1", "HTI"))
        # THEN the screens switch to French
        qtbot.waitUntil(lambda: window.catalogue.language == "fr")
        assert window.language_buttons["fr"].isChecked()
        # AND a traveller who then picks Spanish keeps Spanish whatever is read next
        window.language_buttons["es"].click()
        engine.bus.publish(DocumentRead("txn-1", "SUR"))
        qtbot.wait(100)
        assert window.catalogue.language == "es"
        # AND the next traveller starts in English, and an unmapped nationality changes nothing
        window.reset_to_welcome()
        engine.bus.publish(DocumentRead("txn-2", "LCA"))
        qtbot.wait(100)
        assert window.catalogue.language == "en"
    finally:
        window.shutdown()


def test_the_engine_announces_the_nationality_once_the_mrz_is_read(
    qtbot: QtBot, engine: SessionEngine
) -> None:
    seen: list[DocumentRead] = []
    engine.bus.subscribe(lambda e: seen.append(e) if isinstance(e, DocumentRead) else None)
    assert engine.document_presented(TRAVELLER_MRZ.splitlines())
    assert engine.wait_idle(30)
    assert [e.nationality for e in seen] == ["LCA"]


def test_place_again_says_what_went_wrong_and_waits_for_the_passport(
    window: TravellerWindow,
) -> None:
    # GIVEN the engine could not read the chip and asks for the passport again
    window.on_guidance("chip_unreadable", "")
    window.on_state(State.PLACE_AGAIN.value)
    window.on_state(State.WAITING.value)  # the engine is idle until the passport is back
    # THEN the screen stays, says why and what to do, in the traveller's language
    assert window.current_screen == "again"
    again = window.screens["again"]
    assert again.title.text() == messages("en")["again.title"]
    assert again.instruction.text() == messages("en")["guidance.chip_unreadable"]
    window.set_language("fr")
    assert again.instruction.text() == messages("fr")["guidance.chip_unreadable"]
    # AND the next traveller does not inherit the cause
    window.reset_to_welcome()
    assert window.again_cause is None
