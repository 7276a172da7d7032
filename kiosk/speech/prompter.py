"""Speaks the traveller's instructions: one worker thread, newest prompt wins.

:meth:`VoicePrompter.say` never blocks: it hands the prompt to the worker, which interrupts
what is playing and speaks the new one (a screen that changed makes the old instruction
wrong). The same prompt asked again within ``repeat_after_s`` is not repeated, so guidance
that stays the same is spoken once, not at every camera frame. Muting stops at once. A
caller that must know when the traveller has heard a prompt (the liveness challenge, before
its frames are judged) passes ``done``: it is called once the prompt was played to its end,
interrupted, or skipped (muted, no voice, speech unavailable), on the voice's thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from hardware.speaker import Speaker
from kiosk.speech.synth import EspeakSynthesizer, SpeechUnavailable

log = logging.getLogger(__name__)


class VoicePrompter:
    def __init__(
        self,
        synthesizer: EspeakSynthesizer,
        speaker: Speaker,
        *,
        enabled: bool = True,
        repeat_after_s: float = 8.0,
    ) -> None:
        self.synthesizer = synthesizer
        self.speaker = speaker
        self.enabled = enabled
        self.repeat_after_s = repeat_after_s
        self.spoken = 0
        self._pending: tuple[str, str, int] | None = None
        self._generation = 0
        self._playing: int | None = None  # generation of the prompt being played
        self._last: tuple[str, str, float] | None = None
        self._wake = threading.Condition()
        self._closed = False
        self._unavailable_logged = False
        self._prefetch: threading.Thread | None = None
        self._done: dict[int, list[Callable[[], None]]] = {}  # generation -> callbacks
        self._thread = threading.Thread(target=self._main, name="kiosk-voice", daemon=True)
        self._thread.start()

    @property
    def muted(self) -> bool:
        return self.speaker.muted

    def set_muted(self, muted: bool) -> None:
        self.speaker.muted = muted
        if muted:
            self.speaker.stop()

    def say(self, language: str, text: str, done: Callable[[], None] | None = None) -> None:
        if not self.enabled or self.speaker.muted or not text.strip():
            if done is not None:
                done()
            return
        now = time.monotonic()
        with self._wake:
            last = self._last
            if last and last[:2] == (language, text) and now - last[2] < self.repeat_after_s:
                # the same prompt: done when the one pending or playing ends (or now)
                current = self._pending[2] if self._pending else self._playing
                if done is not None and current is not None:
                    self._done.setdefault(current, []).append(done)
                elif done is not None:
                    done()
                return
            self._last = (language, text, now)
            self._generation += 1
            if self._pending is not None:  # replaced before it was played
                self._finished(self._pending[2])
            self._pending = (language, text, self._generation)
            if done is not None:
                self._done[self._generation] = [done]
            self._wake.notify()
            if self._playing is not None:  # the new prompt replaces the one playing
                self.speaker.stop()

    def _finished(self, generation: int) -> None:
        """Call the ``done`` callbacks of ``generation`` (the lock is held)."""
        for callback in self._done.pop(generation, ()):
            try:
                callback()
            except Exception:
                log.exception("spoken prompt callback failed")

    def silence(self) -> None:
        """Stop speaking and forget the last prompt (a new traveller)."""
        with self._wake:
            if self._pending is not None:
                self._finished(self._pending[2])
            self._pending = None
            self._last = None
        self.speaker.stop()

    def prefetch(self, prompts: Iterable[tuple[str, str]]) -> threading.Thread | None:
        """Render ``prompts`` into the cache on a background thread, so the first traveller
        hears each prompt at once; stops early when the prompter closes."""
        if not self.enabled:
            return None
        todo = list(prompts)

        def work() -> None:
            rendered = 0
            for language, text in todo:
                if self._closed:
                    return
                try:
                    rendered += self.synthesizer.prefetch([(language, text)])
                except SpeechUnavailable as exc:
                    log.warning("spoken prompts unavailable: %s", exc.code)
                    return
            log.info("spoken prompts ready: %d rendered, %d cached", rendered, len(todo))

        thread = threading.Thread(target=work, name="kiosk-voice-prefetch", daemon=True)
        self._prefetch = thread
        thread.start()
        return thread

    def close(self) -> None:
        with self._wake:
            self._closed = True
            for generation in list(self._done):
                self._finished(generation)
            self._wake.notify()
        self.speaker.stop()
        self._thread.join(5.0)
        if self._prefetch is not None:
            self._prefetch.join(30.0)

    def _main(self) -> None:
        while True:
            with self._wake:
                while self._pending is None and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                assert self._pending is not None
                language, text, generation = self._pending
                self._pending = None
            try:
                wav = self.synthesizer.render(language, text)
            except SpeechUnavailable as exc:
                if not self._unavailable_logged:
                    log.warning("spoken prompts unavailable: %s", exc.code)
                    self._unavailable_logged = True
                with self._wake:
                    self._finished(generation)
                continue
            with self._wake:
                if self._generation != generation or self._closed:
                    self._finished(generation)
                    continue  # a newer prompt came while this one was rendered
                self._playing = generation
            try:
                if self.speaker.play(wav):
                    self.spoken += 1
            finally:
                with self._wake:
                    self._playing = None
                    self._finished(generation)
