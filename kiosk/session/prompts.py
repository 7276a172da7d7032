"""The liveness challenge is shown and spoken before the frames that judge it.

The capture (``KioskPipeline.capture_face``) first frames the face; then the engine announces
the challenge ("Blink once, or turn your head slowly"): the liveness screen and a
:class:`~kiosk.session.events.ChallengeAnnounced` event carrying a cue number. The traveller
window presents it (the screen shown, the prompt spoken to its end, or a reading time when
sound is off) and answers :meth:`ChallengePrompts.presented` with the cue. Only frames the
camera took after that answer are judged. A kiosk with no traveller screen attached (the
headless service, the demo's command line) has nobody to wait for; a screen that does not
answer within the engine's ``prompt_s`` does not hold the traveller up (the frames are still
the ones taken after the announcement).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable


class ChallengePrompts:
    """Cues announced by the engine and answered by the traveller screens (any thread)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._presenters = 0
        self._cues = itertools.count(1)
        self._presented = 0  # the newest cue presented
        self.presented_at: dict[int, float] = {}  # cue -> time.monotonic() of its answer

    def attach(self) -> Callable[[], None]:
        """A traveller screen will present the challenges; returns its detach."""
        with self._changed:
            self._presenters += 1
        done = False

        def detach() -> None:
            nonlocal done
            with self._changed:
                if not done:
                    done = True
                    self._presenters -= 1
                    self._changed.notify_all()

        return detach

    @property
    def attended(self) -> bool:
        return self._presenters > 0

    def announce(self) -> int:
        with self._changed:
            return next(self._cues)

    def presented(self, cue: int) -> None:
        """The screen showed (and the voice spoke) the challenge of ``cue``."""
        with self._changed:
            if cue > self._presented:
                self._presented = cue
            self.presented_at[cue] = time.monotonic()
            while len(self.presented_at) > 64:
                self.presented_at.pop(min(self.presented_at))
            self._changed.notify_all()

    def wait(self, cue: int, timeout_s: float, cancel: threading.Event) -> bool:
        """True once ``cue`` was presented (at once with no screen attached); False on
        time-out or cancel."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while self._presenters and self._presented < cue:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or cancel.is_set():
                    return False
                self._changed.wait(min(0.05, remaining))
        return True
