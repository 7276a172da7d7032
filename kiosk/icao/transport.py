"""An APDU channel over any ``transmit(bytes) -> bytes`` callable.

``kiosk.icao`` stays pure: the caller passes a device's ``transmit`` (a ``ChipReader`` from
``hardware``, the in-process emulator, a recorded trace). The channel handles 61xx (GET
RESPONSE) and 6Cxx (repeat with the right Le) and, once access control succeeded, wraps and
unwraps every command with secure messaging.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kiosk.icao.apdu import (
    SW_SM_OBJECTS_INCORRECT,
    SW_SM_OBJECTS_MISSING,
    SW_WRONG_LENGTH,
    CommandApdu,
    ResponseApdu,
)
from kiosk.icao.errors import (
    ApduFormatError,
    ChannelClosedError,
    SecureMessagingError,
    SmDataObjectsError,
    UnprotectedResponseError,
    WrongLengthError,
)
from kiosk.icao.sm import SecureMessaging

log = logging.getLogger(__name__)

Transmit = Callable[[bytes], bytes]

MAX_GET_RESPONSE_ROUNDS = 64
MAX_RESPONSE_BYTES = 65536 + 2


class ApduChannel:
    """Sends command APDUs, protecting them once secure messaging is on."""

    def __init__(
        self,
        transmit: Transmit,
        *,
        extended_length: bool = False,
        max_response_bytes: int = 258,
    ) -> None:
        self._transmit = transmit
        self.extended_length = extended_length
        self.max_response_bytes = max_response_bytes
        self.sm: SecureMessaging | None = None
        self.apdus = 0
        self.closed = False  # secure messaging ended after an error: nothing more is sent

    # --- secure messaging ---------------------------------------------------------------

    def start_secure_messaging(self, sm: SecureMessaging) -> None:
        self.sm = sm

    def end_secure_messaging(self) -> None:
        self.sm = None

    def _close(self, sm: SecureMessaging) -> None:
        sm.broken = True
        self.sm = None
        self.closed = True

    @property
    def secure(self) -> bool:
        return self.sm is not None

    # --- exchange -----------------------------------------------------------------------

    def transmit_plain(self, command: CommandApdu) -> ResponseApdu:
        """Send ``command`` as it is; follow 61xx and 6Cxx."""
        response = self._exchange(command.to_bytes())
        if response.sw1 == 0x6C and command.le is not None and not command.cla & 0x0C:
            retry = CommandApdu(
                command.cla,
                command.ins,
                command.p1,
                command.p2,
                command.data,
                le=response.sw2 or 256,
            )
            response = self._exchange(retry.to_bytes())
        data = response.data
        rounds = 0
        while response.sw1 == 0x61:
            rounds += 1
            if rounds > MAX_GET_RESPONSE_ROUNDS or len(data) > MAX_RESPONSE_BYTES:
                raise ApduFormatError("chip keeps answering 61xx")
            get_response = CommandApdu(command.cla & 0x03, 0xC0, 0, 0, le=response.sw2 or 256)
            response = self._exchange(get_response.to_bytes())
            data += response.data
        return ResponseApdu(data, response.sw) if rounds else response

    def _exchange(self, raw: bytes) -> ResponseApdu:
        self.apdus += 1
        return ResponseApdu.parse(self._transmit(raw))

    def send(self, command: CommandApdu) -> ResponseApdu:
        """Send ``command`` (protected when secure messaging is on) and return the response.

        Under secure messaging the returned response is verified and decrypted. Any
        unprotected answer (a plain status word, whatever it says) ends the session as a chip
        anomaly, and the channel stays closed: nothing ever falls back to plaintext. The one
        exception is a plain wrong-length answer (6700 / 6Cxx) to an extended-length command,
        which a chip without extended length gives before it looks at secure messaging:
        :class:`WrongLengthError` tells the caller to repeat with short APDUs, and the send
        sequence counter is wound back to where the chip still is.
        """
        if self.closed:
            raise ChannelClosedError("the secure channel was closed after a chip anomaly")
        sm = self.sm
        if sm is None:
            return self.transmit_plain(command)
        wrapped = sm.wrap(command)
        response = self.transmit_plain(wrapped)
        if response.sw in (SW_SM_OBJECTS_MISSING, SW_SM_OBJECTS_INCORRECT):
            self._close(sm)
            raise SmDataObjectsError(
                f"chip rejected secure messaging ({response.sw:04X})", sw=response.sw
            )
        if not response.data:
            wrong_length = response.sw == SW_WRONG_LENGTH or response.sw1 == 0x6C
            if wrapped.extended and wrong_length:
                sm.ssc = (sm.ssc - 1) % (1 << (8 * sm.block))
                raise WrongLengthError(
                    "the chip refused an extended-length command", sw=response.sw
                )
            self._close(sm)
            raise UnprotectedResponseError(
                f"unprotected answer {response.sw:04X} under secure messaging: chip anomaly"
            )
        try:
            return sm.unwrap(response)
        except SecureMessagingError:
            self._close(sm)
            raise

    def command(self, command: CommandApdu, context: str) -> bytes:
        """Send and require 9000; return the response data."""
        return self.send(command).check(context).data
