"""The chip reader device interface.

One small interface for every kind of contactless reader. The public methods do the shared
work (state checks, tracing of lengths and status words, timing) and call one driver hook each;
drivers (``hardware.pcsc``, ``hardware.sim.chip_reader``) implement the hooks only.

APDU bytes are never logged: they carry personal data once the chip is open.
"""

from __future__ import annotations

import abc
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from models.errors import DeviceError

log = logging.getLogger(__name__)


class ChipReaderError(DeviceError):
    """The reader failed (PC/SC service gone, reader unplugged, transmit failed)."""

    code = "chip_reader_error"


class NoCardError(ChipReaderError):
    """No card is in the field."""

    code = "chip_no_card"


class CardRemovedError(ChipReaderError):
    """The card left the field during the transaction."""

    code = "chip_card_removed"
    user_message = "The passport was moved. Please place it on the reader again."


class ReaderUnavailableError(ChipReaderError):
    """No reader matches, or the reader has gone."""

    code = "chip_reader_unavailable"


class ReaderServiceUnavailableError(ReaderUnavailableError):
    """The smart card service (pcscd) is not running or stopped."""

    code = "chip_reader_service_unavailable"


class CardEvent(Enum):
    INSERTED = "inserted"
    REMOVED = "removed"


@dataclass(frozen=True)
class ReaderLimits:
    """What the reader can carry in one exchange."""

    extended_length: bool = False
    max_command_bytes: int = 261
    max_response_bytes: int = 258


@dataclass
class ReaderStats:
    apdus: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    transmit_s: float = 0.0
    last_error: str | None = None
    status_words: dict[str, int] = field(default_factory=dict)


CardListener = Callable[[CardEvent], None]


class ChipReader(abc.ABC):
    """A contactless reader with at most one card at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connected = False
        self._listeners: list[CardListener] = []
        self.stats = ReaderStats()

    # --- public API (shared work) ------------------------------------------------------

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """The reader's name, e.g. 'Virtual PCD 00 00'."""

    @property
    def limits(self) -> ReaderLimits:
        return self._limits()

    def open(self) -> None:
        """Acquire the reader (start monitoring for cards)."""
        self._open()

    def close(self) -> None:
        """Disconnect any card and release the reader."""
        try:
            self.disconnect()
        finally:
            self._close()

    def __enter__(self) -> ChipReader:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add_listener(self, listener: CardListener) -> None:
        """Call ``listener`` (on a device thread) when a card arrives or leaves."""
        self._listeners.append(listener)

    def _emit(self, event: CardEvent) -> None:
        log.info("card %s on reader %s", event.value, self.name)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a listener's bug must not kill the monitor thread
                log.exception("card listener failed")

    def card_present(self) -> bool:
        return self._card_present()

    def wait_for_card(self, timeout_s: float) -> bool:
        """Wait until a card is in the field; True if one is."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self._card_present():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def connect(self) -> bytes:
        """Power the card up and return its ATR (or ATS-derived ATR)."""
        with self._lock:
            atr = self._connect()
            self._connected = True
            return atr

    def disconnect(self) -> None:
        with self._lock:
            if self._connected:
                self._connected = False
                self._disconnect()

    @property
    def connected(self) -> bool:
        return self._connected

    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU, return the whole response including SW1 SW2."""
        if not self._connected:
            raise NoCardError("transmit without a connected card")
        start = time.perf_counter()
        with self._lock:
            try:
                response = self._transmit(bytes(apdu))
            except ChipReaderError as exc:
                self.stats.last_error = exc.code
                if isinstance(exc, CardRemovedError | ReaderUnavailableError):
                    self._connected = False  # the driver has dropped the card handle
                raise
        elapsed = time.perf_counter() - start
        if len(response) < 2:
            self.stats.last_error = "short_response"
            raise ChipReaderError(
                f"response of {len(response)} bytes has no status word",
                code="chip_card_unresponsive",
            )
        sw = response[-2:].hex().upper()
        self.stats.apdus += 1
        self.stats.bytes_sent += len(apdu)
        self.stats.bytes_received += len(response)
        self.stats.transmit_s += elapsed
        self.stats.status_words[sw] = self.stats.status_words.get(sw, 0) + 1
        log.debug("apdu out=%dB in=%dB sw=%s %.1fms", len(apdu), len(response), sw, elapsed * 1e3)
        return response

    # --- driver hooks ------------------------------------------------------------------

    def _open(self) -> None:  # noqa: B027 - optional hook
        pass

    def _close(self) -> None:  # noqa: B027 - optional hook
        pass

    def _limits(self) -> ReaderLimits:
        return ReaderLimits()

    @abc.abstractmethod
    def _card_present(self) -> bool: ...

    @abc.abstractmethod
    def _connect(self) -> bytes: ...

    @abc.abstractmethod
    def _disconnect(self) -> None: ...

    @abc.abstractmethod
    def _transmit(self, apdu: bytes) -> bytes: ...
