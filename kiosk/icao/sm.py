"""Secure messaging of ICAO 9303 Part 11 section 9.8 (3DES and AES).

Data objects: DO'87' (encrypted data with padding-content indicator 01; DO'85' without it,
for odd instructions), DO'97' (protected Le), DO'99' (protected status word), DO'8E' (MAC).
The send sequence counter is incremented before each command and each response.

* 3DES: 2-key 3DES CBC with a zero IV, retail MAC over ``pad(SSC || data)``.
* AES: CBC with ``IV = E(KSenc, SSC)``, CMAC over ``SSC || pad(data)`` truncated to 8 bytes.

A response whose MAC or structure is wrong raises :class:`SecureMessagingError`, and the
session refuses every further use: no unauthenticated byte is ever returned.
"""

from __future__ import annotations

import hmac

from kiosk.icao import tlv
from kiosk.icao.apdu import CommandApdu, ResponseApdu
from kiosk.icao.crypto import (
    CipherKind,
    aes_cbc_decrypt,
    aes_cbc_encrypt,
    aes_cmac,
    aes_ecb_encrypt_block,
    pad,
    retail_mac,
    tdes_cbc_decrypt,
    tdes_cbc_encrypt,
    unpad,
)
from kiosk.icao.errors import SecureMessagingError, TlvError

SM_CLA_BITS = 0x0C
TAG_ENC_ODD = 0x85
TAG_ENC = 0x87
TAG_LE = 0x97
TAG_SW = 0x99
TAG_MAC = 0x8E
MAC_LENGTH = 8


class SmSession:
    """Keys, send sequence counter and the cryptographic steps common to both sides."""

    def __init__(self, kind: CipherKind, ks_enc: bytes, ks_mac: bytes, ssc: int = 0) -> None:
        self.kind = kind
        self.ks_enc = bytes(ks_enc)
        self.ks_mac = bytes(ks_mac)
        self.block = kind.block_size
        self.ssc = ssc
        self._modulus = 1 << (8 * self.block)
        self.broken = False

    def _check_usable(self) -> None:
        if self.broken:
            raise SecureMessagingError("secure messaging session is closed after an error")

    def fail(self, message: str) -> SecureMessagingError:
        """Close the session and return the error to raise."""
        self.broken = True
        return SecureMessagingError(message)

    def next_ssc(self) -> bytes:
        self.ssc = (self.ssc + 1) % self._modulus
        return self.ssc.to_bytes(self.block, "big")

    def mac(self, ssc: bytes, data: bytes) -> bytes:
        """MAC over ``SSC || data`` (data not yet padded)."""
        if self.kind is CipherKind.TDES:
            return retail_mac(self.ks_mac, pad(ssc + data, 8))
        return aes_cmac(self.ks_mac, ssc + pad(data, 16))[:MAC_LENGTH]

    def encrypt(self, ssc: bytes, plain: bytes) -> bytes:
        padded = pad(plain, self.block)
        if self.kind is CipherKind.TDES:
            return tdes_cbc_encrypt(self.ks_enc, padded)
        return aes_cbc_encrypt(self.ks_enc, padded, aes_ecb_encrypt_block(self.ks_enc, ssc))

    def decrypt(self, ssc: bytes, cipher: bytes) -> bytes:
        if not cipher or len(cipher) % self.block:
            raise self.fail("encrypted data object has a wrong length")
        if self.kind is CipherKind.TDES:
            padded = tdes_cbc_decrypt(self.ks_enc, cipher)
        else:
            padded = aes_cbc_decrypt(self.ks_enc, cipher, aes_ecb_encrypt_block(self.ks_enc, ssc))
        try:
            return unpad(padded)
        except SecureMessagingError as exc:
            self.broken = True
            raise exc

    def verify_mac(self, ssc: bytes, data: bytes, received: bytes) -> None:
        if not hmac.compare_digest(self.mac(ssc, data), received):
            raise self.fail("MAC of the secure messaging object is wrong")

    def encrypted_object(self, ssc: bytes, ins: int, plain: bytes) -> bytes:
        """DO'87' (even INS) or DO'85' (odd INS) for ``plain`` (empty -> no object)."""
        if not plain:
            return b""
        encrypted = self.encrypt(ssc, plain)
        if ins & 1:
            return tlv.encode(TAG_ENC_ODD, encrypted)
        return tlv.encode(TAG_ENC, b"\x01" + encrypted)

    def decrypt_object(self, ssc: bytes, item: tlv.Tlv) -> bytes:
        if item.tag == TAG_ENC:
            if not item.value or item.value[0] != 0x01:
                raise self.fail("DO'87' without padding-content indicator 01")
            return self.decrypt(ssc, item.value[1:])
        return self.decrypt(ssc, item.value)


class SecureMessaging(SmSession):
    """Reader side: protect commands, verify and decrypt responses."""

    def wrap(self, command: CommandApdu) -> CommandApdu:
        self._check_usable()
        if command.cla & SM_CLA_BITS:
            raise ValueError("command is already protected")
        ssc = self.next_ssc()
        cla = command.cla | SM_CLA_BITS
        header = bytes((cla, command.ins, command.p1, command.p2))
        body = self.encrypted_object(ssc, command.ins, command.data)
        if command.le is not None:
            if command.extended:
                le_bytes = (command.le % 65536).to_bytes(2, "big")
            else:
                le_bytes = bytes([command.le % 256])
            body += tlv.encode(TAG_LE, le_bytes)
        mac = self.mac(ssc, pad(header, self.block) + body)
        data = body + tlv.encode(TAG_MAC, mac)
        extended = command.extended or len(data) > 255
        return CommandApdu(
            cla,
            command.ins,
            command.p1,
            command.p2,
            data,
            le=65536 if extended else 256,
            force_extended=extended,
        )

    def unwrap(self, response: ResponseApdu) -> ResponseApdu:
        """Verify and decrypt a protected response; any defect closes the session."""
        self._check_usable()
        ssc = self.next_ssc()
        try:
            items = tlv.decode_all(response.data)
        except TlvError as exc:
            raise self.fail(f"malformed secure messaging response: {exc}") from exc
        if not items:
            raise self.fail(f"unprotected response with status word {response.sw:04X}")
        if items[-1].tag != TAG_MAC or len(items[-1].value) != MAC_LENGTH:
            raise self.fail("response has no DO'8E' of 8 bytes at the end")
        covered = items[:-1]
        tags = [item.tag for item in covered]
        if TAG_SW not in tags or any(t not in (TAG_ENC, TAG_ENC_ODD, TAG_SW) for t in tags):
            raise self.fail("response objects are not DO'87'/'85', DO'99', DO'8E'")
        if len(tags) != len(set(tags)) or (TAG_ENC in tags and TAG_ENC_ODD in tags):
            raise self.fail("duplicated secure messaging objects")
        mac_input = b"".join(item.encode() for item in covered)
        self.verify_mac(ssc, mac_input, items[-1].value)
        sw_value = tlv.require(covered, TAG_SW)
        if len(sw_value) != 2:
            raise self.fail("DO'99' is not two bytes")
        data = b""
        for item in covered:
            if item.tag in (TAG_ENC, TAG_ENC_ODD):
                data = self.decrypt_object(ssc, item)
        return ResponseApdu(data, int.from_bytes(sw_value, "big"))
