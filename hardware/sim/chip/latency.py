"""Optional timing model of a contactless link: a fixed delay per APDU plus air time."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

BIT_RATES = (106_000, 212_000, 424_000, 848_000)
BITS_PER_BYTE = 9  # 8 data bits and the parity bit of ISO/IEC 14443-3 frames


@dataclass(frozen=True)
class LatencyModel:
    per_apdu_s: float = 0.0
    bit_rate: int = 848_000
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def __post_init__(self) -> None:
        if self.bit_rate not in BIT_RATES:
            raise ValueError(f"bit rate must be one of {BIT_RATES}")
        if self.per_apdu_s < 0:
            raise ValueError("per-APDU delay must not be negative")

    def delay_s(self, command_bytes: int, response_bytes: int) -> float:
        air = (command_bytes + response_bytes) * BITS_PER_BYTE / self.bit_rate
        return self.per_apdu_s + air

    def wait(self, command_bytes: int, response_bytes: int) -> None:
        self.sleep(self.delay_s(command_bytes, response_bytes))
