"""The groups PACE and Chip Authentication compute in: elliptic curves and RFC 5114 DH groups.

Standard parameter ids (ICAO 9303 Part 11 table 6 / BSI TR-03110): 0-2 are the RFC 5114 MODP
groups, 8-18 the NIST and Brainpool curves.

Scalar multiplication uses OpenSSL (``cryptography``) wherever the curve is available there:
``k*G`` on the standard generator directly, and ``k*P`` for any other point from two ECDH
exchanges (x of ``k*P`` and x of ``(k+1)*P``, which fixes the sign of y). Only point
additions, needed by the generic mapping, are done in Python. Curves that OpenSSL lacks fall
back to the ``ecdsa`` package's arithmetic.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import ecdsa.curves
import ecdsa.ellipticcurve
from cryptography.hazmat.primitives.asymmetric import ec

from kiosk.icao.errors import AuthenticationError, UnsupportedProtocolError
from kiosk.icao.rng import RandomBytes

Point = tuple[int, int]

_ECDH = ec.ECDH()


class EcGroup:
    """An elliptic curve over a prime field with a (possibly mapped) generator."""

    tag_public_key = 0x86

    def __init__(
        self,
        name: str,
        curve: ecdsa.curves.Curve,
        crypto_curve: ec.EllipticCurve | None,
        generator: Point | None = None,
    ) -> None:
        self.name = name
        self._curve = curve
        fp = curve.curve
        self.p: int = fp.p()
        self.a: int = fp.a()
        self.b: int = fp.b()
        self.order: int = curve.order
        self.size = (self.p.bit_length() + 7) // 8
        self.scalar_size = (self.order.bit_length() + 7) // 8
        self.standard_generator: Point = (curve.generator.x(), curve.generator.y())
        self.generator: Point = generator or self.standard_generator
        # the ECDH shortcut needs OpenSSL and square roots by one exponentiation
        self._crypto = crypto_curve if self.p % 4 == 3 else None

    def with_generator(self, generator: Point) -> EcGroup:
        return EcGroup(self.name, self._curve, self._crypto, generator)

    # --- encoding -----------------------------------------------------------------------

    def encode(self, point: Point) -> bytes:
        return b"\x04" + point[0].to_bytes(self.size, "big") + point[1].to_bytes(self.size, "big")

    def decode(self, raw: bytes) -> Point:
        """Decode an uncompressed point and check it lies on the curve."""
        if len(raw) != 1 + 2 * self.size or raw[0] != 0x04:
            raise AuthenticationError("public point is not an uncompressed point of this curve")
        x = int.from_bytes(raw[1 : 1 + self.size], "big")
        y = int.from_bytes(raw[1 + self.size :], "big")
        if not (x < self.p and y < self.p and self.on_curve((x, y))):
            raise AuthenticationError("public point is not on the curve")
        return x, y

    def encode_secret(self, point: Point) -> bytes:
        return point[0].to_bytes(self.size, "big")

    # --- arithmetic ---------------------------------------------------------------------

    def on_curve(self, point: Point) -> bool:
        x, y = point
        return (y * y - (x * x * x + self.a * x + self.b)) % self.p == 0

    def add(self, first: Point, second: Point) -> Point:
        p = self.p
        (x1, y1), (x2, y2) = first, second
        if x1 == x2:
            if (y1 + y2) % p == 0:
                raise AuthenticationError("point addition reached infinity")
            slope = (3 * x1 * x1 + self.a) * pow(2 * y1, -1, p) % p
        else:
            slope = (y2 - y1) * pow(x2 - x1, -1, p) % p
        x3 = (slope * slope - x1 - x2) % p
        return x3, (slope * (x1 - x3) - y1) % p

    def multiply(self, k: int, point: Point) -> Point:
        """``k * point`` for a scalar 1 <= k < order - 1."""
        if not 1 <= k < self.order - 1:
            raise ValueError("scalar out of range")
        if self._crypto is None:
            jac = ecdsa.ellipticcurve.PointJacobi(self._curve.curve, point[0], point[1], 1)
            result = jac * k
            return result.x(), result.y()
        if point == self.standard_generator:
            numbers = ec.derive_private_key(k, self._crypto).public_key().public_numbers()
            return numbers.x, numbers.y
        x = self._ecdh_x(k, point)
        y = pow((x * x * x + self.a * x + self.b) % self.p, (self.p + 1) // 4, self.p)
        candidate = (x, y)
        if self.add(candidate, point)[0] == self._ecdh_x(k + 1, point):
            return candidate
        return x, self.p - y

    def _ecdh_x(self, k: int, point: Point) -> int:
        assert self._crypto is not None
        private = ec.derive_private_key(k, self._crypto)
        public = ec.EllipticCurvePublicNumbers(point[0], point[1], self._crypto).public_key()
        return int.from_bytes(private.exchange(_ECDH, public), "big")

    def shared_secret(self, k: int, peer: Point) -> bytes:
        """x coordinate of ``k * peer`` (the ECDH shared secret)."""
        if self._crypto is not None:
            return self._ecdh_x(k, peer).to_bytes(self.size, "big")
        return self.encode_secret(self.multiply(k, peer))

    def public_key(self, k: int) -> Point:
        return self.multiply(k, self.generator)

    def map_generic(self, nonce: int, shared: Point) -> EcGroup:
        """Generic mapping: G~ = s*G + H."""
        return self.with_generator(self.add(self.multiply(nonce, self.generator), shared))

    # --- byte-level operations used by the protocols ------------------------------------

    def public_key_bytes(self, k: int) -> bytes:
        return self.encode(self.public_key(k))

    def map_from_peer(self, nonce: int, k: int, peer: bytes) -> EcGroup:
        """Generic mapping with H = k * peer."""
        return self.map_generic(nonce, self.multiply(k, self.decode(peer)))

    def agree(self, k: int, peer: bytes) -> bytes:
        return self.shared_secret(k, self.decode(peer))

    def random_scalar(self, rng: RandomBytes) -> int:
        return _random_scalar(rng, self.scalar_size, self.order)


@dataclass(frozen=True)
class DhGroup:
    """A MODP group with a prime-order subgroup (RFC 5114)."""

    name: str
    p: int
    g: int
    q: int
    tag_public_key = 0x84

    @property
    def size(self) -> int:
        return (self.p.bit_length() + 7) // 8

    @property
    def order(self) -> int:
        return self.q

    @property
    def generator(self) -> int:
        return self.g

    def encode(self, element: int) -> bytes:
        return element.to_bytes(self.size, "big")

    def decode(self, raw: bytes) -> int:
        if len(raw) != self.size:
            raise AuthenticationError("public value has the wrong length for this group")
        y = int.from_bytes(raw, "big")
        if not 1 < y < self.p - 1 or pow(y, self.q, self.p) != 1:
            raise AuthenticationError("public value is not in the prime-order subgroup")
        return y

    def encode_secret(self, element: int) -> bytes:
        return self.encode(element)

    def multiply(self, k: int, element: int) -> int:
        return pow(element, k, self.p)

    def shared_secret(self, k: int, peer: int) -> bytes:
        return self.encode(pow(peer, k, self.p))

    def public_key(self, k: int) -> int:
        return pow(self.g, k, self.p)

    def map_generic(self, nonce: int, shared: int) -> DhGroup:
        """Generic mapping: g~ = g^s * h mod p."""
        return DhGroup(self.name, self.p, pow(self.g, nonce, self.p) * shared % self.p, self.q)

    def public_key_bytes(self, k: int) -> bytes:
        return self.encode(self.public_key(k))

    def map_from_peer(self, nonce: int, k: int, peer: bytes) -> DhGroup:
        return self.map_generic(nonce, self.multiply(k, self.decode(peer)))

    def agree(self, k: int, peer: bytes) -> bytes:
        return self.shared_secret(k, self.decode(peer))

    def random_scalar(self, rng: RandomBytes) -> int:
        return _random_scalar(rng, (self.q.bit_length() + 7) // 8, self.q)

    @property
    def scalar_size(self) -> int:
        return (self.q.bit_length() + 7) // 8


def _random_scalar(rng: RandomBytes, size: int, order: int) -> int:
    mask = (1 << order.bit_length()) - 1
    for _ in range(64):
        k = int.from_bytes(rng(size), "big") & mask
        if 1 <= k < order - 1:
            return k
    raise ValueError("random source keeps returning out-of-range scalars")


Group = EcGroup | DhGroup

_RFC5114_1024_P = int(
    "B10B8F96A080E01DDE92DE5EAE5D54EC52C99FBCFB06A3C69A6A9DCA52D23B616073E28675A23D189838EF1E"
    "2EE652C013ECB4AEA906112324975C3CD49B83BFACCBDD7D90C4BD7098488E9C219A73724EFFD6FAE5644738"
    "FAA31A4FF55BCCC0A151AF5F0DC8B4BD45BF37DF365C1A65E68CFDA76D4DA708DF1FB2BC2E4A4371",
    16,
)
_RFC5114_1024_G = int(
    "A4D1CBD5C3FD34126765A442EFB99905F8104DD258AC507FD6406CFF14266D31266FEA1E5C41564B777E690F"
    "5504F213160217B4B01B886A5E91547F9E2749F4D7FBD7D3B9A92EE1909D0D2263F80A76A6A24C087A091F53"
    "1DBF0A0169B6A28AD662A4D18E73AFA32D779D5918D08BC8858F4DCEF97C2A24855E6EEB22B3B2E5",
    16,
)
_RFC5114_1024_Q = int("F518AA8781A8DF278ABA4E7D64B7CB9D49462353", 16)
_RFC5114_2048_224_P = int(
    "AD107E1E9123A9D0D660FAA79559C51FA20D64E5683B9FD1B54B1597B61D0A75E6FA141DF95A56DBAF9A3C40"
    "7BA1DF15EB3D688A309C180E1DE6B85A1274A0A66D3F8152AD6AC2129037C9EDEFDA4DF8D91E8FEF55B7394B"
    "7AD5B7D0B6C12207C9F98D11ED34DBF6C6BA0B2C8BBC27BE6A00E0A0B9C49708B3BF8A317091883681286130"
    "BC8985DB1602E714415D9330278273C7DE31EFDC7310F7121FD5A07415987D9ADC0A486DCDF93ACC44328387"
    "315D75E198C641A480CD86A1B9E587E8BE60E69CC928B2B9C52172E413042E9B23F10B0E16E79763C9B53DCF"
    "4BA80A29E3FB73C16B8E75B97EF363E2FFA31F71CF9DE5384E71B81C0AC4DFFE0C10E64F",
    16,
)
_RFC5114_2048_224_G = int(
    "AC4032EF4F2D9AE39DF30B5C8FFDAC506CDEBE7B89998CAF74866A08CFE4FFE3A6824A4E10B9A6F0DD921F01"
    "A70C4AFAAB739D7700C29F52C57DB17C620A8652BE5E9001A8D66AD7C17669101999024AF4D027275AC1348B"
    "B8A762D0521BC98AE247150422EA1ED409939D54DA7460CDB5F6C6B250717CBEF180EB34118E98D119529A45"
    "D6F834566E3025E316A330EFBB77A86F0C1AB15B051AE3D428C8F8ACB70A8137150B8EEB10E183EDD19963DD"
    "D9E263E4770589EF6AA21E7F5F2FF381B539CCE3409D13CD566AFBB48D6C019181E1BCFE94B30269EDFE72FE"
    "9B6AA4BD7B5A0F1C71CFFF4C19C418E1F6EC017981BC087F2A7065B384B890D3191F2BFA",
    16,
)
_RFC5114_2048_224_Q = int("801C0D34C58D93FE997177101F80535A4738CEBCBF389A99B36371EB", 16)
_RFC5114_2048_256_P = int(
    "87A8E61DB4B6663CFFBBD19C651959998CEEF608660DD0F25D2CEED4435E3B00E00DF8F1D61957D4FAF7DF45"
    "61B2AA3016C3D91134096FAA3BF4296D830E9A7C209E0C6497517ABD5A8A9D306BCF67ED91F9E6725B4758C0"
    "22E0B1EF4275BF7B6C5BFC11D45F9088B941F54EB1E59BB8BC39A0BF12307F5C4FDB70C581B23F76B63ACAE1"
    "CAA6B7902D52526735488A0EF13C6D9A51BFA4AB3AD8347796524D8EF6A167B5A41825D967E144E514056425"
    "1CCACB83E6B486F6B3CA3F7971506026C0B857F689962856DED4010ABD0BE621C3A3960A54E710C375F26375"
    "D7014103A4B54330C198AF126116D2276E11715F693877FAD7EF09CADB094AE91E1A1597",
    16,
)
_RFC5114_2048_256_G = int(
    "3FB32C9B73134D0B2E77506660EDBD484CA7B18F21EF205407F4793A1A0BA12510DBC15077BE463FFF4FED4A"
    "AC0BB555BE3A6C1B0C6B47B1BC3773BF7E8C6F62901228F8C28CBB18A55AE31341000A650196F931C77A57F2"
    "DDF463E5E9EC144B777DE62AAAB8A8628AC376D282D6ED3864E67982428EBC831D14348F6F2F9193B5045AF2"
    "767164E1DFC967C1FB3F2E55A4BD1BFFE83B9C80D052B985D182EA0ADB2A3B7313D3FE14C8484B1E052588B9"
    "B7D2BBD2DF016199ECD06E1557CD0915B3353BBB64E0EC377FD028370DF92B52C7891428CDC67EB6184B523D"
    "1DB246C32F63078490F00EF8D647D148D47954515E2327CFEF98C582664B4C0F6CC41659",
    16,
)
_RFC5114_2048_256_Q = int("8CF83642A709A097B447997640129DA299B1A47D1EB3750BA308B0FE64F5FBD3", 16)

_DH_GROUPS = {
    0: DhGroup("RFC5114-1024-160", _RFC5114_1024_P, _RFC5114_1024_G, _RFC5114_1024_Q),
    1: DhGroup("RFC5114-2048-224", _RFC5114_2048_224_P, _RFC5114_2048_224_G, _RFC5114_2048_224_Q),
    2: DhGroup("RFC5114-2048-256", _RFC5114_2048_256_P, _RFC5114_2048_256_G, _RFC5114_2048_256_Q),
}

# parameter id -> (name, ecdsa curve, OpenSSL curve or None)
_EC_CURVES: dict[int, tuple[str, ecdsa.curves.Curve, ec.EllipticCurve | None]] = {
    8: ("secp192r1", ecdsa.curves.NIST192p, ec.SECP192R1()),
    9: ("brainpoolP192r1", ecdsa.curves.BRAINPOOLP192r1, None),
    10: ("secp224r1", ecdsa.curves.NIST224p, ec.SECP224R1()),
    11: ("brainpoolP224r1", ecdsa.curves.BRAINPOOLP224r1, None),
    12: ("secp256r1", ecdsa.curves.NIST256p, ec.SECP256R1()),
    13: ("brainpoolP256r1", ecdsa.curves.BRAINPOOLP256r1, ec.BrainpoolP256R1()),
    14: ("brainpoolP320r1", ecdsa.curves.BRAINPOOLP320r1, None),
    15: ("secp384r1", ecdsa.curves.NIST384p, ec.SECP384R1()),
    16: ("brainpoolP384r1", ecdsa.curves.BRAINPOOLP384r1, ec.BrainpoolP384R1()),
    17: ("brainpoolP512r1", ecdsa.curves.BRAINPOOLP512r1, ec.BrainpoolP512R1()),
    18: ("secp521r1", ecdsa.curves.NIST521p, ec.SECP521R1()),
}

DH_PARAMETER_IDS = frozenset(_DH_GROUPS)
EC_PARAMETER_IDS = frozenset(_EC_CURVES)


@functools.cache
def standard_group(parameter_id: int) -> Group:
    """The group of a standardized domain parameter id (raises for unknown ids)."""
    if parameter_id in _DH_GROUPS:
        return _DH_GROUPS[parameter_id]
    if parameter_id in _EC_CURVES:
        name, curve, crypto = _EC_CURVES[parameter_id]
        return EcGroup(name, curve, crypto)
    raise UnsupportedProtocolError(f"standard domain parameter id {parameter_id} is unknown")


def ec_group_for_curve(crypto_curve: ec.EllipticCurve) -> EcGroup:
    """The EC group of an OpenSSL curve (used by Chip Authentication with EC keys)."""
    for parameter_id, (_name, _curve, crypto) in _EC_CURVES.items():
        if crypto is not None and crypto.name == crypto_curve.name:
            group = standard_group(parameter_id)
            assert isinstance(group, EcGroup)
            return group
    raise UnsupportedProtocolError(f"curve {crypto_curve.name} is not supported")
