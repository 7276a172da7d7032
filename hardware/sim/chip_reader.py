"""The simulated chip reader: a real ``ChipReader`` driver that talks to a card emulator in
the same process (no pcscd), selected with ``type = "simulated"``.

The card is any object with ``atr`` and ``transmit(apdu) -> response`` (the passport chip
emulator of ``hardware.sim.chip``, or a test double); ``power_on()`` and ``reset()`` are called
when it has them. ``insert()`` and ``remove()`` put it on the reader and take it away, from any
thread, so a test can pull the card in the middle of a read. An optional latency model (fixed
delay per APDU plus the air time at the configured bit rate) makes timing feel like hardware.
The reader keeps the last commands it was sent, for tests (never logged).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from hardware.chip_reader import (
    CardEvent,
    CardRemovedError,
    ChipReader,
    ChipReaderError,
    NoCardError,
    ReaderLimits,
    ReaderUnavailableError,
)
from hardware.config import SimulatedChipReaderConfig
from hardware.sim.vpcd import VirtualCard

BITS_PER_BYTE_ON_AIR = 10  # ISO/IEC 14443: 8 data bits, parity and framing overhead
EXTENDED_LIMITS = ReaderLimits(
    extended_length=True, max_command_bytes=4 + 3 + 65535 + 2, max_response_bytes=65536 + 2
)
SHORT_LIMITS = ReaderLimits(extended_length=False, max_command_bytes=261, max_response_bytes=258)


class SimulatedChipReader(ChipReader):
    """An in-process reader holding at most one emulated card."""

    def __init__(
        self,
        config: SimulatedChipReaderConfig | None = None,
        card: VirtualCard | None = None,
        *,
        history: int = 1000,
    ) -> None:
        super().__init__()
        self.config = config or SimulatedChipReaderConfig()
        self._card: VirtualCard | None = None
        self._card_lock = threading.Lock()
        self._generation = 0  # bumped on every insert/remove, to spot a card pulled mid-APDU
        self.sent: deque[bytes] = deque(maxlen=history)
        if card is not None:
            self.insert(card)

    @property
    def name(self) -> str:
        return "Simulated chip reader"

    # --- test and demo controls ---------------------------------------------------------

    def insert(self, card: VirtualCard) -> None:
        """Put ``card`` on the reader (replacing any other)."""
        with self._card_lock:
            self._card = card
            self._generation += 1
        self._emit(CardEvent.INSERTED)

    def remove(self) -> None:
        """Take the card away; a transmit in flight fails with ``CardRemovedError``."""
        with self._card_lock:
            had_card = self._card is not None
            self._card = None
            self._generation += 1
        if had_card:
            self._emit(CardEvent.REMOVED)

    def unplug(self) -> None:
        """The reader's cable is pulled: the card leaves with it and the reader reports it."""
        self.remove()
        self._set_problem("reader unplugged")

    def plug_in(self) -> None:
        """The reader is connected again."""
        self._set_problem(None)

    # --- hooks -------------------------------------------------------------------------

    def _limits(self) -> ReaderLimits:
        return EXTENDED_LIMITS if self.config.extended_length else SHORT_LIMITS

    def _card_present(self) -> bool:
        return self._card is not None

    def _connect(self) -> bytes:
        if self.reader_problem is not None:
            raise ReaderUnavailableError(f"simulated reader: {self.reader_problem}")
        card = self._card
        if card is None:
            raise NoCardError("no card on the simulated reader")
        for hook in ("power_on", "reset"):
            method = getattr(card, hook, None)
            if callable(method):
                method()
                break
        return bytes(card.atr)

    def _disconnect(self) -> None:
        card = self._card
        method = getattr(card, "power_off", None) if card is not None else None
        if callable(method):
            method()

    def _transmit(self, apdu: bytes) -> bytes:
        with self._card_lock:
            card, generation = self._card, self._generation
        if self.reader_problem is not None:
            raise ReaderUnavailableError(f"simulated reader: {self.reader_problem}")
        if card is None:
            raise CardRemovedError("the card is no longer on the simulated reader")
        max_command = self.limits.max_command_bytes
        if len(apdu) > max_command:
            raise ChipReaderError(
                f"command of {len(apdu)} bytes exceeds the reader's {max_command}",
                code="chip_command_too_long",
            )
        self.sent.append(apdu)
        response = bytes(card.transmit(apdu))
        self._wait_air_time(len(apdu) + len(response))
        if generation != self._generation:
            raise CardRemovedError("the card left the simulated reader during the APDU")
        return response

    def _wait_air_time(self, size: int) -> None:
        delay_s = self.config.apdu_delay_ms / 1000.0
        if self.config.bit_rate_kbps:
            delay_s += size * BITS_PER_BYTE_ON_AIR / (self.config.bit_rate_kbps * 1000.0)
        if delay_s > 0:
            time.sleep(delay_s)
