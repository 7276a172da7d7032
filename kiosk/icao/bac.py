"""Basic Access Control, reader side (ICAO 9303 Part 11 section 4.3).

The key seed is the first 16 bytes of SHA-1 over the 'MRZ information' (document number, date
of birth and date of expiry, each followed by its check digit).
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from kiosk.icao.apdu import CommandApdu
from kiosk.icao.crypto import (
    KDF_ENC,
    KDF_MAC,
    CipherKind,
    derive_key,
    pad,
    retail_mac,
    tdes_cbc_decrypt,
    tdes_cbc_encrypt,
)
from kiosk.icao.errors import AccessDeniedError, ApduError, AuthenticationError
from kiosk.icao.rng import RandomBytes, system_random
from kiosk.icao.sm import SecureMessaging
from kiosk.icao.transport import ApduChannel

log = logging.getLogger(__name__)

_WEIGHTS = (7, 3, 1)


def _char_value(char: str) -> int:
    if char.isdigit():
        return ord(char) - 48
    if "A" <= char <= "Z":
        return ord(char) - 55
    if char == "<":
        return 0
    raise ValueError("MRZ field holds a character outside 0-9, A-Z and '<'")


def check_digit(field: str) -> str:
    """ICAO 9303 Part 3 check digit (weights 7, 3, 1)."""
    return str(sum(_char_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(field)) % 10)


def mrz_information(document_number: str, date_of_birth: str, date_of_expiry: str) -> str:
    """Build the MRZ information string from the document number and the YYMMDD dates."""
    number = document_number.upper().ljust(9, "<")
    for date in (date_of_birth, date_of_expiry):
        if len(date) != 6 or not date.isdigit():
            raise ValueError("dates must be YYMMDD")
    return (
        number
        + check_digit(number)
        + date_of_birth
        + check_digit(date_of_birth)
        + date_of_expiry
        + check_digit(date_of_expiry)
    )


def bac_key_seed(mrz_info: str) -> bytes:
    return hashlib.sha1(mrz_info.encode("ascii")).digest()[:16]


def derive_bac_keys(seed: bytes) -> tuple[bytes, bytes]:
    """(KEnc, KMAC) from a 16-byte key seed (also used for the BAC session keys)."""
    return derive_key(seed, KDF_ENC, CipherKind.TDES), derive_key(seed, KDF_MAC, CipherKind.TDES)


def bac_cryptogram(k_enc: bytes, k_mac: bytes, plain: bytes) -> bytes:
    """E = 3DES-CBC(KEnc, plain) followed by M = RetailMAC(KMAC, pad(E))."""
    encrypted = tdes_cbc_encrypt(k_enc, plain)
    return encrypted + retail_mac(k_mac, pad(encrypted, 8))


def open_bac_cryptogram(k_enc: bytes, k_mac: bytes, data: bytes) -> bytes | None:
    """Verify and decrypt a 40-byte cryptogram; None when its MAC is wrong."""
    if len(data) != 40:
        return None
    encrypted, mac = data[:32], data[32:]
    if not hmac.compare_digest(retail_mac(k_mac, pad(encrypted, 8)), mac):
        return None
    return tdes_cbc_decrypt(k_enc, encrypted)


def session_from_key_material(
    k_ifd: bytes, k_ic: bytes, rnd_ic: bytes, rnd_ifd: bytes
) -> SecureMessaging:
    seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
    ks_enc, ks_mac = derive_bac_keys(seed)
    ssc = int.from_bytes(rnd_ic[4:8] + rnd_ifd[4:8], "big")
    return SecureMessaging(CipherKind.TDES, ks_enc, ks_mac, ssc)


def perform_bac(
    channel: ApduChannel, mrz_info: str, rng: RandomBytes = system_random
) -> SecureMessaging:
    """Run BAC; on success secure messaging is started on ``channel`` and returned.

    Randomness drawn, in order: RND.IFD (8 bytes), K.IFD (16 bytes).
    """
    k_enc, k_mac = derive_bac_keys(bac_key_seed(mrz_info))
    rnd_ic = channel.command(CommandApdu(0x00, 0x84, 0x00, 0x00, le=8), "GET CHALLENGE")
    if len(rnd_ic) != 8:
        raise AuthenticationError(f"GET CHALLENGE returned {len(rnd_ic)} bytes instead of 8")
    rnd_ifd = rng(8)
    k_ifd = rng(16)
    cryptogram = bac_cryptogram(k_enc, k_mac, rnd_ifd + rnd_ic + k_ifd)
    response = channel.send(CommandApdu(0x00, 0x82, 0x00, 0x00, cryptogram, le=40))
    if not response.ok:
        log.info("BAC refused by the chip (sw=%04X)", response.sw)
        raise AccessDeniedError(
            "BAC mutual authentication was refused: the MRZ (document number, date of birth, "
            "date of expiry) does not match this chip"
        ) from ApduError(sw=response.sw)
    plain = open_bac_cryptogram(k_enc, k_mac, response.data)
    if plain is None:
        raise AuthenticationError("BAC: the chip's cryptogram has a wrong MAC or length")
    if plain[:8] != rnd_ic or plain[8:16] != rnd_ifd:
        raise AuthenticationError("BAC: the chip did not return the expected challenges")
    sm = session_from_key_material(k_ifd, plain[16:32], rnd_ic, rnd_ifd)
    channel.start_secure_messaging(sm)
    log.info("BAC established")
    return sm
