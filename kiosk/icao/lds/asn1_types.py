"""asn1crypto specifications of the LDS structures that are plain DER (ICAO 9303 Part 10/11)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from asn1crypto import algos, core

from kiosk.icao.lds.errors import LdsParseError

T = TypeVar("T")
# What asn1crypto raises on malformed input (it parses lazily, so anywhere during inspection).
_ASN1CRYPTO_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    AttributeError,
    UnicodeDecodeError,
    RecursionError,
)


class DataGroupHash(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [
        ("data_group_number", core.Integer),
        ("data_group_hash_value", core.OctetString),
    ]


class DataGroupHashValues(core.SequenceOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = DataGroupHash


class LdsVersionInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [
        ("lds_version", core.PrintableString),
        ("unicode_version", core.PrintableString),
    ]


class LdsSecurityObject(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashValues),
        ("lds_version_info", LdsVersionInfo, {"optional": True}),
    ]


class SecurityInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """The generic shape every SecurityInfo has (BSI TR-03110 Part 3, A.1.1)."""

    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("required_data", core.Any),
        ("optional_data", core.Any, {"optional": True}),
    ]


class SecurityInfos(core.SetOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = SecurityInfo


class AlgorithmIdentifierAny(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class GenericPublicKeyInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """SubjectPublicKeyInfo with any algorithm (asn1crypto's own refuses unknown ones)."""

    _fields = [
        ("algorithm", AlgorithmIdentifierAny),
        ("public_key", core.BitString),
    ]


class DomainParameterInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """PACEDomainParameterInfo and ChipAuthenticationDomainParameterInfo."""

    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("domain_parameter", AlgorithmIdentifierAny),
        ("parameter_id", core.Integer, {"optional": True}),
    ]


def parse_der(spec: type[Any], data: bytes, what: str, check: Callable[[Any], T]) -> T:
    """Load ``data`` with ``spec`` (no trailing bytes) and run ``check`` on it, turning every
    asn1crypto failure into :class:`LdsParseError`.

    asn1crypto parses lazily and may raise several exception types on bad input, so the whole
    inspection happens inside this one boundary.
    """
    try:
        value = spec.load(bytes(data), strict=True)
        return check(value)
    except LdsParseError:
        raise
    except _ASN1CRYPTO_ERRORS as exc:
        raise LdsParseError(f"{what}: invalid DER ({exc.__class__.__name__})") from exc
