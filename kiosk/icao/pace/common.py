"""PACE steps shared by the reader and the chip (ICAO 9303 Part 11 section 4.4)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum

from kiosk.icao import tlv
from kiosk.icao.crypto import (
    KDF_ENC,
    KDF_MAC,
    KDF_PACE,
    CipherKind,
    aes_cbc_decrypt,
    aes_cbc_encrypt,
    aes_cmac,
    derive_key,
    pad,
    retail_mac,
    tdes_cbc_decrypt,
    tdes_cbc_encrypt,
)
from kiosk.icao.errors import AuthenticationError, TlvError
from kiosk.icao.pace.groups import Group
from kiosk.icao.pace.oids import ProtocolSuite, oid_contents, oid_der

TAG_DYNAMIC_AUTH = 0x7C
TAG_PUBLIC_KEY_TEMPLATE = 0x7F49
NONCE_LENGTH = 16


class PasswordKind(Enum):
    """Password reference of MSE:Set AT (tag 83)."""

    MRZ = 1
    CAN = 2


@dataclass(frozen=True)
class PacePassword:
    kind: PasswordKind
    value: str

    @classmethod
    def from_mrz_information(cls, mrz_info: str) -> PacePassword:
        return cls(PasswordKind.MRZ, mrz_info)

    @classmethod
    def from_can(cls, can: str) -> PacePassword:
        if not can.isdigit() or not 1 <= len(can) <= 10:
            raise ValueError("a CAN is a short string of digits")
        return cls(PasswordKind.CAN, can)

    def key_material(self) -> bytes:
        """K: SHA-1 of the MRZ information, or the CAN itself."""
        if self.kind is PasswordKind.MRZ:
            return hashlib.sha1(self.value.encode("ascii")).digest()
        return self.value.encode("ascii")

    def __repr__(self) -> str:  # never show the secret
        return f"PacePassword({self.kind.name})"


def password_key(password: PacePassword, suite: ProtocolSuite) -> bytes:
    """Kpi = KDF(K, 3)."""
    return derive_key(password.key_material(), KDF_PACE, suite.cipher, suite.key_length)


def session_keys(shared_secret: bytes, suite: ProtocolSuite) -> tuple[bytes, bytes]:
    return (
        derive_key(shared_secret, KDF_ENC, suite.cipher, suite.key_length),
        derive_key(shared_secret, KDF_MAC, suite.cipher, suite.key_length),
    )


def encrypt_nonce(kpi: bytes, suite: ProtocolSuite, nonce: bytes) -> bytes:
    if suite.cipher is CipherKind.TDES:
        return tdes_cbc_encrypt(kpi, nonce)
    return aes_cbc_encrypt(kpi, nonce)


def decrypt_nonce(kpi: bytes, suite: ProtocolSuite, encrypted: bytes) -> bytes:
    block = suite.cipher.block_size
    if not encrypted or len(encrypted) % block or len(encrypted) > 64:
        raise AuthenticationError("encrypted nonce has a wrong length")
    if suite.cipher is CipherKind.TDES:
        return tdes_cbc_decrypt(kpi, encrypted)
    return aes_cbc_decrypt(kpi, encrypted)


def token_input(oid: str, group: Group, public_key: bytes) -> bytes:
    """Public key data object 7F49 {06 OID, 84|86 key} (domain parameters omitted)."""
    return tlv.encode(
        TAG_PUBLIC_KEY_TEMPLATE, oid_der(oid) + tlv.encode(group.tag_public_key, public_key)
    )


def authentication_token(
    ks_mac: bytes, suite: ProtocolSuite, group: Group, public_key: bytes
) -> bytes:
    """T = MAC(KSmac, 7F49 over the other party's ephemeral public key), 8 bytes."""
    data = token_input(suite.oid, group, public_key)
    if suite.cipher is CipherKind.TDES:
        return retail_mac(ks_mac, pad(data, 8))
    return aes_cmac(ks_mac, data)[:8]


def dynamic_data(tag: int, value: bytes) -> bytes:
    """General Authenticate data: 7C { tag value } (empty ``value`` and tag 0 -> 7C 00)."""
    if tag == 0:
        return tlv.encode(TAG_DYNAMIC_AUTH, b"")
    return tlv.encode(TAG_DYNAMIC_AUTH, tlv.encode(tag, value))


def parse_dynamic_data(data: bytes, tag: int) -> bytes:
    """The value of ``tag`` inside a 7C template; typed error when absent or malformed."""
    try:
        items = tlv.decode_one(data, TAG_DYNAMIC_AUTH).children()
        return tlv.require(items, tag)
    except TlvError as exc:
        raise AuthenticationError(f"General Authenticate data malformed: {exc}") from exc


def mse_set_at_data(oid: str, password: PasswordKind, parameter_id: int | None) -> bytes:
    data = tlv.encode(0x80, oid_contents(oid)) + tlv.encode(0x83, bytes([password.value]))
    if parameter_id is not None:
        data += tlv.encode(0x84, bytes([parameter_id]))
    return data
