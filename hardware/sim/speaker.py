"""A simulated speaker: checks and records every prompt it is asked to play, and plays it
in simulated time (``realtime = False`` returns at once; ``True`` takes the prompt's length,
interruptible by ``stop()``)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from hardware.speaker import Speaker, WaveInfo


@dataclass(frozen=True)
class PlayedPrompt:
    sha256: str
    duration_s: float
    finished: bool


class SimulatedSpeaker(Speaker):
    def __init__(self, config: object | None = None) -> None:
        super().__init__()
        self.realtime: bool = bool(getattr(config, "realtime", False))
        self.played: list[PlayedPrompt] = []
        self.played_event = threading.Event()
        self._stop_event = threading.Event()

    def _play(self, wav: bytes, info: WaveInfo) -> bool:
        self._stop_event.clear()
        finished = not (self.realtime and self._stop_event.wait(info.duration_s))
        with self._lock:
            self.played.append(
                PlayedPrompt(hashlib.sha256(wav).hexdigest(), info.duration_s, finished)
            )
        self.played_event.set()
        return finished

    def _stop(self) -> None:
        self._stop_event.set()
