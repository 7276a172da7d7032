"""Block ciphers, MACs and padding used by BAC, PACE and secure messaging.

* 3DES is two-key 3DES (K1, K2, K1) in CBC mode with a zero IV unless told otherwise.
* The retail MAC is ISO/IEC 9797-1 MAC algorithm 3 with single DES in CBC mode and a final
  3DES step; callers pad first (ISO/IEC 9797-1 padding method 2, :func:`pad`).
* AES uses CBC for encryption and CMAC (NIST SP 800-38B) for MACs.
"""

from __future__ import annotations

from enum import Enum

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

from kiosk.icao.errors import SecureMessagingError

_ZERO8 = bytes(8)
_ZERO16 = bytes(16)


class CipherKind(Enum):
    """The symmetric algorithm of a session (selects block size, MAC and SSC size)."""

    TDES = "3DES"
    AES = "AES"

    @property
    def block_size(self) -> int:
        return 8 if self is CipherKind.TDES else 16


def pad(data: bytes, block_size: int) -> bytes:
    """ISO/IEC 9797-1 padding method 2: 0x80 then zeros up to the block size."""
    fill = block_size - (len(data) + 1) % block_size
    if fill == block_size:
        fill = 0
    return data + b"\x80" + bytes(fill)


def unpad(data: bytes) -> bytes:
    """Remove ISO/IEC 9797-1 padding method 2; malformed padding raises a typed error."""
    end = data.rstrip(b"\x00")
    if not end or end[-1] != 0x80 or len(data) - len(end) >= 16:
        raise SecureMessagingError("invalid padding in decrypted data")
    return end[:-1]


def _check_blocks(data: bytes, block: int) -> None:
    if len(data) % block:
        raise SecureMessagingError(f"data of {len(data)} bytes is not a multiple of {block}")


def _tdes(key: bytes) -> TripleDES:
    """3DES with a 24-byte key: two-key (K1 K2 K1) from 16 bytes, single DES from 8."""
    if len(key) == 16:
        return TripleDES(key + key[:8])
    if len(key) == 8:
        return TripleDES(key * 3)
    return TripleDES(key)


def tdes_cbc_encrypt(key: bytes, data: bytes, iv: bytes = _ZERO8) -> bytes:
    _check_blocks(data, 8)
    return Cipher(_tdes(key), modes.CBC(iv)).encryptor().update(data)


def tdes_cbc_decrypt(key: bytes, data: bytes, iv: bytes = _ZERO8) -> bytes:
    _check_blocks(data, 8)
    return Cipher(_tdes(key), modes.CBC(iv)).decryptor().update(data)


def retail_mac(key: bytes, padded: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 over already padded data; 8 bytes."""
    _check_blocks(padded, 8)
    if len(key) != 16:
        raise ValueError("retail MAC needs a 16-byte key")
    k1 = key[:8]
    chain = _ZERO8
    if len(padded) > 8:
        head = Cipher(_tdes(k1), modes.CBC(_ZERO8)).encryptor().update(padded[:-8])
        chain = head[-8:]
    last = bytes(a ^ b for a, b in zip(padded[-8:], chain, strict=True))
    return Cipher(_tdes(key), modes.ECB()).encryptor().update(last)


def aes_cbc_encrypt(key: bytes, data: bytes, iv: bytes = _ZERO16) -> bytes:
    _check_blocks(data, 16)
    return Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor().update(data)


def aes_cbc_decrypt(key: bytes, data: bytes, iv: bytes = _ZERO16) -> bytes:
    _check_blocks(data, 16)
    return Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor().update(data)


def aes_ecb_encrypt_block(key: bytes, block: bytes) -> bytes:
    return Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(block)


def aes_cmac(key: bytes, data: bytes) -> bytes:
    """Full 16-byte AES CMAC; ICAO uses the first 8 bytes."""
    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()
