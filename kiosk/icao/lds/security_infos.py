"""SecurityInfos (BSI TR-03110 Part 3 / ICAO 9303 Part 11, 9.2): the protocols a chip offers.

They appear in DG14 (tag 6E), EF.CardAccess (bare) and EF.CardSecurity (signed, see
``card_security``). Unknown SecurityInfos are kept raw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asn1crypto import core

from kiosk.icao.lds import oids
from kiosk.icao.lds._tlv import encode_tlv, read_single
from kiosk.icao.lds.asn1_types import (
    DomainParameterInfo as _DomainParameterInfoSpec,
)
from kiosk.icao.lds.asn1_types import (
    SecurityInfos as _SecurityInfos,
)
from kiosk.icao.lds.asn1_types import (
    parse_der,
)
from kiosk.icao.lds.errors import LdsEncodeError, LdsParseError
from kiosk.icao.lds.public_key import PublicKey, parse_public_key_info

DG14_TAG = 0x6E
MAX_INFOS = 64


@dataclass(frozen=True)
class PaceInfo:
    protocol: str
    version: int
    parameter_id: int | None
    mapping: str  # "ecdh-gm", "dh-gm", "ecdh-im", "dh-im", "ecdh-cam"
    cipher: str | None

    @property
    def curve_or_group(self) -> str | None:
        if self.parameter_id is None:
            return None
        return oids.STANDARD_DOMAIN_PARAMETERS.get(self.parameter_id)


@dataclass(frozen=True)
class DomainParameters:
    """PACEDomainParameterInfo or ChipAuthenticationDomainParameterInfo (kept as DER)."""

    protocol: str
    domain_parameter: bytes
    parameter_id: int | None


@dataclass(frozen=True)
class ChipAuthenticationInfo:
    protocol: str
    version: int
    key_id: int | None
    agreement: str  # "ecdh" or "dh"
    cipher: str | None


@dataclass(frozen=True)
class ChipAuthenticationPublicKey:
    protocol: str
    public_key: PublicKey
    key_id: int | None


@dataclass(frozen=True)
class ActiveAuthenticationInfo:
    version: int
    signature_algorithm: str  # dotted OID (e.g. ecdsa-with-SHA256)


@dataclass(frozen=True)
class TerminalAuthenticationInfo:
    version: int
    ef_cvca: bytes | None


@dataclass(frozen=True)
class UnknownSecurityInfo:
    protocol: str
    raw: bytes


SecurityInfo = (
    PaceInfo
    | DomainParameters
    | ChipAuthenticationInfo
    | ChipAuthenticationPublicKey
    | ActiveAuthenticationInfo
    | TerminalAuthenticationInfo
    | UnknownSecurityInfo
)


@dataclass(frozen=True)
class SecurityInfos:
    raw: bytes  # DER SET as stored (without the DG14 tag)
    infos: tuple[SecurityInfo, ...]

    def of_type(self, kind: type[Any]) -> list[Any]:
        return [i for i in self.infos if isinstance(i, kind)]

    @property
    def pace(self) -> list[PaceInfo]:
        return self.of_type(PaceInfo)

    @property
    def chip_authentication(self) -> list[ChipAuthenticationInfo]:
        return self.of_type(ChipAuthenticationInfo)

    @property
    def chip_authentication_keys(self) -> list[ChipAuthenticationPublicKey]:
        return self.of_type(ChipAuthenticationPublicKey)

    @property
    def active_authentication(self) -> ActiveAuthenticationInfo | None:
        found = self.of_type(ActiveAuthenticationInfo)
        return found[0] if found else None


def _int(value: Any) -> int:
    if not isinstance(value, core.Integer):
        value = core.Integer.load(value.dump())
    number = int(value.native)
    if not 0 <= number < 1 << 32:
        raise LdsParseError("SecurityInfo integer out of range")
    return number


def _optional_int(value: Any) -> int | None:
    return None if value.native is None else _int(value)


def _ca_public_key(protocol: str, der: bytes) -> ChipAuthenticationPublicKey:
    """ChipAuthenticationPublicKeyInfo; some chips inline the SubjectPublicKeyInfo's two fields
    instead of nesting them, which is accepted too."""
    fields = read_single(der, 0x30).children()
    if len(fields) >= 3 and fields[1].tag == 0x30 and fields[2].tag == 0x03:
        spki, rest = encode_tlv(0x30, fields[1].raw + fields[2].raw), fields[3:]
    elif len(fields) >= 2 and fields[1].tag == 0x30:
        spki, rest = fields[1].raw, fields[2:]
    else:
        raise LdsParseError("ChipAuthenticationPublicKeyInfo without a public key")
    if len(rest) > 1 or (rest and rest[0].tag != 0x02):
        raise LdsParseError("ChipAuthenticationPublicKeyInfo: unexpected fields")
    key_id = _int(core.Integer.load(rest[0].raw)) if rest else None
    return ChipAuthenticationPublicKey(protocol, parse_public_key_info(spki), key_id)


def _one(item: Any) -> SecurityInfo:
    protocol = item["protocol"].dotted
    head = protocol.rpartition(".")[0]
    required, optional = item["required_data"], item["optional_data"]
    if head in oids.PACE_MAPPINGS:
        return PaceInfo(protocol, _int(required), _optional_int(optional),
                        oids.PACE_MAPPINGS[head], oids.pace_cipher(protocol))  # fmt: skip
    if protocol in oids.PACE_MAPPINGS or protocol in oids.CA_AGREEMENTS:
        info = _DomainParameterInfoSpec.load(item.dump(), strict=True)
        return DomainParameters(protocol, info["domain_parameter"].dump(),
                                    _optional_int(info["parameter_id"]))  # fmt: skip
    if head in oids.CA_AGREEMENTS:
        agreement = oids.CA_AGREEMENTS[head]
        cipher = oids.pace_cipher(protocol)
        return ChipAuthenticationInfo(
            protocol, _int(required), _optional_int(optional), agreement, cipher
        )
    if protocol in (oids.PK_DH, oids.PK_ECDH):
        return _ca_public_key(protocol, item.dump())
    if protocol == oids.ACTIVE_AUTHENTICATION:
        alg = core.ObjectIdentifier.load(optional.dump()).dotted if optional.native else ""
        return ActiveAuthenticationInfo(_int(required), alg)
    if protocol == oids.TA:
        ef = None
        if optional.native is not None:
            ef = bytes(optional.dump())
        return TerminalAuthenticationInfo(_int(required), ef)
    return UnknownSecurityInfo(protocol, item.dump())


def parse_security_infos(der: bytes) -> SecurityInfos:
    def check(value: Any) -> SecurityInfos:
        if len(value) > MAX_INFOS:
            raise LdsParseError("too many SecurityInfos")
        return SecurityInfos(bytes(der), tuple(_one(item) for item in value))

    return parse_der(_SecurityInfos, der, "SecurityInfos", check)


def parse_dg14(data: bytes) -> SecurityInfos:
    return parse_security_infos(read_single(data, DG14_TAG).value)


def parse_card_access(data: bytes) -> SecurityInfos:
    """EF.CardAccess is a bare DER SecurityInfos."""
    return parse_security_infos(data)


# --- encoders -------------------------------------------------------------------------------


def _seq(*parts: bytes) -> bytes:
    return encode_tlv(0x30, b"".join(parts))


def _der_int(value: int) -> bytes:
    return bytes(core.Integer(value).dump())


def _der_oid(dotted: str) -> bytes:
    return bytes(core.ObjectIdentifier(dotted).dump())


def pace_info(mapping_oid: str, cipher: int, parameter_id: int, version: int = 2) -> bytes:
    """DER PACEInfo; ``cipher`` is the last arc (2 = AES-128, 1 = 3DES ...)."""
    if mapping_oid not in oids.PACE_MAPPINGS or cipher not in oids.CIPHER_SUFFIXES:
        raise LdsEncodeError("unknown PACE protocol")
    return _seq(_der_oid(f"{mapping_oid}.{cipher}"), _der_int(version), _der_int(parameter_id))


def chip_authentication_info(
    agreement_oid: str, cipher: int, key_id: int | None, version: int = 1
) -> bytes:
    if agreement_oid not in oids.CA_AGREEMENTS or cipher not in oids.CIPHER_SUFFIXES:
        raise LdsEncodeError("unknown CA protocol")
    tail = _der_int(key_id) if key_id is not None else b""
    return _seq(_der_oid(f"{agreement_oid}.{cipher}"), _der_int(version), tail)


def chip_authentication_public_key_info(
    spki_der: bytes, key_id: int | None, dh: bool = False
) -> bytes:
    tail = _der_int(key_id) if key_id is not None else b""
    return _seq(_der_oid(oids.PK_DH if dh else oids.PK_ECDH), spki_der, tail)


def active_authentication_info(signature_algorithm_oid: str, version: int = 1) -> bytes:
    return _seq(
        _der_oid(oids.ACTIVE_AUTHENTICATION), _der_int(version), _der_oid(signature_algorithm_oid)
    )


def terminal_authentication_info(version: int = 1) -> bytes:
    return _seq(_der_oid(oids.TA), _der_int(version))


def encode_security_infos(infos: list[bytes]) -> bytes:
    """DER SET OF the given DER SecurityInfo elements (sorted as DER requires)."""
    return encode_tlv(0x31, b"".join(sorted(infos)))


def encode_dg14(infos: list[bytes]) -> bytes:
    return encode_tlv(DG14_TAG, encode_security_infos(infos))
