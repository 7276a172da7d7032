"""EF.CardAccess: the SecurityInfos that announce PACE (ICAO 9303 Part 11 section 9.2).

Parsed with asn1crypto; anything malformed raises :class:`SecurityInfoError`. Only PACEInfo
entries are interpreted here; the full SecurityInfos of DG14 / EF.CardSecurity belong to the
LDS parser.
"""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import core

from kiosk.icao import tlv
from kiosk.icao.errors import SecurityInfoError, TlvError
from kiosk.icao.pace.oids import ID_PACE, ProtocolSuite, pace_suite

MAX_CARD_ACCESS_BYTES = 64 * 1024


class _SecurityInfo(core.Sequence):  # type: ignore[misc]
    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("required_data", core.Any),
        ("optional_data", core.Any, {"optional": True}),
    ]


class _SecurityInfos(core.SetOf):  # type: ignore[misc]
    _child_spec = _SecurityInfo


@dataclass(frozen=True)
class PaceInfo:
    """One PACEInfo: protocol, version and (optional) standard domain parameter id."""

    protocol_oid: str
    version: int
    parameter_id: int | None

    @property
    def suite(self) -> ProtocolSuite | None:
        return pace_suite(self.protocol_oid)


def parse_card_access(data: bytes) -> list[PaceInfo]:
    """All PACEInfo entries of EF.CardAccess (possibly none)."""
    if len(data) > MAX_CARD_ACCESS_BYTES:
        raise SecurityInfoError("EF.CardAccess is implausibly large")
    try:
        tlv.decode_one(data, 0x31)  # lengths checked before asn1crypto sees the bytes
    except TlvError as exc:
        raise SecurityInfoError(f"EF.CardAccess is not a DER SET: {exc}") from exc
    infos: list[PaceInfo] = []
    try:
        parsed = _SecurityInfos.load(data, strict=True)
        for item in parsed:
            oid = item["protocol"].dotted
            if not oid.startswith(ID_PACE + "."):
                continue
            version = core.Integer.load(item["required_data"].dump(), strict=True).native
            optional = item["optional_data"]
            parameter_id: int | None = None
            if optional.native is not None:
                parameter_id = core.Integer.load(optional.dump(), strict=True).native
            infos.append(PaceInfo(oid, int(version), parameter_id))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError) as exc:
        raise SecurityInfoError(f"EF.CardAccess could not be parsed: {exc}") from exc
    return infos


def encode_card_access(infos: list[PaceInfo]) -> bytes:
    """DER SecurityInfos holding ``infos`` (for personalisation and tests)."""
    items = []
    for info in infos:
        fields = {
            "protocol": core.ObjectIdentifier(info.protocol_oid),
            "required_data": core.Integer(info.version),
        }
        if info.parameter_id is not None:
            fields["optional_data"] = core.Integer(info.parameter_id)
        items.append(_SecurityInfo(fields))
    return bytes(_SecurityInfos(items).dump(force=True))
