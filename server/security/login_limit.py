"""Throttling password guessing: after ``max_failures`` failed logins within ``window_s``,
for one user name or from one client address, further attempts are refused with 429 and a
``Retry-After`` until the oldest failure leaves the window (a right password included).

The counts live in the memory of one server process (one uvicorn worker): a restart forgets
them, and with several workers each counts on its own. The number of names and addresses
tracked is bounded, so a flood of made-up user names cannot exhaust memory.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_TRACKED = 50_000


class LoginLimiter:
    def __init__(
        self,
        max_failures: int,
        window_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int = MAX_TRACKED,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._max_tracked = max_tracked
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _keys(user: str, address: str) -> tuple[str, str]:
        return f"user:{user}", f"addr:{address}"

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, user: str, address: str) -> int | None:
        """Seconds to wait before ``user`` may try again from ``address``; None: go ahead."""
        now = self._clock()
        waits: list[float] = []
        with self._lock:
            for key in self._keys(user, address):
                times = self._recent(key, now)
                if times is not None and len(times) >= self.max_failures:
                    waits.append(times[-self.max_failures] + self.window_s - now)
        if not waits:
            return None
        return max(1, math.ceil(max(waits)))

    def failed(self, user: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            for key in self._keys(user, address):
                times = self._recent(key, now)
                if times is None:
                    times = self._failures[key] = deque(maxlen=self.max_failures)
                times.append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > self._max_tracked:
                self._failures.popitem(last=False)

    def succeeded(self, user: str) -> None:
        """A right password clears the user's failures (not the address's: one valid account
        must not reset the count of an address that guesses others)."""
        with self._lock:
            self._failures.pop(self._keys(user, "")[0], None)
