"""Secure messaging, chip side: verify and decrypt commands, protect responses."""

from __future__ import annotations

from kiosk.icao import tlv
from kiosk.icao.apdu import CommandApdu
from kiosk.icao.crypto import CipherKind, pad
from kiosk.icao.errors import SecureMessagingError, TlvError
from kiosk.icao.sm import TAG_ENC, TAG_ENC_ODD, TAG_LE, TAG_MAC, TAG_SW, SmSession


class ChipSecureMessaging(SmSession):
    """The card's half of a secure messaging session."""

    def __init__(self, kind: CipherKind, ks_enc: bytes, ks_mac: bytes, ssc: int = 0) -> None:
        super().__init__(kind, ks_enc, ks_mac, ssc)
        self.ins = 0

    def unwrap_command(self, command: CommandApdu) -> CommandApdu:
        """Return the plain command; raises :class:`SecureMessagingError` on any defect."""
        self._check_usable()
        ssc = self.next_ssc()
        try:
            items = tlv.decode_all(command.data)
        except TlvError as exc:
            raise self.fail(f"malformed protected command: {exc}") from exc
        if not items or items[-1].tag != TAG_MAC or len(items[-1].value) != 8:
            raise self.fail("protected command without DO'8E'")
        covered = items[:-1]
        if any(item.tag not in (TAG_ENC, TAG_ENC_ODD, TAG_LE) for item in covered):
            raise self.fail("unexpected data object in protected command")
        header = bytes((command.cla, command.ins, command.p1, command.p2))
        mac_input = pad(header, self.block) + b"".join(item.encode() for item in covered)
        self.verify_mac(ssc, mac_input, items[-1].value)
        data = b""
        le: int | None = None
        extended = False
        for item in covered:
            if item.tag in (TAG_ENC, TAG_ENC_ODD):
                data = self.decrypt_object(ssc, item)
            else:
                if len(item.value) > 2:
                    raise self.fail("DO'97' longer than two bytes")
                extended = len(item.value) == 2
                maximum = 65536 if extended else 256
                le = int.from_bytes(item.value, "big") or maximum
        self.ins = command.ins
        return CommandApdu(
            command.cla & ~0x0C & 0xFF,
            command.ins,
            command.p1,
            command.p2,
            data,
            le=le,
            force_extended=extended,
        )

    def wrap_response(self, data: bytes, sw: int) -> bytes:
        self._check_usable()
        ssc = self.next_ssc()
        body = self.encrypted_object(ssc, self.ins, data) + tlv.encode(
            TAG_SW, sw.to_bytes(2, "big")
        )
        return body + tlv.encode(TAG_MAC, self.mac(ssc, body)) + sw.to_bytes(2, "big")

    def wrapped_size(self, plain_length: int) -> int:
        """Size of a protected response carrying ``plain_length`` bytes."""
        size = 4 + 10
        if plain_length:
            encrypted = (plain_length // self.block + 1) * self.block + 1
            size += 1 + len(tlv.encode_length(encrypted)) + encrypted
        return size


__all__ = ["ChipSecureMessaging", "SecureMessagingError"]
