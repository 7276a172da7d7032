"""Symmetric cryptography of ICAO 9303 Part 11: key derivation, ciphers, MACs, padding."""

from kiosk.icao.crypto.kdf import (
    KDF_ENC,
    KDF_MAC,
    KDF_PACE,
    adjust_des_parity,
    derive_key,
)
from kiosk.icao.crypto.primitives import (
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

__all__ = [
    "KDF_ENC",
    "KDF_MAC",
    "KDF_PACE",
    "CipherKind",
    "adjust_des_parity",
    "aes_cbc_decrypt",
    "aes_cbc_encrypt",
    "aes_cmac",
    "aes_ecb_encrypt_block",
    "derive_key",
    "pad",
    "retail_mac",
    "tdes_cbc_decrypt",
    "tdes_cbc_encrypt",
    "unpad",
]
