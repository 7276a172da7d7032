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

from hardware.executor import DeviceBound
from models.errors import DeviceError

log = logging.getLogger(__name__)


class ChipReaderError(DeviceError):
    """The reader failed (PC/SC service gone, reader unplugged, transmit failed)."""

    code = "chip_reader_error"


class NoCardError(ChipReaderError):
    """No card is in the field."""

    code = "chip_no_card"


class CardUnresponsiveError(ChipReaderError):
    """The card is in the field but does not answer properly (a chip problem, not a reader's)."""

    code = "chip_card_unresponsive"


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
# Told the reader's new problem (None: the reader serves again) when it changes.
ReaderHealthListener = Callable[[str | None], None]


class ChipReader(DeviceBound, abc.ABC):
    """A contactless reader with at most one card at a time.

    Bound to a device executor (:mod:`hardware.executor`), every public call checks that it
    runs on that executor's thread for a job that was not cancelled: a cancelled chip read
    stops before its next APDU.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connected = False
        self._listeners: list[CardListener] = []
        self._health_listeners: list[ReaderHealthListener] = []
        self._problem: str | None = None
        self.stats = ReaderStats()

    # --- public API (shared work) ------------------------------------------------------

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """The reader's name, e.g. 'Virtual PCD 00 00'."""

    @property
    def limits(self) -> ReaderLimits:
        self._device_call("limits")
        return self._limits()

    def open(self) -> None:
        """Acquire the reader (start monitoring for cards)."""
        self._device_call("open")
        self._open()

    def close(self) -> None:
        """Disconnect any card and release the reader."""
        self._device_call("close")
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

    @property
    def reader_problem(self) -> str | None:
        """Why the reader cannot serve right now (unplugged, its service gone), or None.

        Any thread may ask: it is what the driver's own monitoring last saw, and it touches no
        device (like a gate's state). The lane supervisor puts the lane out of service on it.
        """
        return self._problem

    def add_health_listener(self, listener: ReaderHealthListener) -> None:
        """Call ``listener`` (on the driver's monitoring thread) when :attr:`reader_problem`
        changes."""
        self._health_listeners.append(listener)

    def _set_problem(self, problem: str | None) -> None:
        """Drivers report the reader going away (a text naming why) or coming back (None)."""
        if problem == self._problem:
            return
        self._problem = problem
        if problem is None:
            log.info("reader %s serves again", self.name)
        else:
            log.warning("reader %s unusable: %s", self.name, problem)
        for listener in list(self._health_listeners):
            try:
                listener(problem)
            except Exception:  # a listener's bug must not kill the monitor thread
                log.exception("reader health listener failed")

    def card_present(self) -> bool:
        self._device_call("card_present")
        return self._card_present()

    def wait_for_card(self, timeout_s: float) -> bool:
        """Wait until a card is in the field; True if one is."""
        self._device_call("wait_for_card")
        deadline = time.monotonic() + timeout_s
        while True:
            if self._card_present():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def connect(self) -> bytes:
        """Power the card up and return its ATR (or ATS-derived ATR)."""
        self._device_call("connect")
        with self._lock:
            atr = self._connect()
            self._connected = True
            return atr

    def disconnect(self) -> None:
        # No cancel check: letting go of a card is always allowed, on the device thread.
        if self._executor is not None and not self._executor.on_thread():
            self._device_call("disconnect")
        with self._lock:
            if self._connected:
                self._connected = False
                self._disconnect()

    @property
    def connected(self) -> bool:
        return self._connected

    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU, return the whole response including SW1 SW2."""
        self._device_call("transmit")  # between APDUs: the read stops here once cancelled
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
            raise CardUnresponsiveError(f"response of {len(response)} bytes has no status word")
        sw = response[-2:].hex().upper()
        self.stats.apdus += 1
        self.stats.bytes_sent += len(apdu)
        self.stats.bytes_received += len(response)
        self.stats.transmit_s += elapsed
        self.stats.status_words[sw] = self.stats.status_words.get(sw, 0) + 1
        log.debug("apdu out=%dB in=%dB sw=%s %.1fms", len(apdu), len(response), sw, elapsed * 1e3)
        return response

    # --- driver hooks ------------------------------------------------------------------

    def _open(self) -> None:
        pass

    def _close(self) -> None:
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
