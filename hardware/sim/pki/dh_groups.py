"""Finite-field Diffie-Hellman keys for DH Chip Authentication.

``cryptography`` deprecates FFDH, so DH keys are plain integers here, written with asn1crypto:
PKCS #8 (PKCS #3 ``dhKeyAgreement`` with p and g) for the chip's private key and a PKCS #3
``dhKeyAgreement`` SubjectPublicKeyInfo for DG14, as ICAO 9303 Part 11 shows it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from asn1crypto import core

from kiosk.icao.lds._tlv import encode_tlv, read_single
from models.errors import ConfigError

# RFC 5114 section 2.1: 1024-bit MODP group with 160-bit prime order subgroup (parameter id 0).
_MODP1024_160 = (
    int(
        "B10B8F96A080E01DDE92DE5EAE5D54EC52C99FBCFB06A3C69A6A9DCA52D23B616073E28675A23D189838EF1E"
        "2EE652C013ECB4AEA906112324975C3CD49B83BFACCBDD7D90C4BD7098488E9C219A73724EFFD6FAE5644738"
        "FAA31A4FF55BCCC0A151AF5F0DC8B4BD45BF37DF365C1A65E68CFDA76D4DA708DF1FB2BC2E4A4371",
        16,
    ),
    int(
        "A4D1CBD5C3FD34126765A442EFB99905F8104DD258AC507FD6406CFF14266D31266FEA1E5C41564B777E690F"
        "5504F213160217B4B01B886A5E91547F9E2749F4D7FBD7D3B9A92EE1909D0D2263F80A76A6A24C087A091F53"
        "1DBF0A0169B6A28AD662A4D18E73AFA32D779D5918D08BC8858F4DCEF97C2A24855E6EEB22B3B2E5",
        16,
    ),
    int("F518AA8781A8DF278ABA4E7D64B7CB9D49462353", 16),
)
GROUPS = {"modp1024-160": _MODP1024_160}
DH_KEY_AGREEMENT = "1.2.840.113549.1.3.1"


class DhParameter(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """PKCS #3 DHParameter."""

    _fields = [
        ("p", core.Integer),
        ("g", core.Integer),
        ("private_value_length", core.Integer, {"optional": True}),
    ]


@dataclass(frozen=True)
class DhPrivateKey:
    p: int
    g: int
    q: int
    x: int

    @property
    def y(self) -> int:
        return pow(self.g, self.x, self.p)

    def _algorithm(self) -> bytes:
        return encode_tlv(
            0x30,
            core.ObjectIdentifier(DH_KEY_AGREEMENT).dump()
            + DhParameter({"p": self.p, "g": self.g}).dump(),
        )

    def pkcs8_der(self) -> bytes:
        """PKCS #8 PrivateKeyInfo with the PKCS #3 algorithm and the private value."""
        private = encode_tlv(0x04, core.Integer(self.x).dump())
        return encode_tlv(0x30, core.Integer(0).dump() + self._algorithm() + private)

    def spki_der(self) -> bytes:
        """PKCS #3 dhKeyAgreement SubjectPublicKeyInfo (what DG14 holds)."""
        public = encode_tlv(0x03, b"\x00" + core.Integer(self.y).dump())
        return encode_tlv(0x30, self._algorithm() + public)


def generate_dh_key(group: str) -> DhPrivateKey:
    if group not in GROUPS:
        raise ConfigError(f"unknown DH group {group!r} (known: {', '.join(GROUPS)})")
    p, g, q = GROUPS[group]
    return DhPrivateKey(p, g, q, secrets.randbelow(q - 3) + 2)


def load_dh_pkcs8(der: bytes) -> DhPrivateKey:
    """Load :meth:`DhPrivateKey.pkcs8_der` output (the group must be one of ``GROUPS``)."""
    version, algorithm, private = read_single(der, 0x30).children()[:3]
    oid, params = algorithm.children()[:2]
    if version.value != b"\x00" or core.ObjectIdentifier.load(oid.raw).dotted != DH_KEY_AGREEMENT:
        raise ConfigError("not a PKCS #3 DH private key")
    parsed = DhParameter.load(params.raw)
    p, g = int(parsed["p"].native), int(parsed["g"].native)
    x = int(core.Integer.load(private.value).native)
    for gp, gg, gq in GROUPS.values():
        if (gp, gg) == (p, g):
            return DhPrivateKey(p, g, gq, x)
    raise ConfigError("DH key of an unknown group")
