"""PACE integrated mapping and chip authentication mapping, the parts both sides share
(ICAO Doc 9303 Part 11 4.4.3.3.2, 4.4.3.5 and Appendix B; BSI TR-03110). Integrated mapping
also runs over the RFC 5114 DH groups (g~ = R_p(s, t)^((p-1)/q) mod p).

Integrated mapping (ECDH): the terminal sends a random nonce t in clear; both sides map
G~ = f_G(R_p(s, t)), where R_p is the block-cipher based pseudo-random function of Figure 2
and f_G the point encoding of Brier et al. (Appendix B.2, affine coordinates; p = 3 mod 4,
which holds for every brainpool curve and for NIST P-192, P-256, P-384 and P-521).

Chip authentication mapping: the mapping of the generic mapping; the chip then proves its
static key by sending A_IC = E(KSenc, CA_IC) with CA_IC = SK_IC^-1 * SK_Map,IC mod n, and the
terminal checks PK_Map,IC = CA_IC * PK_IC with PK_IC from EF.CardSecurity (which Passive
Authentication must verify).
"""

from __future__ import annotations

import math

from kiosk.icao.crypto import (
    CipherKind,
    aes_cbc_decrypt,
    aes_cbc_encrypt,
    aes_ecb_encrypt_block,
    pad,
    tdes_cbc_encrypt,
    unpad,
)
from kiosk.icao.errors import AuthenticationError, SecureMessagingError, UnsupportedProtocolError
from kiosk.icao.pace.groups import DhGroup, EcGroup, Group, Point

C0_128 = bytes.fromhex("a668892a7c41e3ca739f40b057d85904")
C1_128 = bytes.fromhex("a4e136ac725f738b01c1f60217c188ad")
C0_256 = bytes.fromhex("d463d65234124ef7897054986dca0a174e28df758cbaa03f240616414d5a1676")
C1_256 = bytes.fromhex("54bd7255f0aaf831bec3423fcf39d69b6cbf066677d0faae5aadd99df8e53517")
MINUS_ONE_BLOCK = b"\xff" * 16


def nonce_length(cipher: CipherKind, key_length: int) -> int:
    """l / 8: the smallest multiple of the block size not shorter than the key (3DES: 16)."""
    if cipher is CipherKind.TDES:
        return 16
    return 16 if key_length <= 16 else 32


def _encrypt(cipher: CipherKind, key: bytes, data: bytes) -> bytes:
    """E(key, data): CBC with a zero IV, no padding."""
    if cipher is CipherKind.TDES:
        return tdes_cbc_encrypt(key, data)
    return aes_cbc_encrypt(key, data)


def pseudo_random(s: bytes, t: bytes, p: int, cipher: CipherKind, key_length: int) -> int:
    """R_p(s, t): the chip's nonce s (l bits) and the terminal's nonce t (k bits) to GF(p)."""
    if len(s) not in (16, 32) or len(t) != key_length:
        raise AuthenticationError("integrated mapping nonces have a wrong length")
    c0, c1 = (C0_128, C1_128) if len(s) == 16 else (C0_256, C1_256)
    blocks = math.ceil((math.log2(p) + 64) / (8 * len(s)))
    key = _encrypt(cipher, t, s)
    out = b""
    for _ in range(blocks):
        current = key[:key_length]
        out += _encrypt(cipher, current, c1)
        key = _encrypt(cipher, current, c0)
    return int.from_bytes(out, "big") % p


def point_encoding(group: EcGroup, t: int) -> Point:
    """f_G(t) of Appendix B.2 (cofactor 1)."""
    p, a, b = group.p, group.a, group.b
    if p % 4 != 3:
        raise UnsupportedProtocolError(f"integrated mapping needs p = 3 mod 4 ({group.name})")
    if not 0 < t < p:
        raise AuthenticationError("integrated mapping input out of range")
    alpha = (-t * t) % p
    both = (alpha + alpha * alpha) % p
    x2 = (-b * (1 + both) * pow(a * both % p, p - 2, p)) % p
    x3 = alpha * x2 % p
    h2 = (x2 * x2 * x2 + a * x2 + b) % p
    u = pow(t, 3, p) * h2 % p
    big_a = pow(h2, p - 1 - (p + 1) // 4, p)
    if big_a * big_a * h2 % p == 1:
        point = (x2, big_a * h2 % p)
    else:
        point = (x3, big_a * u % p)
    if not group.on_curve(point):
        raise AuthenticationError("integrated mapping produced no curve point")
    return point


def integrated_mapping(
    group: Group, s: bytes, t: bytes, cipher: CipherKind, key_length: int
) -> Group:
    """The group with the mapped generator: G~ = f_G(R_p(s, t)) (ECDH), or
    g~ = R_p(s, t)^((p-1)/q) mod p, which must not be 1 (DH)."""
    x = pseudo_random(s, t, group.p, cipher, key_length)
    if isinstance(group, EcGroup):
        return group.with_generator(point_encoding(group, x))
    mapped = pow(x, (group.p - 1) // group.q, group.p)
    if mapped in (0, 1):
        raise AuthenticationError("integrated mapping produced the neutral element")
    return DhGroup(group.name, group.p, mapped, group.q)


def _cam_iv(ks_enc: bytes) -> bytes:
    return aes_ecb_encrypt_block(ks_enc, MINUS_ONE_BLOCK)


def encrypt_chip_authentication_data(ks_enc: bytes, group: EcGroup, ca_ic: int) -> bytes:
    """A_IC = E(KSenc, FE2OS(CA_IC)) with AES-CBC, IV = E(KSenc, -1), padding method 2."""
    plain = ca_ic.to_bytes(group.scalar_size, "big")
    return aes_cbc_encrypt(ks_enc, pad(plain, 16), _cam_iv(ks_enc))


def decrypt_chip_authentication_data(ks_enc: bytes, encrypted: bytes) -> int:
    if not encrypted or len(encrypted) % 16 or len(encrypted) > 128:
        raise AuthenticationError("encrypted chip authentication data has a wrong length")
    try:
        plain = unpad(aes_cbc_decrypt(ks_enc, encrypted, _cam_iv(ks_enc)))
    except SecureMessagingError as exc:
        raise AuthenticationError("chip authentication data badly padded") from exc
    return int.from_bytes(plain, "big")


def chip_authentication_data(group: EcGroup, sk_ic: int, sk_map_ic: int) -> int:
    """CA_IC = SK_IC^-1 * SK_Map,IC mod n (chip side)."""
    return pow(sk_ic, -1, group.order) * sk_map_ic % group.order


def verify_chip_authentication_data(
    group: EcGroup, ca_ic: int, pk_ic: Point, pk_map_ic: Point
) -> bool:
    """PK_Map,IC == CA_IC * PK_IC (terminal side)."""
    if not 1 <= ca_ic < group.order - 1:
        return False
    return group.multiply(ca_ic, pk_ic) == pk_map_ic
