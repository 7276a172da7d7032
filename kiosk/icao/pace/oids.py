"""Object identifiers of PACE and Chip Authentication (BSI TR-03110 / ICAO 9303 Part 11)."""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import core

from kiosk.icao.crypto import CipherKind

BSI_DE = "0.4.0.127.0.7"
ID_PACE = BSI_DE + ".2.2.4"
ID_CA = BSI_DE + ".2.2.3"
ID_PK_DH = BSI_DE + ".2.2.1.1"
ID_PK_ECDH = BSI_DE + ".2.2.1.2"

_CIPHERS = {
    1: (CipherKind.TDES, 16),
    2: (CipherKind.AES, 16),
    3: (CipherKind.AES, 24),
    4: (CipherKind.AES, 32),
}
_PACE_KINDS = {
    1: ("DH", "GM"),
    2: ("ECDH", "GM"),
    3: ("DH", "IM"),
    4: ("ECDH", "IM"),
    6: ("ECDH", "CAM"),
}
_CA_KINDS = {1: "DH", 2: "ECDH"}


@dataclass(frozen=True)
class ProtocolSuite:
    """What a PACE or CA object identifier stands for."""

    oid: str
    agreement: str  # "DH" or "ECDH"
    mapping: str | None  # "GM", "IM", "CAM" for PACE; None for CA
    cipher: CipherKind
    key_length: int


def _split(oid: str, prefix: str) -> tuple[int, int] | None:
    if not oid.startswith(prefix + "."):
        return None
    rest = oid[len(prefix) + 1 :].split(".")
    if len(rest) != 2 or not all(part.isdigit() for part in rest):
        return None
    return int(rest[0]), int(rest[1])


def pace_suite(oid: str) -> ProtocolSuite | None:
    """The PACE suite of ``oid``; None when it is not a known PACE protocol."""
    parts = _split(oid, ID_PACE)
    if parts is None or parts[0] not in _PACE_KINDS or parts[1] not in _CIPHERS:
        return None
    agreement, mapping = _PACE_KINDS[parts[0]]
    if mapping == "CAM" and parts[1] == 1:
        return None
    cipher, key_length = _CIPHERS[parts[1]]
    return ProtocolSuite(oid, agreement, mapping, cipher, key_length)


def ca_suite(oid: str) -> ProtocolSuite | None:
    """The Chip Authentication suite of ``oid``; None when unknown."""
    parts = _split(oid, ID_CA)
    if parts is None or parts[0] not in _CA_KINDS or parts[1] not in _CIPHERS:
        return None
    cipher, key_length = _CIPHERS[parts[1]]
    return ProtocolSuite(oid, _CA_KINDS[parts[0]], None, cipher, key_length)


def pace_oid(agreement: str, mapping: str, cipher: CipherKind, key_length: int) -> str:
    kind = {value: key for key, value in _PACE_KINDS.items()}[(agreement, mapping)]
    code = {value: key for key, value in _CIPHERS.items()}[(cipher, key_length)]
    return f"{ID_PACE}.{kind}.{code}"


def ca_oid(agreement: str, cipher: CipherKind, key_length: int) -> str:
    kind = {value: key for key, value in _CA_KINDS.items()}[agreement]
    code = {value: key for key, value in _CIPHERS.items()}[(cipher, key_length)]
    return f"{ID_CA}.{kind}.{code}"


def oid_contents(oid: str) -> bytes:
    """The DER content octets of ``oid`` (what tag 80 of MSE:Set AT carries)."""
    return bytes(core.ObjectIdentifier(oid).contents)


def oid_der(oid: str) -> bytes:
    """The full DER encoding (tag 06) of ``oid``."""
    return bytes(core.ObjectIdentifier(oid).dump())
