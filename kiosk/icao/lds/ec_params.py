"""Elliptic-curve domain parameters as chips store them.

Many passports put explicit domain parameters (prime, a, b, G, n, h) in DG14 and DG15 instead of
a named-curve OID. This module recognises them as the named curve they are, so a reader can use
ordinary libraries, and writes them explicitly for the simulator.
"""

from __future__ import annotations

from typing import Any

from asn1crypto import keys
from ecdsa import curves as ecdsa_curves

from kiosk.icao.lds.asn1_types import GenericPublicKeyInfo
from kiosk.icao.lds.errors import LdsEncodeError

# name as cryptography / OpenSSL use it -> ecdsa curve
_NAMES = {
    "secp192r1": "NIST192p",
    "secp224r1": "NIST224p",
    "secp256r1": "NIST256p",
    "secp384r1": "NIST384p",
    "secp521r1": "NIST521p",
    "brainpoolP192r1": "BRAINPOOLP192r1",
    "brainpoolP224r1": "BRAINPOOLP224r1",
    "brainpoolP256r1": "BRAINPOOLP256r1",
    "brainpoolP320r1": "BRAINPOOLP320r1",
    "brainpoolP384r1": "BRAINPOOLP384r1",
    "brainpoolP512r1": "BRAINPOOLP512r1",
}
_CURVES = {c.name: c for c in ecdsa_curves.curves}
_CANONICAL = {name.lower(): name for name in _NAMES} | {"prime256v1": "secp256r1"}


def canonical_curve_name(name: str) -> str:
    """``brainpoolP256r1`` for ``brainpoolp256r1`` (asn1crypto's spelling) and so on."""
    return _CANONICAL.get(name.lower(), name)


PRIME_FIELD = "1.2.840.10045.1.1"


def _fingerprint(p: int, a: int, b: int, gx: int, gy: int, n: int) -> tuple[int, ...]:
    return (p, a % p, b % p, gx, gy, n)


def _known() -> dict[tuple[int, ...], str]:
    table = {}
    for name, ecdsa_name in _NAMES.items():
        c = _CURVES[ecdsa_name]
        g = c.generator
        table[_fingerprint(c.curve.p(), c.curve.a(), c.curve.b(), g.x(), g.y(), c.order)] = name
    return table


_KNOWN = _known()


def curve_of_specified(specified: Any) -> str | None:
    """Named curve equal to asn1crypto ``SpecifiedECDomain`` parameters, or None."""
    if specified["field_id"]["field_type"].dotted != PRIME_FIELD:
        return None
    p = int(specified["field_id"]["parameters"].native)
    a = int.from_bytes(bytes(specified["curve"]["a"].native), "big")
    b = int.from_bytes(bytes(specified["curve"]["b"].native), "big")
    base = bytes(specified["base"].native)
    size = (p.bit_length() + 7) // 8
    if len(base) != 1 + 2 * size or base[0] != 0x04:
        return None
    gx = int.from_bytes(base[1 : 1 + size], "big")
    gy = int.from_bytes(base[1 + size :], "big")
    return _KNOWN.get(_fingerprint(p, a, b, gx, gy, int(specified["order"].native)))


def explicit_parameters(curve: str) -> keys.ECDomainParameters:
    """``ECDomainParameters`` of ``curve`` written out explicitly, as many chips do."""
    curve = canonical_curve_name(curve)
    if curve not in _NAMES:
        raise LdsEncodeError(f"no explicit parameters for {curve}")
    c = _CURVES[_NAMES[curve]]
    size = c.baselen
    g = c.generator
    return keys.ECDomainParameters(
        name="specified",
        value=keys.SpecifiedECDomain(
            {
                "version": "ecdpVer1",
                "field_id": keys.FieldID({"field_type": "prime_field", "parameters": c.curve.p()}),
                "curve": keys.Curve(
                    {
                        "a": (c.curve.a() % c.curve.p()).to_bytes(size, "big"),
                        "b": c.curve.b().to_bytes(size, "big"),
                    }
                ),
                "base": b"\x04" + g.x().to_bytes(size, "big") + g.y().to_bytes(size, "big"),
                "order": c.order,
                "cofactor": 1,
            }
        ),
    )


def with_explicit_parameters(spki_der: bytes) -> bytes:
    """Rewrite a named-curve EC SubjectPublicKeyInfo with explicit domain parameters."""
    info = keys.PublicKeyInfo.load(spki_der)
    params = info["algorithm"]["parameters"]
    if info["algorithm"]["algorithm"].native != "ec" or params.name != "named":
        raise LdsEncodeError("not a named-curve EC key")
    curve = params.chosen.native
    rewritten = keys.PublicKeyInfo(
        {
            "algorithm": keys.PublicKeyAlgorithm(
                {"algorithm": "ec", "parameters": explicit_parameters(curve)}
            ),
            "public_key": info["public_key"].native,
        }
    )
    return bytes(rewritten.dump())


def with_named_curve(spki_der: bytes, curve: str) -> bytes:
    """Rewrite an EC SubjectPublicKeyInfo (explicit or BSI standardized parameters) so that it
    names ``curve``, which is what ``cryptography`` loads."""
    info = GenericPublicKeyInfo.load(spki_der)
    rewritten = keys.PublicKeyInfo(
        {
            "algorithm": keys.PublicKeyAlgorithm(
                {
                    "algorithm": "ec",
                    "parameters": keys.ECDomainParameters(name="named", value=curve.lower()),
                }
            ),
            "public_key": bytes(info["public_key"].contents[1:]),
        }
    )
    return bytes(rewritten.dump())
