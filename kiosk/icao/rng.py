"""Randomness is injected (``RandomBytes``) so known-answer tests can replay fixed values."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

RandomBytes = Callable[[int], bytes]

system_random: RandomBytes = os.urandom


class ReplayRandom:
    """Returns the given byte strings in order; each request must match the next length."""

    def __init__(self, values: Iterable[bytes]) -> None:
        self._values = list(values)

    def __call__(self, n: int) -> bytes:
        if not self._values:
            raise AssertionError("replay random exhausted")
        value = self._values.pop(0)
        if len(value) != n:
            raise AssertionError(f"replay random: {n} bytes asked, next value has {len(value)}")
        return value

    @property
    def remaining(self) -> int:
        return len(self._values)
