"""PC/SC plumbing shared by the PC/SC driver and the reader listing: the pyscard import and
the mapping of PC/SC return codes to the typed errors of :mod:`hardware.chip_reader`."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from hardware.chip_reader import (
    CardRemovedError,
    CardUnresponsiveError,
    ChipReaderError,
    NoCardError,
    ReaderServiceUnavailableError,
    ReaderUnavailableError,
)
from models.errors import DeviceNotAvailableError

# PC/SC return codes (winscard), as unsigned 32-bit values.
SCARD_S_SUCCESS = 0
SCARD_E_CANCELLED = 0x80100002
SCARD_E_INVALID_HANDLE = 0x80100003
SCARD_E_UNKNOWN_READER = 0x80100009
SCARD_E_TIMEOUT = 0x8010000A
SCARD_E_SHARING_VIOLATION = 0x8010000B
SCARD_E_NO_SMARTCARD = 0x8010000C
SCARD_E_PROTO_MISMATCH = 0x8010000F
SCARD_E_NOT_TRANSACTED = 0x80100016
SCARD_E_READER_UNAVAILABLE = 0x80100017
SCARD_E_NO_SERVICE = 0x8010001D
SCARD_E_SERVICE_STOPPED = 0x8010001E
SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
SCARD_F_COMM_ERROR = 0x80100013
SCARD_W_UNRESPONSIVE_CARD = 0x80100066
SCARD_W_UNPOWERED_CARD = 0x80100067
SCARD_W_RESET_CARD = 0x80100068
SCARD_W_REMOVED_CARD = 0x80100069

SERVICE_GONE = {SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED}
READER_GONE = {SCARD_E_UNKNOWN_READER, SCARD_E_READER_UNAVAILABLE, SCARD_E_NO_READERS_AVAILABLE}
CARD_GONE = {SCARD_W_REMOVED_CARD, SCARD_E_NO_SMARTCARD}
# A transmit failed in a way that a card leaving the field also causes: ask pcscd afterwards.
MAYBE_CARD_GONE = {
    SCARD_E_NOT_TRANSACTED,
    SCARD_F_COMM_ERROR,
    SCARD_W_RESET_CARD,
    SCARD_W_UNRESPONSIVE_CARD,
    SCARD_W_UNPOWERED_CARD,
    SCARD_E_INVALID_HANDLE,
}


def load_scard() -> ModuleType:
    """pyscard's low-level ``smartcard.scard`` module, or a clear error naming the package."""
    try:
        from smartcard import scard
    except ImportError as exc:
        raise DeviceNotAvailableError(
            "the PC/SC chip reader needs the Python package 'pyscard' "
            "(and the PC/SC client library libpcsclite1)",
            code="pyscard_missing",
        ) from exc
    module: ModuleType = scard
    return module


def unsigned(hresult: Any) -> int:
    return int(hresult) & 0xFFFFFFFF


def describe(hresult: int) -> str:
    try:
        text = str(load_scard().SCardGetErrorMessage(hresult)).strip()
    except Exception:  # the message is a courtesy; the code is what matters
        text = ""
    return f"0x{unsigned(hresult):08X} {text}".strip()


def pcsc_error(hresult: int, action: str) -> ChipReaderError:
    """The typed error for a failed PC/SC call ``action`` (e.g. "connect")."""
    code = unsigned(hresult)
    message = f"PC/SC {action} failed: {describe(code)}"
    if code in SERVICE_GONE:
        return ReaderServiceUnavailableError(
            f"{message} (is pcscd running? see 'kiosk chip readers')"
        )
    if code in READER_GONE:
        return ReaderUnavailableError(message)
    if code in CARD_GONE:
        return CardRemovedError(message) if action == "transmit" else NoCardError(message)
    if code == SCARD_E_SHARING_VIOLATION:
        return ChipReaderError(
            f"{message} (another application holds the card)", code="chip_reader_busy"
        )
    if code in (SCARD_W_UNRESPONSIVE_CARD, SCARD_W_UNPOWERED_CARD, SCARD_E_PROTO_MISMATCH):
        return CardUnresponsiveError(message)
    if code == SCARD_E_TIMEOUT:
        return ChipReaderError(message, code="chip_reader_timeout")
    return ChipReaderError(message)
