"""One entry point for every LDS file: parse by data group number or file name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.icao.lds._tlv import read_tlv
from kiosk.icao.lds.card_security import parse_card_security
from kiosk.icao.lds.com import DG_TAGS, parse_com
from kiosk.icao.lds.dg1 import parse_dg1
from kiosk.icao.lds.dg2 import parse_dg2
from kiosk.icao.lds.dg7 import parse_dg7
from kiosk.icao.lds.dg15 import parse_dg15
from kiosk.icao.lds.errors import LdsParseError
from kiosk.icao.lds.personal_details import parse_dg11, parse_dg12
from kiosk.icao.lds.security_infos import parse_card_access, parse_dg14
from kiosk.icao.lds.sod import parse_sod


@dataclass(frozen=True)
class RawDataGroup:
    """A data group this package does not interpret (DG3, DG4, DG5, ...): tag checked, kept raw."""

    raw: bytes
    number: int
    value: bytes


DG_PARSERS: dict[int, Callable[[bytes], Any]] = {
    1: parse_dg1,
    2: parse_dg2,
    7: parse_dg7,
    11: parse_dg11,
    12: parse_dg12,
    14: parse_dg14,
    15: parse_dg15,
}
FILE_PARSERS: dict[str, Callable[[bytes], Any]] = {
    "EF.COM": parse_com,
    "EF.SOD": parse_sod,
    "EF.CardAccess": parse_card_access,
    "EF.CardSecurity": parse_card_security,
}


def parse_data_group(number: int, data: bytes) -> Any:
    """Parse DG``number``; unknown data groups come back as :class:`RawDataGroup`."""
    if number not in DG_TAGS:
        raise LdsParseError(f"no data group {number}")
    parser = DG_PARSERS.get(number)
    if parser is not None:
        return parser(data)
    tlv, end = read_tlv(data)
    if tlv.tag != DG_TAGS[number] or end != len(data):
        raise LdsParseError(f"DG{number}: wrong tag or trailing bytes")
    return RawDataGroup(bytes(data), number, tlv.value)


def parse_lds_file(name: str, data: bytes) -> Any:
    """Parse a file named "EF.COM", "EF.SOD", "EF.CardAccess", "EF.CardSecurity" or "DG<n>"."""
    if name in FILE_PARSERS:
        return FILE_PARSERS[name](data)
    if name.startswith("DG") and name[2:].isdigit():
        return parse_data_group(int(name[2:]), data)
    raise LdsParseError(f"unknown LDS file {name!r}")
