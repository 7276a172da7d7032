"""Exponential backoff with full jitter: attempt n waits a random time in
[0, min(cap, base * 2**n)], so kiosks that lost the link together do not return together."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    base_s: float = 1.0
    cap_s: float = 300.0
    rng: random.Random = field(default_factory=random.Random)

    def ceiling(self, attempts: int) -> float:
        return float(min(self.cap_s, self.base_s * 2 ** min(max(attempts, 0), 30)))

    def delay(self, attempts: int) -> float:
        """The wait after ``attempts`` failed attempts (at least a tenth of the base)."""
        return max(self.base_s / 10, self.rng.uniform(0, self.ceiling(attempts)))
