"""Active Authentication and Chip Authentication, chip side (ICAO 9303 Part 11 sections 6, 7).

* Active Authentication: INTERNAL AUTHENTICATE signs the reader's 8-byte challenge, with RSA
  as an ISO/IEC 9796-2 digital signature scheme 1 (partial recovery; randomness drawn: the
  recoverable message M1) or with ECDSA as a plain r||s signature.
* Chip Authentication: MSE:Set KAT (3DES) or MSE:Set AT + GENERAL AUTHENTICATE (AES and 3DES),
  then secure messaging restarts with keys derived from the static-ephemeral shared secret.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from hardware.sim.chip.secure_messaging import ChipSecureMessaging
from hardware.sim.pki.dh_groups import load_dh_pkcs8
from kiosk.icao import tlv
from kiosk.icao.apdu import (
    SW_CONDITIONS,
    SW_OK,
    SW_REF_NOT_FOUND,
    SW_WRONG_DATA,
    SW_WRONG_LENGTH,
    CommandApdu,
)
from kiosk.icao.crypto import CipherKind
from kiosk.icao.errors import AuthenticationError, TlvError
from kiosk.icao.pace.common import dynamic_data, parse_dynamic_data, session_keys
from kiosk.icao.pace.oids import ID_CA, ProtocolSuite, ca_suite, oid_contents
from kiosk.icao.rng import RandomBytes

Reply = tuple[bytes, int, ChipSecureMessaging | None]

# ISO/IEC 9796-2 trailers (hash identifiers of ISO/IEC 10118-3 followed by 'CC').
_TRAILERS = {
    "sha1": b"\xbc",
    "sha224": b"\x38\xcc",
    "sha256": b"\x34\xcc",
    "sha384": b"\x36\xcc",
    "sha512": b"\x35\xcc",
}
_EC_HASHES = {256: "sha256", 384: "sha384", 512: "sha512", 521: "sha512"}


def iso9796_2_sign(
    key: rsa.RSAPrivateKey, message: bytes, hash_name: str, rng: RandomBytes
) -> bytes:
    """Scheme 1 signature with partial recovery: M1 random, M2 = ``message``."""
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    trailer = _TRAILERS[hash_name]
    digest_size = hashlib.new(hash_name).digest_size
    size = (n.bit_length() + 7) // 8
    if int.from_bytes(b"\x6a" + bytes(size - 1), "big") >= n:
        size -= 1
    m1 = rng(size - 1 - digest_size - len(trailer))
    representative = b"\x6a" + m1 + hashlib.new(hash_name, m1 + message).digest() + trailer
    signature = pow(int.from_bytes(representative, "big"), numbers.d, n)
    return signature.to_bytes((n.bit_length() + 7) // 8, "big")


def ecdsa_plain_sign(key: ec.EllipticCurvePrivateKey, message: bytes, hash_name: str) -> bytes:
    algorithm = {
        "sha1": hashes.SHA1(),
        "sha224": hashes.SHA224(),
        "sha256": hashes.SHA256(),
        "sha384": hashes.SHA384(),
        "sha512": hashes.SHA512(),
    }[hash_name]
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(algorithm)))
    size = (key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


@dataclass(frozen=True)
class _DhKey:
    p: int
    q: int
    x: int


ID_DH_PUBLIC_NUMBER = "1.2.840.10046.2.1"  # X9.42 DH: parameters p, g, q
DH_KEY_AGREEMENT = "1.2.840.113549.1.3.1"  # PKCS #3 DH: parameters p, g


def _load_ca_key(pkcs8: bytes) -> object:
    """EC keys through ``cryptography``; X9.42 DH keys read here (FFDH there is deprecated)."""
    _version, algorithm, private = tlv.decode_one(pkcs8, 0x30).children()[:3]
    oid, *params = algorithm.children()
    if oid.value == oid_contents(ID_DH_PUBLIC_NUMBER) and params:
        p, _g, q = (int.from_bytes(item.value, "big") for item in params[0].children()[:3])
        x = int.from_bytes(tlv.decode_one(private.value, 0x02).value, "big")
        return _DhKey(p, q, x)
    if oid.value == oid_contents(DH_KEY_AGREEMENT):
        # PKCS #3 keys carry no q: take it from the standard group with the same p and g.
        key = load_dh_pkcs8(pkcs8)
        return _DhKey(key.p, key.q, key.x)
    return serialization.load_der_private_key(pkcs8, None)


class ActiveAuthenticationResponder:
    def __init__(self, pkcs8: bytes | None, hash_name: str | None, rng: RandomBytes) -> None:
        self._key = serialization.load_der_private_key(pkcs8, None) if pkcs8 else None
        self._hash = hash_name
        self._rng = rng

    @property
    def available(self) -> bool:
        return self._key is not None

    def internal_authenticate(self, command: CommandApdu) -> tuple[bytes, int]:
        if len(command.data) != 8:
            return b"", SW_WRONG_LENGTH
        key = self._key
        if isinstance(key, rsa.RSAPrivateKey):
            return iso9796_2_sign(key, command.data, self._hash or "sha1", self._rng), SW_OK
        if isinstance(key, ec.EllipticCurvePrivateKey):
            hash_name = self._hash or _EC_HASHES.get(key.curve.key_size, "sha256")
            return ecdsa_plain_sign(key, command.data, hash_name), SW_OK
        return b"", SW_CONDITIONS


class ChipAuthenticationResponder:
    def __init__(self, keys: dict[int | None, bytes]) -> None:
        self._keys = {key_id: _load_ca_key(der) for key_id, der in keys.items()}
        self._pending: tuple[ProtocolSuite, int | None] | None = None

    def reset(self) -> None:
        self._pending = None

    def _key(self, key_id: int | None) -> object | None:
        if key_id in self._keys:
            return self._keys[key_id]
        if key_id is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return None

    @staticmethod
    def _key_id(items: list[tlv.Tlv]) -> int | None:
        item = tlv.find(items, 0x84)
        return int.from_bytes(item.value, "big") if item is not None else None

    def set_kat(self, command: CommandApdu) -> Reply:
        """MSE:Set KAT: 3DES Chip Authentication in one command."""
        try:
            items = tlv.decode_all(command.data)
            public = tlv.require(items, 0x91)
            key_id = self._key_id(items)
        except TlvError:
            return b"", SW_WRONG_DATA, None
        suite = ProtocolSuite("", "", None, CipherKind.TDES, 16)
        return self._agree(self._key(key_id), public, suite)

    def set_at(self, command: CommandApdu) -> int:
        self._pending = None
        try:
            items = tlv.decode_all(command.data)
            oid_bytes = tlv.require(items, 0x80)
            key_id = self._key_id(items)
        except TlvError:
            return SW_WRONG_DATA
        for candidate in (f"{ID_CA}.{a}.{c}" for a in (1, 2) for c in (1, 2, 3, 4)):
            if oid_contents(candidate) == oid_bytes:
                suite = ca_suite(candidate)
                if suite is not None and self._key(key_id) is not None:
                    self._pending = (suite, key_id)
                    return SW_OK
        return SW_REF_NOT_FOUND

    def general_authenticate(self, command: CommandApdu) -> Reply:
        pending, self._pending = self._pending, None
        if pending is None:
            return b"", SW_CONDITIONS, None
        try:
            public = parse_dynamic_data(command.data, 0x80)
        except AuthenticationError:
            return b"", SW_WRONG_DATA, None
        data, sw, sm = self._agree(self._key(pending[1]), public, pending[0])
        return (dynamic_data(0, b"") if sw == SW_OK else b""), sw, sm

    @staticmethod
    def _agree(key: object | None, public: bytes, suite: ProtocolSuite) -> Reply:
        if key is None:
            return b"", SW_REF_NOT_FOUND, None
        try:
            if isinstance(key, ec.EllipticCurvePrivateKey):
                peer = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, public)
                secret = key.exchange(ec.ECDH(), peer)
            elif isinstance(key, _DhKey):
                y = int.from_bytes(public, "big")
                if not 1 < y < key.p - 1 or pow(y, key.q, key.p) != 1:
                    return b"", SW_WRONG_DATA, None
                secret = pow(y, key.x, key.p).to_bytes((key.p.bit_length() + 7) // 8, "big")
            else:
                return b"", SW_CONDITIONS, None
        except ValueError:
            return b"", SW_WRONG_DATA, None
        ks_enc, ks_mac = session_keys(secret, suite)
        return b"", SW_OK, ChipSecureMessaging(suite.cipher, ks_enc, ks_mac, 0)
