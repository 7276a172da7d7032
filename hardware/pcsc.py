"""The PC/SC chip reader driver (pyscard over pcscd).

The reader is chosen by a case-insensitive part of its name. A thread named
``kiosk-pcsc-monitor`` follows the reader with ``SCardGetStatusChange`` on its own PC/SC
context and reports cards arriving and leaving; it survives the reader or pcscd going away
and picks them up again when they return (a reader matching the pattern, whatever its name
now). Meanwhile :attr:`~hardware.chip_reader.ChipReader.reader_problem` says what is gone, so
the lane closes naming the chip reader. Card I/O uses a second context, so the monitor
never waits for an APDU. The card is opened with ``SCARD_SHARE_EXCLUSIVE`` by default, with
T=1 (contactless T=CL chips appear as T=1 in PC/SC).

pyscard is imported when a reader is opened, so ``import hardware.pcsc`` works without it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from hardware.chip_reader import (
    CardEvent,
    CardRemovedError,
    ChipReader,
    ChipReaderError,
    NoCardError,
    ReaderLimits,
    ReaderUnavailableError,
)
from hardware.config import PcscChipReaderConfig
from hardware.pcsc_errors import (
    CARD_GONE,
    MAYBE_CARD_GONE,
    READER_GONE,
    SCARD_E_CANCELLED,
    SCARD_E_INVALID_HANDLE,
    SCARD_E_TIMEOUT,
    SCARD_S_SUCCESS,
    SERVICE_GONE,
    load_scard,
    pcsc_error,
    unsigned,
)

log = logging.getLogger(__name__)

SHORT_LIMITS = ReaderLimits(extended_length=False, max_command_bytes=261, max_response_bytes=258)
EXTENDED_COMMAND_MAX = 4 + 3 + 65535 + 2  # CLA INS P1 P2, extended Lc, data, extended Le
EXTENDED_RESPONSE_MAX = 65536 + 2
# Readers known to carry extended APDUs when they do not report SCARD_ATTR_MAXINPUT, with the
# largest message they carry (vpcd frames messages with a 2-byte length).
KNOWN_EXTENDED_READERS = {"virtual pcd": 0xFFFF}


@dataclass(frozen=True)
class ReaderInfo:
    """One PC/SC reader as pcscd sees it."""

    name: str
    card_present: bool
    atr: bytes | None = None


def _establish(scard: ModuleType) -> Any:
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != SCARD_S_SUCCESS:
        raise pcsc_error(hresult, "establish context")
    return context


def _reader_names(scard: ModuleType, context: Any) -> list[str]:
    hresult, names = scard.SCardListReaders(context, [])
    if unsigned(hresult) in READER_GONE:
        return []
    if hresult != SCARD_S_SUCCESS:
        raise pcsc_error(hresult, "list readers")
    return [str(name) for name in names]


def list_readers() -> list[ReaderInfo]:
    """Every reader pcscd knows, with whether a card is in it. Raises
    ``ReaderServiceUnavailableError`` when pcscd is not running."""
    scard = load_scard()
    context = _establish(scard)
    try:
        names = _reader_names(scard, context)
        if not names:
            return []
        hresult, states = scard.SCardGetStatusChange(
            context, 0, [(name, scard.SCARD_STATE_UNAWARE) for name in names]
        )
        if hresult != SCARD_S_SUCCESS:
            raise pcsc_error(hresult, "read reader states")
        infos = []
        for name, state, atr in states:
            present = bool(state & scard.SCARD_STATE_PRESENT)
            infos.append(ReaderInfo(str(name), present, bytes(atr) if present and atr else None))
        return infos
    finally:
        scard.SCardReleaseContext(context)


def match_reader(names: list[str], pattern: str) -> str | None:
    """The first reader whose name contains ``pattern`` (case-insensitive)."""
    wanted = pattern.casefold()
    return next((name for name in names if wanted in name.casefold()), None)


class PcscChipReader(ChipReader):
    """A contactless reader reached through pcscd."""

    def __init__(self, config: PcscChipReaderConfig | None = None) -> None:
        super().__init__()
        self.config = config or PcscChipReaderConfig()
        self._scard: ModuleType | None = None
        self._context: Any = None
        self._reader: str | None = None
        self._card: Any = None
        self._protocol = 0
        self._limits_cache = SHORT_LIMITS
        self._present = False
        self._state = threading.Condition()
        self._stop = threading.Event()
        self._monitor: threading.Thread | None = None
        self._monitor_context: Any = None

    @property
    def name(self) -> str:
        return self._reader or f"PC/SC reader matching {self.config.reader_pattern!r}"

    # --- hooks -------------------------------------------------------------------------

    def _open(self) -> None:
        if self._monitor is not None:
            return
        scard = self._scard = load_scard()
        self._context = _establish(scard)
        reader = match_reader(_reader_names(scard, self._context), self.config.reader_pattern)
        if reader is None:
            scard.SCardReleaseContext(self._context)
            self._context = None
            raise ReaderUnavailableError(f"no PC/SC reader matches {self.config.reader_pattern!r}")
        self._reader = reader
        self._stop.clear()
        self._monitor = threading.Thread(
            target=self._monitor_loop, name="kiosk-pcsc-monitor", daemon=False
        )
        self._monitor.start()
        log.info("PC/SC reader %s opened", reader)

    def _close(self) -> None:
        self._stop.set()
        monitor, self._monitor = self._monitor, None
        if monitor is not None:
            context = self._monitor_context
            if context is not None and self._scard is not None:
                self._scard.SCardCancel(context)
            monitor.join(5.0)
        if self._context is not None and self._scard is not None:
            self._scard.SCardReleaseContext(self._context)
        self._context = None

    def _limits(self) -> ReaderLimits:
        return self._limits_cache

    def _card_present(self) -> bool:
        return self._present

    def _connect(self) -> bytes:
        scard = self._require_open()
        self._release_card()
        share = scard.SCARD_SHARE_EXCLUSIVE if self.config.exclusive else scard.SCARD_SHARE_SHARED
        protocols = 0
        for protocol in self.config.protocols:
            protocols |= scard.SCARD_PROTOCOL_T1 if protocol == "T1" else scard.SCARD_PROTOCOL_T0
        hresult, card, active = scard.SCardConnect(self._context, self._reader, share, protocols)
        if unsigned(hresult) in SERVICE_GONE | {SCARD_E_INVALID_HANDLE}:
            # pcscd was restarted since open(): our context died with the old one.
            scard.SCardReleaseContext(self._context)
            self._context = _establish(scard)
            hresult, card, active = scard.SCardConnect(
                self._context, self._reader, share, protocols
            )
        if hresult != SCARD_S_SUCCESS:
            raise self._failure(hresult, "connect")
        self._card, self._protocol = card, int(active)
        hresult, _reader, _state, _protocol, atr = scard.SCardStatus(card)
        if hresult != SCARD_S_SUCCESS:
            self._release_card()
            raise self._failure(hresult, "read ATR")
        self._limits_cache = self._detect_limits(scard, card)
        log.info("card connected on %s (T=%d)", self._reader, 1 if active == 2 else 0)
        return bytes(atr)

    def _disconnect(self) -> None:
        self._release_card()

    def _transmit(self, apdu: bytes) -> bytes:
        scard = self._require_open()
        if self._card is None:
            raise NoCardError("no card handle")
        hresult, response = scard.SCardTransmit(self._card, self._protocol, list(apdu))
        if hresult != SCARD_S_SUCCESS:
            error = self._failure(hresult, "transmit")
            if isinstance(error, CardRemovedError | ReaderUnavailableError):
                self._release_card()
            raise error
        # vpcd and some readers answer nothing at all when the card goes
        if len(response) < 2 and self._card_left(self.config.removal_grace_s):
            self._release_card()
            raise CardRemovedError("card left the field during transmit (empty answer)")
        return bytes(response)

    # --- internals ---------------------------------------------------------------------

    def _require_open(self) -> ModuleType:
        if self._scard is None or self._context is None:
            raise ChipReaderError("the PC/SC reader is not open")
        return self._scard

    def _release_card(self) -> None:
        card, self._card = self._card, None
        if card is not None and self._scard is not None:
            hresult = self._scard.SCardDisconnect(card, self._scard.SCARD_UNPOWER_CARD)
            if hresult != SCARD_S_SUCCESS:
                log.debug("SCardDisconnect: 0x%08X", unsigned(hresult))

    def _failure(self, hresult: int, action: str) -> ChipReaderError:
        """Map a failed call; a transmit that fails the way a pulled card makes it fail is
        checked against pcscd's view of the reader for up to ``removal_grace_s``."""
        code = unsigned(hresult)
        if (
            action == "transmit"
            and code in MAYBE_CARD_GONE
            and self._card_left(self.config.removal_grace_s)
        ):
            return CardRemovedError(f"card left the field during transmit (0x{code:08X})")
        return pcsc_error(code, action)

    def _card_left(self, timeout_s: float) -> bool:
        """Whether the monitor sees the card gone within ``timeout_s`` (pcscd polls vpcd and
        some readers only a few times a second)."""
        with self._state:
            return self._state.wait_for(lambda: not self._present, timeout=timeout_s)

    def _detect_limits(self, scard: ModuleType, card: Any) -> ReaderLimits:
        max_input = 0
        hresult, value = scard.SCardGetAttrib(card, scard.SCARD_ATTR_MAXINPUT)
        if hresult == SCARD_S_SUCCESS and value:
            max_input = int.from_bytes(bytes(value[:4]), "little")
        if max_input == 0:
            reader = (self._reader or "").casefold()
            max_input = next((m for k, m in KNOWN_EXTENDED_READERS.items() if k in reader), 0)
        detected = max_input > SHORT_LIMITS.max_command_bytes
        extended = detected if self.config.extended_length is None else self.config.extended_length
        if not extended:
            return SHORT_LIMITS
        if max_input <= SHORT_LIMITS.max_command_bytes:
            max_input = EXTENDED_COMMAND_MAX  # configured on, reader silent about its size
        return ReaderLimits(
            extended_length=True,
            max_command_bytes=min(max_input, EXTENDED_COMMAND_MAX),
            max_response_bytes=min(max_input, EXTENDED_RESPONSE_MAX),
        )

    def _set_present(self, present: bool) -> None:
        with self._state:
            changed = present != self._present
            self._present = present
            self._state.notify_all()
        if changed:
            self._emit(CardEvent.INSERTED if present else CardEvent.REMOVED)

    def _monitor_loop(self) -> None:
        scard = self._scard
        assert scard is not None
        while not self._stop.is_set():
            try:
                self._monitor_context = _establish(scard)
            except ChipReaderError:
                self._set_present(False)
                self._set_problem("PC/SC service (pcscd) not running")
                self._stop.wait(self.config.poll_interval_s)
                continue
            try:
                if self._find_reader(scard, self._monitor_context):
                    self._follow_reader(scard, self._monitor_context)
                else:
                    self._stop.wait(self.config.poll_interval_s)
            finally:
                context, self._monitor_context = self._monitor_context, None
                scard.SCardReleaseContext(context)

    def _find_reader(self, scard: ModuleType, context: Any) -> bool:
        """Whether a reader matching the pattern is there (it may come back under another
        name: a replacement unit, another USB port); reports its absence as the problem."""
        try:
            names = _reader_names(scard, context)
        except ChipReaderError as exc:
            self._set_present(False)
            self._set_problem(f"PC/SC service lost ({exc.code})")
            return False
        reader = match_reader(names, self.config.reader_pattern)
        if reader is None:
            self._set_present(False)
            self._set_problem(f"reader gone: none matches {self.config.reader_pattern!r}")
            return False
        self._reader = reader
        return True

    def _follow_reader(self, scard: ModuleType, context: Any) -> None:
        """Follow the reader until it or pcscd goes away, or close() is called."""
        timeout_ms = int(self.config.poll_interval_s * 1000)
        state = scard.SCARD_STATE_UNAWARE
        while not self._stop.is_set():
            hresult, states = scard.SCardGetStatusChange(
                context, timeout_ms, [(self._reader, state)]
            )
            code = unsigned(hresult)
            if code in (SCARD_E_TIMEOUT, SCARD_E_CANCELLED):
                continue
            if code in SERVICE_GONE or code in READER_GONE or code in CARD_GONE:
                self._set_present(False)
                if code in SERVICE_GONE:
                    self._set_problem("PC/SC service (pcscd) stopped")
                elif code in READER_GONE:
                    self._set_problem(f"reader gone: {self._reader} left pcscd")
                self._stop.wait(self.config.poll_interval_s)
                return
            if code != SCARD_S_SUCCESS:  # pcscd died under us (comm error) or worse
                log.warning("SCardGetStatusChange: 0x%08X", code)
                self._set_present(False)
                self._set_problem(f"PC/SC service lost (0x{code:08X})")
                self._stop.wait(self.config.poll_interval_s)
                return
            _name, event_state, _atr = states[0]
            state = event_state & ~scard.SCARD_STATE_CHANGED
            if event_state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
                self._set_present(False)  # reader unplugged: wait, then look for it again
                self._set_problem(f"reader gone: {self._reader} unplugged")
                self._stop.wait(self.config.poll_interval_s)
                return
            self._set_problem(None)  # pcscd answers for the reader: it serves
            present = bool(event_state & scard.SCARD_STATE_PRESENT) and not bool(
                event_state & scard.SCARD_STATE_MUTE
            )
            self._set_present(present)
