"""An ICAO 9303 eMRTD chip emulator, as strict as a real chip.

Access rules: before BAC or PACE only the master file's EF.CardAccess is readable (everything
else answers 6982); a protected command with a wrong MAC answers 6988 in plain and ends secure
messaging (and access); a plain command while secure messaging is on answers 6982 and ends it;
an unknown instruction answers 6D00; READ BINARY past the end answers 6B00, and 6282 when fewer
bytes than Le remain. Random values come from the injected ``rng`` (``n -> n bytes``).
"""

from __future__ import annotations

import logging
import os

from hardware.sim.chip.authentication_card import (
    ActiveAuthenticationResponder,
    ChipAuthenticationResponder,
)
from hardware.sim.chip.bac_card import BacResponder
from hardware.sim.chip.filesystem import Answer, FileSystem, wrap_odd
from hardware.sim.chip.latency import LatencyModel
from hardware.sim.chip.pace_card import PaceResponder
from hardware.sim.chip.secure_messaging import ChipSecureMessaging
from hardware.sim.chip_image import ChipImage
from kiosk.icao.apdu import (
    SW_CLA_NOT_SUPPORTED,
    SW_FILE_NOT_FOUND,
    SW_INS_NOT_SUPPORTED,
    SW_OK,
    SW_SECURITY_STATUS,
    SW_SM_OBJECTS_INCORRECT,
    SW_SM_OBJECTS_MISSING,
    SW_WRONG_DATA,
    SW_WRONG_LENGTH,
    SW_WRONG_P1P2,
    CommandApdu,
)
from kiosk.icao.errors import ApduFormatError, SecureMessagingError
from kiosk.icao.rng import RandomBytes
from models.errors import DeviceError

log = logging.getLogger(__name__)

Reply = tuple[bytes, int, ChipSecureMessaging | None]


class ChipNotAnsweringError(DeviceError):
    """The emulated chip is unpowered, mute, or stopped answering (a defect profile)."""

    code = "chip_not_answering"


