"""Active Authentication responses (ICAO Doc 9303 Part 11, 6.1), verified against DG15.

RSA: ISO/IEC 9796-2 digital signature scheme 1 with message recovery. The recovered message
is ``header 6A | M1 | H | trailer`` with H = hash(M1 | challenge); trailer ``BC`` means
SHA-1, the two-byte trailer ``xx CC`` names the hash by its ISO/IEC 10118-3 identifier.
ECDSA: the signature over the challenge, plain r||s (BSI TR-03111) or DER.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from kiosk.icao.auth.public_keys import VerifyingKey
from kiosk.icao.auth.signatures import HASHES, SIGNATURE_ALGORITHMS, hash_of

TWO_BYTE_TRAILERS = {0x33: "sha1", 0x34: "sha256", 0x35: "sha512", 0x36: "sha384", 0x38: "sha224"}
CHALLENGE_BYTES = 8


def _recover(key: rsa.RSAPublicKey, signature: bytes) -> bytes | None:
    numbers = key.public_numbers()
    size = (numbers.n.bit_length() + 7) // 8
    s = int.from_bytes(signature, "big")
    if not 0 < s < numbers.n:
        return None
    m = pow(s, numbers.e, numbers.n)
    if m & 0xF != 0xC:  # ISO/IEC 9796-2: the representative may be n - m
        m = numbers.n - m
    return m.to_bytes(size, "big")


def verify_rsa_9796_2(key: rsa.RSAPublicKey, challenge: bytes, signature: bytes) -> bool:
    recovered = _recover(key, signature)
    if recovered is None or len(recovered) < 24:
        return False
    if recovered[-1] == 0xBC:
        hash_name, trailer = "sha1", 1
    elif recovered[-1] == 0xCC and recovered[-2] in TWO_BYTE_TRAILERS:
        hash_name, trailer = TWO_BYTE_TRAILERS[recovered[-2]], 2
    else:
        return False
    if recovered[0] & 0xC0 != 0x40:
        return False
    size = hashlib.new(hash_name).digest_size
    body = recovered[1 : len(recovered) - trailer]
    if len(body) < size:
        return False
    m1, digest = body[:-size], body[-size:]
    if recovered[0] & 0x20 == 0:  # full recovery: M1 is the whole message, padded with 0x0B..
        return False
    return hashlib.new(hash_name, m1 + challenge).digest() == digest


def _ecdsa_hashes(key: ec.EllipticCurvePublicKey, declared_oid: str | None) -> list[str]:
    if declared_oid and declared_oid in SIGNATURE_ALGORITHMS:
        declared = SIGNATURE_ALGORITHMS[declared_oid][1]
        if declared:
            return [declared]
    bits = key.curve.key_size
    by_size = "sha256" if bits <= 256 else "sha384" if bits <= 384 else "sha512"
    return list(dict.fromkeys([by_size, *HASHES]))


def verify_ecdsa(
    key: ec.EllipticCurvePublicKey, challenge: bytes, signature: bytes, declared_oid: str | None
) -> bool:
    candidates = []
    size = (key.curve.key_size + 7) // 8
    if len(signature) == 2 * size:
        half = len(signature) // 2
        candidates.append(
            encode_dss_signature(
                int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
            )
        )
    candidates.append(signature)
    for hash_name in _ecdsa_hashes(key, declared_oid):
        for der in candidates:
            try:
                key.verify(der, challenge, ec.ECDSA(hash_of(hash_name)))
                return True
            except (InvalidSignature, ValueError):
                continue
    return False


def verify_active_authentication(
    key: VerifyingKey, challenge: bytes, signature: bytes, declared_oid: str | None = None
) -> bool:
    """Whether ``signature`` is the chip's answer to ``challenge`` under the DG15 key."""
    if isinstance(key, rsa.RSAPublicKey):
        return verify_rsa_9796_2(key, challenge, signature)
    return verify_ecdsa(key, challenge, signature, declared_oid)
