"""Presents the liveness challenge before the frames that judge it, and answers the engine.

On a :class:`~kiosk.session.events.ChallengeAnnounced` cue the liveness screen is shown and its
prompt ("Blink once, or turn your head slowly") spoken; once the voice has played it to its end
(or, with sound off, after a reading time) the cue is answered
(:meth:`kiosk.session.prompts.ChallengePrompts.presented`) and the capture starts keeping the
frames it judges. The answer comes from the voice's thread as a queued signal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from kiosk.session.prompts import ChallengePrompts

if TYPE_CHECKING:
    from ui.traveller.window import TravellerWindow

READ_MS = 1_500  # sound off: the time to read the challenge before it is judged


class ChallengePresenter(QObject):
    answered = Signal(int)  # a cue, from any thread

    def __init__(
        self, window: TravellerWindow, prompts: ChallengePrompts | None, read_ms: int = READ_MS
    ) -> None:
        super().__init__(window)
        self.window, self.prompts = window, prompts
        self._detach: Callable[[], None] | None = prompts.attach() if prompts else None
        self.presented: list[int] = []  # cues answered, newest last
        self._pending: int | None = None
        self._read = QTimer(self)
        self._read.setSingleShot(True)
        self._read.setInterval(read_ms)
        self._read.timeout.connect(lambda: self._answer(self._pending))
        self.answered.connect(self._answer, Qt.ConnectionType.QueuedConnection)
        window.bridge.challenge.connect(self.present)

    def present(self, cue: int) -> None:
        window = self.window
        if window.current_screen != "liveness":
            window.show_screen("liveness")
        voice = window.voice
        self._pending = cue
        if voice is not None and voice.enabled and not voice.muted:
            text = window.spoken_text("liveness")
            voice.say(window.catalogue.language, text, done=lambda: self.answered.emit(cue))
        else:
            self._read.start()

    def _answer(self, cue: int | None) -> None:
        if cue is None or self.prompts is None or cue in self.presented:
            return
        self.presented.append(cue)
        del self.presented[:-16]
        self.prompts.presented(cue)

    def close(self) -> None:
        self._read.stop()
        if self._detach is not None:
            self._detach()
            self._detach = None
