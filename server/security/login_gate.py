"""Logins run on threads of their own, a bounded number at a time and at a bounded rate.

argon2 takes 64 MiB and about 140 ms of CPU (on four lanes) for each verification; forty
concurrent guesses took the server from 122 MiB to 2.7 GiB and starved kiosk batches on the
shared worker threads. :class:`LoginGate` runs login work on ``concurrency`` dedicated
threads with at most ``queue`` more waiting, and admits at most ``rate_per_s`` attempts a
second (a bucket of ``burst``); an attempt beyond either is refused at once
(:class:`LoginBusyError`, 503 with Retry-After) without touching the database or argon2. So
a flood costs the server at most ``rate_per_s`` verifications a second, run at a low CPU
priority (nice 10), and the ingestion endpoints keep the application's worker threads to
themselves."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


# nice 10 weighs a tenth of a normal thread: kiosks' requests come first under a flood, yet an
# officer's login still finishes on a busy host (at nice 19, a fiftieth, one argon2
# verification beside two busy processes took longer than the booth's 5 s timeout)
LOGIN_NICENESS = 10


def _lowest_priority() -> None:
    """Run this login thread (and the threads argon2 starts from it) at a low CPU priority:
    under a login flood the kiosks' requests come first (Linux: a thread is a task with its
    own nice value)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOGIN_NICENESS)
    except (AttributeError, OSError):
        pass


class LoginBusyError(Exception):
    """Every login slot is taken: try again shortly."""


class LoginGate:
    def __init__(
        self,
        concurrency: int,
        queue: int,
        *,
        rate_per_s: float = 1000.0,
        burst: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.concurrency = concurrency
        self.capacity = concurrency + queue
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._refilled = clock()
        self._executor = ThreadPoolExecutor(
            concurrency, thread_name_prefix="kiosk-login", initializer=_lowest_priority
        )
        self._admitted = 0  # touched on the event loop only

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._refilled) * self.rate_per_s)
        self._refilled = now

    def _take_token(self) -> bool:
        self._refill()
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def has_room(self) -> bool:
        """Whether an attempt now would be admitted (takes nothing): lets the server refuse
        a flood before it reads or parses anything."""
        self._refill()
        return self._admitted < self.capacity and self._tokens >= 1

    @property
    def admitted(self) -> int:
        return self._admitted

    async def run(self, work: Callable[[], T]) -> T:
        if self._admitted >= self.capacity or not self._take_token():
            raise LoginBusyError("every login slot is busy")
        self._admitted += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        finally:
            self._admitted -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
