"""Logins run on threads of their own, a bounded number at a time.

argon2 takes about 64 MiB and a core for each verification; forty concurrent guesses took
the server from 122 MiB to 2.7 GiB and starved kiosk batches on the shared worker threads.
:class:`LoginGate` runs login work on ``concurrency`` dedicated threads with at most
``queue`` more waiting; an attempt beyond that is refused at once (:class:`LoginBusyError`,
503 with Retry-After) without touching the database or argon2. The ingestion endpoints keep
the application's worker threads to themselves."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class LoginBusyError(Exception):
    """Every login slot is taken: try again shortly."""


class LoginGate:
    def __init__(self, concurrency: int, queue: int) -> None:
        self.concurrency = concurrency
        self.capacity = concurrency + queue
        self._executor = ThreadPoolExecutor(concurrency, thread_name_prefix="kiosk-login")
        self._admitted = 0  # touched on the event loop only

    @property
    def admitted(self) -> int:
        return self._admitted

    async def run(self, work: Callable[[], T]) -> T:
        if self._admitted >= self.capacity:
            raise LoginBusyError("every login slot is busy")
        self._admitted += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        finally:
            self._admitted -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
