"""Building MRZ lines of simulated documents (ICAO 9303 Parts 3, 4 and 5).

A small writer: check digits with weights 7-3-1 and the TD3 (passport) and TD1 (ID card)
layouts. Reading and validating MRZs is ``kiosk.icao.mrz``'s job; this module only writes what
personalisation needs.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from models.errors import ConfigError

_WEIGHTS = (7, 3, 1)
_FIELD = re.compile(r"[A-Z0-9<]*")


def check_digit(text: str) -> str:
    total = 0
    for i, ch in enumerate(text):
        if ch.isdigit():
            value = int(ch)
        elif "A" <= ch <= "Z":
            value = ord(ch) - 55
        elif ch == "<":
            value = 0
        else:
            raise ConfigError(f"character {ch!r} is not allowed in an MRZ")
        total += value * _WEIGHTS[i % 3]
    return str(total % 10)


def _field(text: str, size: int, what: str) -> str:
    value = text.upper().replace(" ", "<").replace("-", "<")
    if not _FIELD.fullmatch(value) or len(value) > size:
        raise ConfigError(f"MRZ {what} does not fit {size} characters A-Z 0-9 <")
    return value.ljust(size, "<")


def _date(value: dt.date) -> str:
    return value.strftime("%y%m%d")


def name_field(surname: str, given_names: str, size: int) -> str:
    primary = surname.upper().replace(" ", "<").replace("-", "<")
    secondary = given_names.upper().replace(" ", "<").replace("-", "<")
    text = f"{primary}<<{secondary}" if secondary else primary
    return _field(text[:size], size, "name")


@dataclass(frozen=True)
class MrzFields:
    document_type: str  # "P", "PM", "I", "ID" ...
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth_date: dt.date
    sex: str  # "M", "F" or "<"
    expiry_date: dt.date
    optional_data: str = ""


def td3_lines(f: MrzFields) -> str:
    """The two 44-character lines of a passport."""
    line1 = _field(f.document_type, 2, "document type") + _field(f.issuing_state, 3, "state")
    line1 += name_field(f.surname, f.given_names, 39)
    number = _field(f.document_number, 9, "document number")
    optional = _field(f.optional_data, 14, "optional data")
    optional_cd = check_digit(optional) if f.optional_data else "<"
    parts = [
        number + check_digit(number),
        _field(f.nationality, 3, "nationality"),
        _date(f.birth_date) + check_digit(_date(f.birth_date)),
        _field(f.sex, 1, "sex"),
        _date(f.expiry_date) + check_digit(_date(f.expiry_date)),
        optional + optional_cd,
    ]
    composite = parts[0] + parts[2] + parts[4] + parts[5]
    line2 = "".join(parts) + check_digit(composite)
    return f"{line1}\n{line2}"


def td1_lines(f: MrzFields) -> str:
    """The three 30-character lines of an ID card."""
    number = _field(f.document_number, 9, "document number")
    optional = _field(f.optional_data, 15, "optional data")
    line1 = _field(f.document_type, 2, "document type") + _field(f.issuing_state, 3, "state")
    line1 += number + check_digit(number) + optional
    birth = _date(f.birth_date) + check_digit(_date(f.birth_date))
    expiry = _date(f.expiry_date) + check_digit(_date(f.expiry_date))
    line2 = birth + _field(f.sex, 1, "sex") + expiry + _field(f.nationality, 3, "nationality")
    line2 += "<" * 11
    composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
    line2 += check_digit(composite)
    line3 = name_field(f.surname, f.given_names, 30)
    return f"{line1}\n{line2}\n{line3}"


def mrz_lines(f: MrzFields, layout: str = "TD3") -> str:
    if layout == "TD3":
        return td3_lines(f)
    if layout == "TD1":
        return td1_lines(f)
    raise ConfigError(f"unknown MRZ layout {layout!r}")


def mrz_information(f: MrzFields) -> str:
    """Document number, birth date and expiry date, each with its check digit (BAC / PACE
    MRZ password, ICAO 9303 Part 11 4.3.2)."""
    number = f.document_number.upper().ljust(9, "<")
    birth, expiry = _date(f.birth_date), _date(f.expiry_date)
    return number + check_digit(number) + birth + check_digit(birth) + expiry + check_digit(expiry)
