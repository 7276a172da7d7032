"""Public keys as states write them, loaded into ``cryptography``.

ICAO PKIs use key encodings that ``cryptography`` does not load directly: EC keys with
explicit domain parameters (the German CSCA, many DG15 keys) and RSA keys marked
``id-RSASSA-PSS``. Both are rewritten to the equivalent plain encoding first: explicit
parameters are recognised as the named curve whose p, a, b, G and n they equal.
"""

from __future__ import annotations

from asn1crypto import keys
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kiosk.icao.lds.errors import LdsParseError
from kiosk.icao.lds.public_key import parse_public_key_info
from models.errors import ParseError

RSA_PSS = "1.2.840.113549.1.1.10"
VerifyingKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


class UnsupportedKeyError(ParseError):
    """A public key that cannot be used to verify signatures."""

    code = "unsupported_key"


def _plain_rsa(spki_der: bytes) -> bytes:
    info = keys.PublicKeyInfo.load(spki_der)
    rewritten = keys.PublicKeyInfo(
        {
            "algorithm": keys.PublicKeyAlgorithm({"algorithm": "rsa"}),
            "public_key": info["public_key"].parsed,
        }
    )
    return bytes(rewritten.dump())


def load_verifying_key(spki_der: bytes) -> VerifyingKey:
    """An RSA or EC public key from a DER SubjectPublicKeyInfo, whatever its encoding."""
    try:
        described = parse_public_key_info(spki_der)
    except (LdsParseError, ValueError) as exc:
        raise UnsupportedKeyError(f"public key unreadable: {exc}") from exc
    if described.algorithm == "ec" and described.curve is None:
        raise UnsupportedKeyError("EC key on domain parameters that are no known curve")
    if described.algorithm == "dh":
        raise UnsupportedKeyError("DH key cannot verify signatures")
    der = described.named_spki()
    try:
        if described.algorithm == "rsa" and keys.PublicKeyInfo.load(der).algorithm != "rsa":
            der = _plain_rsa(der)
        key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise UnsupportedKeyError(f"public key not loadable ({exc.__class__.__name__})") from exc
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise UnsupportedKeyError("only RSA and EC keys verify document signatures")
    return key