class PassportChip:
    """The card side of BAC, PACE, secure messaging, AA and CA over one ``transmit``."""

    def __init__(
        self,
        image: ChipImage,
        *,
        rng: RandomBytes = os.urandom,
        latency: LatencyModel | None = None,
    ) -> None:
        self.image = image
        self._rng = rng
        self.latency = latency
        self.files = FileSystem(image)
        self._bac = BacResponder(image.mrz_information, rng) if image.bac else None
        self._pace = PaceResponder(image, rng) if image.pace else None
        self._aa = ActiveAuthenticationResponder(image.aa_private_key, image.aa_hash_algorithm, rng)
        self._ca = ChipAuthenticationResponder(image.ca_private_keys)
        self.sm: ChipSecureMessaging | None = None
        self.access_granted = False
        self.powered = False
        self.bytes_read = 0
        self.history: list[tuple[int, int]] = []  # (INS, SW) of every command, no data

    @property
    def atr(self) -> bytes:
        return self.image.atr

    def power_on(self) -> bytes:
        if self.image.behaviour.mute:
            raise ChipNotAnsweringError("the chip does not answer")
        self.reset()
        self.powered = True
        return self.atr

    def power_off(self) -> None:
        self.reset()
        self.powered = False

    def reset(self) -> None:
        self.files.reset()
        self._drop_access()
        for responder in (self._bac, self._pace, self._ca):
            if responder is not None:
                responder.reset()

    def _drop_access(self) -> None:
        self.sm = None
        self.access_granted = False

    # --- transmit ---------------------------------------------------------------------------

    def transmit(self, apdu: bytes) -> bytes:
        if not self.powered:
            raise ChipNotAnsweringError("the chip is not powered")
        limit = self.image.behaviour.stop_after_bytes_read
        if limit is not None and self.bytes_read >= limit:
            raise ChipNotAnsweringError("the chip stopped answering")
        response = self._process(bytes(apdu))
        self.history.append(
            (apdu[1] if len(apdu) > 1 else -1, int.from_bytes(response[-2:], "big"))
        )
        if self.latency is not None:
            self.latency.wait(len(apdu), len(response))
        return response

    def _process(self, raw: bytes) -> bytes:
        try:
            command = CommandApdu.parse(raw)
        except ApduFormatError:
            return SW_WRONG_LENGTH.to_bytes(2, "big")
        if command.extended and not self.image.extended_length:
            return SW_WRONG_LENGTH.to_bytes(2, "big")
        if command.cla & ~0x1C & 0xFF:
            return SW_CLA_NOT_SUPPORTED.to_bytes(2, "big")
        protected = bool(command.cla & 0x0C)
        sm = self.sm
        if protected:
            if sm is None:
                return SW_SM_OBJECTS_MISSING.to_bytes(2, "big")
            try:
                command = sm.unwrap_command(command)
            except SecureMessagingError:
                log.info("secure messaging failed; access dropped")
                self._drop_access()
                return SW_SM_OBJECTS_INCORRECT.to_bytes(2, "big")
        elif sm is not None:
            self._drop_access()
            return SW_SECURITY_STATUS.to_bytes(2, "big")
        dropped = self._drop_secure_messaging(command, protected)
        if dropped is not None:
            return dropped
        data, sw, new_sm = self._dispatch(command)
        if protected and sm is not None:
            outer_le = 65536 if command.extended or len(raw) > 261 else 256
            if sm.wrapped_size(len(data)) > outer_le:
                data, sw = b"", SW_WRONG_LENGTH
            response = sm.wrap_response(data, sw)
        else:
            response = data + sw.to_bytes(2, "big")
        if new_sm is not None:
            self.sm = new_sm
            self.access_granted = True
        return response

    def _drop_secure_messaging(self, command: CommandApdu, protected: bool) -> bytes | None:
        """The red-team behaviour: a plain 6A82 for one file, then plaintext from there on."""
        fid = self.image.behaviour.unprotected_not_found_fid
        if fid is None or not protected or command.ins != 0xA4 or command.p1 != 0x02:
            return None
        if command.data != fid.to_bytes(2, "big"):
            return None
        self.sm = None  # access stays granted: later plain commands are answered in plain
        return SW_FILE_NOT_FOUND.to_bytes(2, "big")

    def _dispatch(self, command: CommandApdu) -> Reply:
        ins = command.ins
        if ins == 0xA4:
            data, sw = self.files.select(command)
            return data, sw, None
        if ins in (0xB0, 0xB1):
            data, sw = self._read_binary(command)
            return data, sw, None
        if ins == 0x84 and self._bac is not None:
            data, sw = self._bac.get_challenge(command)
            return data, sw, None
        if ins == 0x82 and self._bac is not None:
            return self._bac.external_authenticate(command)
        if ins == 0x22:
            return self._manage_security_environment(command)
        if ins == 0x86:
            if self.access_granted:
                return self._ca.general_authenticate(command)
            if self._pace is not None:
                return self._pace.general_authenticate(command)
        if ins == 0x88 and self._aa.available:
            if not self.access_granted:
                return b"", SW_SECURITY_STATUS, None
            data, sw = self._aa.internal_authenticate(command)
            return data, sw, None
        return b"", SW_INS_NOT_SUPPORTED, None

    def _manage_security_environment(self, command: CommandApdu) -> Reply:
        p1p2 = (command.p1 << 8) | command.p2
        if p1p2 == 0xC1A4 and self._pace is not None and not self.access_granted:
            return b"", self._pace.set_at(command), None
        if not self.access_granted:
            return b"", SW_SECURITY_STATUS, None
        if p1p2 == 0x41A4:
            return b"", self._ca.set_at(command), None
        if p1p2 == 0x41A6:
            return self._ca.set_kat(command)
        return b"", SW_WRONG_P1P2, None

    def _read_binary(self, command: CommandApdu) -> Answer:
        le = command.le or 0
        if command.ins == 0xB1:
            offset = self.files.odd_offset(command)
            if offset is None:
                return b"", SW_WRONG_DATA
        elif command.p1 & 0x80:
            if command.p1 & 0x60:
                return b"", SW_WRONG_P1P2
            if not self.files.select_sfi(command.p1 & 0x1F):
                return b"", 0x6A82
            offset = command.p2
        else:
            offset = (command.p1 << 8) | command.p2
        if not self.access_granted and not self.files.current_is_public():
            return b"", SW_SECURITY_STATUS
        if le == 0:
            return b"", SW_WRONG_LENGTH
        if command.ins == 0xB1:
            overhead = 4
            data, sw = self.files.read(offset, max(le - overhead, 1))
            self.bytes_read += len(data)
            return wrap_odd(data, sw) if sw != 0x6B00 else (b"", sw)
        data, sw = self.files.read(offset, le)
        self.bytes_read += len(data)
        return data, sw


__all__ = ["SW_OK", "ChipNotAnsweringError", "LatencyModel", "PassportChip"]
