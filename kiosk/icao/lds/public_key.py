"""SubjectPublicKeyInfo as DG15 and DG14 hold it: RSA, EC (named or explicit) or DH."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asn1crypto import core, keys

from kiosk.icao.lds.asn1_types import GenericPublicKeyInfo, parse_der
from kiosk.icao.lds.ec_params import canonical_curve_name, curve_of_specified, with_named_curve
from kiosk.icao.lds.errors import LdsParseError
from kiosk.icao.lds.oids import STANDARD_DOMAIN_PARAMETERS

MAX_KEY_BITS = 16384
# BSI TR-03110 algorithm identifier whose parameter is a standard domain parameter id.
STANDARDIZED_DOMAIN_PARAMETERS = "0.4.0.127.0.7.1.2"
# PKCS #3 dhKeyAgreement (what ICAO DG14 uses) and ANSI X9.42 dhpublicnumber.
DH_ALGORITHMS = ("1.2.840.113549.1.3.1", "1.2.840.10046.2.1")


@dataclass(frozen=True)
class PublicKey:
    """A chip's public key: the DER as stored, and what kind of key it is."""

    spki: bytes  # DER SubjectPublicKeyInfo exactly as stored
    algorithm: str  # "rsa", "ec" or "dh"
    curve: str | None = None  # EC: named curve, also when stored with explicit parameters
    explicit_parameters: bool = False  # True when the SPKI does not name the curve by OID
    key_bits: int | None = None

    def named_spki(self) -> bytes:
        """The SubjectPublicKeyInfo with a named curve (what ``cryptography`` loads)."""
        if self.algorithm == "ec" and self.explicit_parameters and self.curve:
            return with_named_curve(self.spki, self.curve)
        return self.spki


def _standardized(info: Any) -> PublicKey:
    parameter_id = core.Integer.load(info["algorithm"]["parameters"].dump()).native
    name = STANDARD_DOMAIN_PARAMETERS.get(int(parameter_id))
    if name is None:
        raise LdsParseError(f"unknown standard domain parameters {parameter_id}")
    if name.startswith("modp"):
        return PublicKey(info.dump(), "dh", curve=name)
    if len(info["public_key"].contents) < 2:
        raise LdsParseError("EC public point missing")
    return PublicKey(info.dump(), "ec", curve=name, explicit_parameters=True)


def public_key_from_info(info: Any) -> PublicKey:
    """Describe an already loaded asn1crypto ``PublicKeyInfo`` (raises on bad content)."""
    algorithm = info["algorithm"]["algorithm"].native
    if algorithm in ("rsa", "rsassa_pss"):
        modulus = int(info["public_key"].parsed["modulus"].native)
        if not 0 < modulus.bit_length() <= MAX_KEY_BITS:
            raise LdsParseError("RSA modulus of bad size")
        return PublicKey(info.dump(), "rsa", key_bits=modulus.bit_length())
    if algorithm == "ec":
        params = info["algorithm"]["parameters"]
        point = bytes(info["public_key"].native)
        if not point:
            raise LdsParseError("EC public point missing")
        if params.name == "named":
            return PublicKey(info.dump(), "ec", curve=canonical_curve_name(params.chosen.native))
        if params.name == "specified":
            curve = curve_of_specified(params.chosen)
            return PublicKey(info.dump(), "ec", curve=curve, explicit_parameters=True)
        raise LdsParseError("EC key with implicit parameters")
    raise LdsParseError(f"unsupported public key algorithm {info['algorithm']['algorithm'].dotted}")


def parse_public_key_info(der: bytes) -> PublicKey:
    def check(generic: Any) -> PublicKey:
        dotted = generic["algorithm"]["algorithm"].dotted
        if dotted == STANDARDIZED_DOMAIN_PARAMETERS:
            return _standardized(generic)
        if dotted in DH_ALGORITHMS:
            value = core.Integer.load(bytes(generic["public_key"].contents[1:]), strict=True).native
            if not 0 < int(value).bit_length() <= MAX_KEY_BITS:
                raise LdsParseError("DH public value of bad size")
            return PublicKey(bytes(der), "dh", key_bits=int(value).bit_length())
        return public_key_from_info(keys.PublicKeyInfo.load(bytes(der), strict=True))

    return parse_der(GenericPublicKeyInfo, der, "SubjectPublicKeyInfo", check)
