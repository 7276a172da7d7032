"""Key derivation function of ICAO 9303 Part 11 section 9.7.1.

``KDF(K, c) = H(K || c)`` with ``c`` a 32-bit big-endian counter (1 = encryption, 2 = MAC,
3 = PACE password key). SHA-1 serves 3DES and AES-128, SHA-256 serves AES-192 and AES-256.
3DES keys are two-key (16 bytes) with DES parity bits adjusted.
"""

from __future__ import annotations

import hashlib

from kiosk.icao.crypto.primitives import CipherKind

KDF_ENC = 1
KDF_MAC = 2
KDF_PACE = 3


def adjust_des_parity(key: bytes) -> bytes:
    """Set the least significant bit of each byte so that every byte has odd parity."""
    out = bytearray(key)
    for i, byte in enumerate(out):
        high = byte & 0xFE
        out[i] = high | ((bin(high).count("1") + 1) & 1)
    return bytes(out)


def derive_key(shared: bytes, counter: int, kind: CipherKind, key_length: int = 16) -> bytes:
    """Derive one session key of ``key_length`` bytes (16 for 3DES; 16, 24 or 32 for AES)."""
    data = shared + counter.to_bytes(4, "big")
    if kind is CipherKind.TDES:
        if key_length != 16:
            raise ValueError("3DES keys are 16 bytes")
        return adjust_des_parity(hashlib.sha1(data).digest()[:16])
    if key_length == 16:
        return hashlib.sha1(data).digest()[:16]
    if key_length in (24, 32):
        return hashlib.sha256(data).digest()[:key_length]
    raise ValueError(f"unsupported AES key length {key_length}")
