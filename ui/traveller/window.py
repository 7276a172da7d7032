"""The traveller e-gate window: full screen, driven by the session engine's events.

The engine publishes plain events on its worker thread; :class:`~ui.bridge.SessionBridge`
re-emits them on the GUI thread and this window maps them to screens. Nothing here calls a
device: the preview only reads the camera's newest frame. After a result, or when nobody
touches the screen for ``idle_ms``, the window goes back to the welcome screen and clears
everything personal (the preview picture, guidance), and resets language and display modes
for the next traveller.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from hardware.camera import Camera
from kiosk.assistance import Assistance, AssistanceState
from kiosk.lane import Lane, LaneStatus
from kiosk.session.engine import SessionEngine
from kiosk.session.events import EventBus, State
from kiosk.speech import VoicePrompter
from ui.bridge import SessionBridge
from ui.i18n import DEFAULT_LANGUAGE, Catalogue
from ui.lane_bridge import LaneBridge
from ui.theme import (
    CALM,
    HIGH_CONTRAST,
    LARGE_TEXT_FACTOR,
    TRAVELLER_TYPE,
    traveller_style,
)
from ui.traveller.challenge import ChallengePresenter
from ui.traveller.chrome import AccessBar, MoreTimePanel
from ui.traveller.family import FamilyFlow
from ui.traveller.screen_map import (
    QWIDGETSIZE_MAX,
    READ_AGAIN_CODES,
    RESULT_SCREENS,
    SPOKEN_SCREENS,
    STATE_SCREENS,
    STEPS,
)
from ui.traveller.screens import CameraScreen, MessageScreen
from ui.traveller.spoken import every_prompt, spoken
from ui.workers import Worker


class TravellerWindow(QWidget):
    assistance_changed = Signal(object)  # AssistanceState, from any thread

    def __init__(
        self,
        bus: EventBus,
        camera: Camera | None = None,
        *,
        idle_ms: int = 45_000,
        result_ms: int = 8_000,
        more_time_ms: int = 15_000,
        voice: VoicePrompter | None = None,
        officer_directions: dict[str, str] | None = None,
        assistance: Assistance | None = None,
        language_by_nationality: dict[str, str] | None = None,
        engine: SessionEngine | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.language_by_nationality = dict(language_by_nationality or {})
        self.language_chosen = False  # the traveller picked a language: never override it
        self.voice = voice
        self.assistance = assistance
        self.help_pending = False
        self.worker = Worker("traveller", threads=1, parent=self)
        self._unsubscribe_assistance = (
            assistance.add_listener(self.assistance_changed.emit) if assistance else None
        )
        self.officer_directions = dict(officer_directions or {})
        self.setObjectName("travellerRoot")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.catalogue = Catalogue()
        self.large_text = False
        self.high_contrast = False
        self.bridge = SessionBridge(bus, self)
        self.screens: dict[str, MessageScreen | CameraScreen] = {
            # no Start button: placing the passport starts (the welcome screen says how)
            "welcome": MessageScreen("welcome", "passport", hint=True),
            "passport": MessageScreen("passport", "passport", hint=True),
            "chip": MessageScreen("chip", "chip", progress=True),
            "camera": CameraScreen("camera", camera),
            "liveness": CameraScreen("liveness", camera),
            "wait": MessageScreen("wait", "wait"),
            "proceed": MessageScreen("proceed", "proceed"),
            "officer": MessageScreen("officer", "officer"),
            "cancelled": MessageScreen("cancelled", "cancelled"),
            "again": MessageScreen("again", "passport"),
            "closed": MessageScreen("closed", "officer", hint=True),
            "family_next": MessageScreen("family_next", "passport", hint=True),
        }
        self.again_cause: str | None = None
        self.closed = False
        self.lane_bridge: LaneBridge | None = None
        self.stack = QStackedWidget()
        for screen in self.screens.values():
            self.stack.addWidget(screen)
            if isinstance(screen, CameraScreen):
                screen.guidance_shown.connect(self._speak_guidance)

        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.timeout.connect(self._idle)
        self.idle_ms, self.result_ms, self.more_time_ms = idle_ms, result_ms, more_time_ms
        self.more_time_timer = QTimer(self)
        self.more_time_timer.setSingleShot(True)
        self.more_time_timer.timeout.connect(self.reset_to_welcome)
        self.low_reach = False
        self.animation = QTimer(self)
        self.animation.setInterval(80)
        self.animation.timeout.connect(self._animate)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._top_bar())
        self.help_banner = QLabel()
        self.help_banner.setObjectName("helpBanner")
        self.help_banner.setWordWrap(True)
        self.help_banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.help_banner.hide()
        layout.addWidget(self.help_banner)
        self.family = FamilyFlow(self, engine)  # families: the welcome choice, "2 of 3"
        layout.addWidget(self.family.badge)
        self.challenge = ChallengePresenter(self, engine.prompts if engine else None)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self._more_time_panel())
        layout.addWidget(self._bottom_bar())

        self.bridge.state_entered.connect(self.on_state)
        self.bridge.guidance.connect(self.on_guidance)
        self.bridge.decided.connect(self.on_decided)
        self.bridge.progress.connect(self.on_progress)
        self.bridge.document_read.connect(self.on_document_read)
        self.assistance_changed.connect(self.on_assistance, Qt.ConnectionType.QueuedConnection)
        self._apply_style()
        self.retranslate()
        self.show_screen("welcome")
        if self.voice is not None:
            self.voice.prefetch(every_prompt(SPOKEN_SCREENS, self.officer_directions))

    # --- chrome -------------------------------------------------------------------------

    def _top_bar(self) -> QWidget:
        bar = QWidget()
        bar.setObjectName("topBar")
        bar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        row = self.top_row = QHBoxLayout(bar)
        row.setContentsMargins(32, 12, 32, 12)
        row.setSpacing(10)
        self.brand = QLabel()
        self.brand.setObjectName("brand")
        row.addWidget(self.brand)
        row.addStretch(1)
        self.step_labels: list[QLabel] = []
        for _key, _screens in STEPS:
            label = QLabel()
            label.setObjectName("step")
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
            self.step_labels.append(label)
            row.addWidget(label, 0, Qt.AlignmentFlag.AlignVCenter)
        # Help is on every screen, at the top where it is seen first
        self.help_button = QPushButton()
        self.help_button.setObjectName("help")
        self.help_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.help_button.setVisible(self.assistance is not None)
        self.help_button.clicked.connect(self.ask_for_help)
        row.addSpacing(16)
        row.addWidget(self.help_button)
        return bar

    def _more_time_panel(self) -> QWidget:
        panel = self.more_time_panel = MoreTimePanel()
        self.more_time_label, self.more_time_button = panel.label, panel.button
        panel.button.clicked.connect(self.grant_more_time)
        return panel

    def _bottom_bar(self) -> QWidget:
        bar = AccessBar(sound=self.voice is not None)
        self.options_panel, self.bottom_row = bar.options_panel, bar.row
        self.language_buttons = bar.language_buttons
        for code, button in bar.language_buttons.items():
            button.clicked.connect(lambda _=False, c=code: self.choose_language(c))
        self.options_button = bar.options_button
        self.options_button.toggled.connect(self.show_options)
        self.large_button, self.contrast_button = bar.large_button, bar.contrast_button
        self.low_reach_button, self.sound_button = bar.low_reach_button, bar.sound_button
        for button, handler in (
            (self.large_button, self.set_large_text),
            (self.contrast_button, self.set_high_contrast),
            (self.low_reach_button, self.set_low_reach),
            (self.sound_button, self.set_muted),
        ):
            button.toggled.connect(handler)
        return bar

    def show_options(self, on: bool) -> None:
        if self.options_button.isChecked() != on:
            self.options_button.setChecked(on)
        self.options_panel.setVisible(on)
        self._touch()

    def _apply_style(self) -> None:
        palette = HIGH_CONTRAST if self.high_contrast else CALM
        sizes = TRAVELLER_TYPE.scaled(LARGE_TEXT_FACTOR) if self.large_text else TRAVELLER_TYPE
        self.setStyleSheet(traveller_style(palette, sizes))
        for screen in self.screens.values():
            screen.set_palette_colours(palette)
        self._update_steps()

    def retranslate(self) -> None:
        c = self.catalogue
        self.setWindowTitle(c.text("app.title"))
        self.brand.setText(c.text("app.title"))
        self.large_button.setText(c.text("a11y.large_text"))
        self.contrast_button.setText(c.text("a11y.high_contrast"))
        self.sound_button.setText(c.text("a11y.mute"))
        self.sound_button.setAccessibleName(c.text("a11y.mute"))
        self.low_reach_button.setText(c.text("a11y.low_reach"))
        self.options_button.setText(c.text("a11y.options"))
        self.options_button.setAccessibleName(c.text("a11y.options"))
        self.more_time_label.setText(c.text("more_time.question"))
        self.more_time_button.setText(c.text("more_time.yes"))
        self.help_button.setText(c.text("help.button"))
        self.help_button.setAccessibleName(c.text("help.button"))
        self.help_banner.setText(c.text("help.coming"))
        for label, (key, _screens) in zip(self.step_labels, STEPS, strict=True):
            label.setText(c.text(key))
        for screen in self.screens.values():
            screen.retranslate(c)
        self.family.retranslate(c)
        again = self.screens["again"]
        if self.again_cause is not None and isinstance(again, MessageScreen):
            again.instruction.setText(c.guidance(self.again_cause))
        directions = self.officer_directions.get(c.language)
        officer = self.screens["officer"]
        if directions and isinstance(officer, MessageScreen):
            officer.instruction.setText(directions)
        closed = self.screens["closed"]
        if isinstance(closed, MessageScreen) and closed.hint is not None:
            # the site's directions to the staffed desk, in the screen's language
            closed.hint.setText(directions or "")

    def _update_steps(self) -> None:
        current = self.current_screen
        for label, (_key, screens) in zip(self.step_labels, STEPS, strict=True):
            label.setObjectName("stepActive" if current in screens else "step")
            label.style().unpolish(label)
            label.style().polish(label)
        visible = current not in ("welcome", "cancelled")
        for label in self.step_labels:
            label.setVisible(visible)

    # --- accessibility and language -----------------------------------------------------

    def choose_language(self, language: str) -> None:
        """The traveller's own choice (a language button)."""
        self.language_chosen = True
        self.set_language(language)

    def on_document_read(self, nationality: str) -> None:
        """The MRZ was read: offer the language configured for the passport's nationality,
        unless the traveller already chose one; it stays changeable."""
        language = self.language_by_nationality.get(nationality)
        if (
            language in self.language_buttons
            and not self.language_chosen
            and language != self.catalogue.language
        ):
            self.set_language(language)

    def set_language(self, language: str) -> None:
        self.catalogue.set_language(language)
        self.language_buttons[language].setChecked(True)
        self.retranslate()
        self._touch()

    def set_large_text(self, on: bool) -> None:
        self.large_text = on
        if self.large_button.isChecked() != on:
            self.large_button.setChecked(on)
        self._apply_style()
        self._touch()

    def set_muted(self, on: bool) -> None:
        """The traveller's mute button: stops speech at once; reset for the next one."""
        if self.sound_button.isChecked() != on:
            self.sound_button.setChecked(on)
        if self.voice is not None:
            self.voice.set_muted(on)
        self._touch()

    def spoken_text(self, name: str) -> str:
        """What is spoken for screen ``name``: its title and instruction as shown."""
        screen = self.screens[name]
        return spoken(screen.title.text(), screen.instruction.text())

    def _speak(self, text: str) -> None:
        if self.voice is not None:
            self.voice.say(self.catalogue.language, text)

    # --- help ---------------------------------------------------------------------------

    def ask_for_help(self) -> None:
        """The Help button: call an officer (off the GUI thread) and say help is coming."""
        if self.assistance is None:
            return
        assistance, screen = self.assistance, self.current_screen
        self.worker.submit(lambda: assistance.call(screen))
        self._show_help_coming()

    def _show_help_coming(self) -> None:
        if not self.help_pending:
            self.help_pending = True
            self.help_banner.show()
            self._speak(self.catalogue.text("help.coming"))
        self.idle_timer.stop()  # nobody is sent back to Welcome while waiting for an officer

    def on_assistance(self, state: AssistanceState) -> None:
        if state.pending:
            self._show_help_coming()
        elif self.help_pending:
            self.help_pending = False
            self.help_banner.hide()
            self._touch()

    def set_low_reach(self, on: bool) -> None:
        """Seated / low-reach layout: the screen's content, the camera preview and every
        control in the lower part of the screen (Help moves down beside the other buttons)."""
        self.low_reach = on
        if self.low_reach_button.isChecked() != on:
            self.low_reach_button.setChecked(on)
        if on:
            self.show_options(False)  # the room the options took goes to the layout
        self._place_for_reach()
        self._touch()

    def _place_for_reach(self) -> None:
        top = 0
        for screen in self.screens.values():  # a smaller preview leaves room above it
            if isinstance(screen, CameraScreen):
                screen.preview.setMinimumHeight(160 if self.low_reach else 240)
                screen.preview.setMaximumHeight(
                    int(self.height() * 0.30) if self.low_reach else QWIDGETSIZE_MAX
                )
        if self.low_reach:  # push the content down, as far as every screen still fits
            margins = self.stack.contentsMargins()
            pages = self.stack.minimumSizeHint().height() - margins.top() - margins.bottom()
            spare = self.stack.height() - margins.top() - margins.bottom() - pages
            top = max(0, min(int(self.height() * 0.30), spare + margins.top()))
        self.stack.setContentsMargins(0, top, 0, 0)
        target = self.bottom_row if self.low_reach else self.top_row
        if self.help_button.parentWidget() is not target.parentWidget():
            target.addWidget(self.help_button)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.low_reach:
            self._place_for_reach()

    # --- idle ---------------------------------------------------------------------------

    def _idle(self) -> None:
        """Nobody touched the screen for a while: a result goes away; otherwise ask first."""
        if self.current_screen in RESULT_SCREENS or self.current_screen == "welcome":
            self.reset_to_welcome()
            return
        self.more_time_panel.show()
        self._speak(self.catalogue.text("more_time.question"))
        self.more_time_timer.start(self.more_time_ms)

    def grant_more_time(self) -> None:
        self.more_time_panel.hide()
        self.more_time_timer.stop()
        self._touch()

    def set_high_contrast(self, on: bool) -> None:
        self.high_contrast = on
        if self.contrast_button.isChecked() != on:
            self.contrast_button.setChecked(on)
        self._apply_style()
        self._touch()

    # --- screens ------------------------------------------------------------------------

    @property
    def current_screen(self) -> str:
        widget = self.stack.currentWidget()
        return getattr(widget, "name", "welcome")

    def show_screen(self, name: str) -> None:
        previous = self.current_screen
        screen = self.screens[name]
        for other_name, other in self.screens.items():
            if isinstance(other, CameraScreen) and other_name != name:
                other.preview.stop()
        if isinstance(screen, CameraScreen):
            screen.preview.start()
        if name != previous and isinstance(screen, MessageScreen):
            screen.clear()
        self.stack.setCurrentWidget(screen)
        if self.low_reach:
            self._place_for_reach()
        if name != previous and name != "welcome":
            self._speak(self.spoken_text(name))
        if screen.animated:
            self.animation.start()
        else:
            self.animation.stop()
        self._update_steps()
        if name == "welcome" or self.help_pending:
            self.idle_timer.stop()
        else:
            self.idle_timer.start(self.result_ms if name in RESULT_SCREENS else self.idle_ms)

    def _animate(self) -> None:
        screen = self.screens[self.current_screen]
        if isinstance(screen, MessageScreen):
            screen.pictogram.advance()

    def _touch(self) -> None:
        """The traveller did something: restart the idle countdown."""
        if self.more_time_panel.isVisible():
            self.more_time_panel.hide()
            self.more_time_timer.stop()
        if self.help_pending:
            return
        if self.current_screen not in ("welcome", *RESULT_SCREENS):
            self.idle_timer.start(self.idle_ms)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        # presses on labels and screens (not accepted by a child) end up here
        self._touch()
        super().mousePressEvent(event)

    def reset_to_welcome(self) -> None:
        """Back to the welcome screen (the closed screen while the lane is out of service)
        with nothing personal left anywhere on screen."""
        for screen in self.screens.values():
            screen.clear()
        if self.voice is not None:
            self.voice.silence()
        self.language_chosen = False
        self.again_cause = None
        self.set_language(DEFAULT_LANGUAGE)
        self.set_large_text(False)
        self.set_high_contrast(False)
        self.set_low_reach(False)
        self.set_muted(False)
        self.show_options(False)
        self.more_time_panel.hide()
        self.more_time_timer.stop()
        self.family.reset()
        self.show_screen("closed" if self.closed else "welcome")

    # --- the lane -----------------------------------------------------------------------

    def follow_lane(self, lane: Lane) -> None:
        """Show the closed screen, with the site's directions to the staffed desk
        (``officer_directions``), whenever ``lane`` is out of service and no traveller is
        being served."""
        self.lane_bridge = LaneBridge(lane, self)
        self.lane_bridge.changed.connect(self.on_lane)
        self.retranslate()
        self.on_lane(lane.status())

    def on_lane(self, status: LaneStatus) -> None:
        self.closed = not status.in_service
        idle = self.current_screen in ("welcome", "passport", "closed")
        if self.closed and idle:
            self.show_screen("closed")
        elif not self.closed and self.current_screen == "closed":
            self.show_screen("welcome")

    # --- engine events (GUI thread, via the bridge) -------------------------------------

    def on_state(self, state: str) -> None:
        if state == State.WAITING.value:
            if self.current_screen not in (*RESULT_SCREENS, "again"):
                self.reset_to_welcome()
            return
        name = STATE_SCREENS.get(state)
        if name is not None and name != self.current_screen:
            self.show_screen(name)
        elif name is not None and name not in RESULT_SCREENS:
            self.idle_timer.start(self.idle_ms)

    def on_guidance(self, code: str, _english: str) -> None:
        if code in READ_AGAIN_CODES:  # what went wrong, for the "place it again" screen
            self.again_cause = code
            self.retranslate()
            return
        if code == "seated_layout" and not self.low_reach:  # the camera found the face low
            self.set_low_reach(True)
        screen = self.screens[self.current_screen]
        if not isinstance(screen, CameraScreen):
            screen = self.screens["camera"]
        assert isinstance(screen, CameraScreen)
        screen.show_guidance(code, self.catalogue)

    def _speak_guidance(self, code: str) -> None:
        self._speak(self.catalogue.guidance(code))

    def on_decided(self, decision: str, _reasons: list[str]) -> None:
        self.show_screen("proceed" if decision == "accept" else "officer")

    def on_progress(self, _state: str, fraction: float) -> None:
        screen = self.screens["chip"]
        if isinstance(screen, MessageScreen):
            screen.set_fraction(fraction)

    # --- life cycle ---------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop every timer and unsubscribe from the engine (idempotent)."""
        self.idle_timer.stop()
        self.more_time_timer.stop()
        self.animation.stop()
        for screen in self.screens.values():
            if isinstance(screen, CameraScreen):
                screen.preview.clear()
                screen.hold.stop()
        if self._unsubscribe_assistance is not None:
            self._unsubscribe_assistance()
            self._unsubscribe_assistance = None
        self.worker.close()
        self.challenge.close()
        self.bridge.close()
        if self.lane_bridge is not None:
            self.lane_bridge.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
