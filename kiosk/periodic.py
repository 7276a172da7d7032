"""A function run every N seconds on its own named daemon thread, stopped and joined on close."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Periodic:
    def __init__(
        self, name: str, interval_s: float, work: Callable[[], object], *, first_at_once: bool
    ) -> None:
        self.name = name
        self.interval_s = interval_s
        self.work = work
        self.first_at_once = first_at_once
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        if self.first_at_once:
            self.work()
        while not self._stop.wait(self.interval_s):
            self.work()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()

    def close(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
