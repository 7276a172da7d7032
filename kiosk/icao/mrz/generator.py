"""Build valid MRZ lines from fields: for the simulated documents, the demo and the tests.

Names are given as Unicode and transliterated (ICAO 9303 Part 3); dates as dates, or as raw
YYMMDD text when a test needs an odd value (e.g. an unknown day ``7408<<``). A TD1 or TD2
document number longer than 9 characters overflows into the optional data (ICAO 9303 Part 5).
"""

from __future__ import annotations

import datetime as dt

from kiosk.icao.mrz.check_digits import MRZ_ALPHABET, check_digit
from kiosk.icao.mrz.countries import mrz_code
from kiosk.icao.mrz.dates import format_mrz_date
from kiosk.icao.mrz.errors import MrzBuildError
from kiosk.icao.mrz.formats import LAYOUTS, MrzFormat
from kiosk.icao.mrz.transliteration import build_name_field

DateLike = dt.date | str


def _text(value: str, length: int, what: str) -> str:
    text = value.upper().replace(" ", "<")
    if len(text) > length:
        raise MrzBuildError(f"{what} longer than {length} characters")
    if any(ch not in MRZ_ALPHABET for ch in text):
        raise MrzBuildError(f"{what} holds characters outside the MRZ alphabet")
    return text.ljust(length, "<")


def _date(value: DateLike, what: str) -> str:
    raw = format_mrz_date(value) if isinstance(value, dt.date) else value
    if len(raw) != 6 or any(ch not in "0123456789<" for ch in raw):
        raise MrzBuildError(f"{what} must be a date or 6 characters YYMMDD")
    return raw


def _sex(value: str) -> str:
    sex = value.upper() or "<"
    if sex not in ("M", "F", "X", "<"):
        raise MrzBuildError("sex must be M, F, X or <")
    return sex


def _number_and_optional(
    number: str, optional: str, optional_length: int, overflow_allowed: bool
) -> tuple[str, str]:
    """(9-character number + check digit, optional data field) with any overflow."""
    number = number.upper()
    if len(number) <= 9:
        padded = _text(number, 9, "document number")
        return padded + check_digit(padded), _text(optional, optional_length, "optional data")
    if not overflow_allowed:
        raise MrzBuildError("document number longer than 9 characters")
    full = _text(number, len(number), "document number")
    overflow = full[9:] + check_digit(full) + "<"
    rest = optional_length - len(overflow)
    if rest < 0:
        raise MrzBuildError("document number too long for the optional data field")
    return full[:9] + "<", overflow + _text(optional, rest, "optional data")


def _first_line(document_type: str, state: str, name: str) -> str:
    return _text(document_type, 2, "document type") + mrz_code(_text(state, 3, "state")) + name


def build_mrz(
    fmt: MrzFormat | str,
    *,
    surname: str,
    given_names: str,
    document_number: str,
    issuing_state: str,
    nationality: str,
    date_of_birth: DateLike,
    sex: str,
    date_of_expiry: DateLike,
    document_type: str | None = None,
    optional_data: str = "",
    optional_data_2: str = "",
) -> tuple[str, ...]:
    """The MRZ lines of a document of format ``fmt`` with these fields."""
    layout = LAYOUTS[MrzFormat(fmt)]
    kind = layout.format
    doc_type = document_type or {"TD1": "I", "TD2": "I", "TD3": "P"}.get(kind, "V")
    name_length = 30 if kind is MrzFormat.TD1 else layout.line_length - 5
    name = build_name_field(surname, given_names, name_length).text
    birth = _date(date_of_birth, "date of birth")
    expiry = _date(date_of_expiry, "date of expiry")
    dates = birth + check_digit(birth) + _sex(sex) + expiry + check_digit(expiry)
    nat = mrz_code(_text(nationality, 3, "nationality"))
    if kind is MrzFormat.TD1:
        number, optional = _number_and_optional(document_number, optional_data, 15, True)
        line1 = _text(doc_type, 2, "document type") + mrz_code(_text(issuing_state, 3, "state"))
        line1 += number + optional
        line2 = dates + nat + _text(optional_data_2, 11, "optional data 2")
        line2 += check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
        return line1, line2, name
    optional_length = {"TD2": 7, "TD3": 14, "MRVA": 16, "MRVB": 8}[kind]
    number, optional = _number_and_optional(
        document_number, optional_data, optional_length, kind is MrzFormat.TD2
    )
    line1 = _first_line(doc_type, issuing_state, name)
    line2 = number + nat + dates + optional
    if kind is MrzFormat.TD3:
        line2 += "<" if optional == "<" * 14 else check_digit(optional)
    if kind in (MrzFormat.TD2, MrzFormat.TD3):
        line2 += check_digit(line2[0:10] + line2[13:20] + line2[21:])
    return line1, line2


def make_td1(**fields: str | dt.date) -> tuple[str, ...]:
    return build_mrz(MrzFormat.TD1, **fields)  # type: ignore[arg-type]


def make_td2(**fields: str | dt.date) -> tuple[str, ...]:
    return build_mrz(MrzFormat.TD2, **fields)  # type: ignore[arg-type]


def make_td3(**fields: str | dt.date) -> tuple[str, ...]:
    return build_mrz(MrzFormat.TD3, **fields)  # type: ignore[arg-type]


def make_mrva(**fields: str | dt.date) -> tuple[str, ...]:
    return build_mrz(MrzFormat.MRVA, **fields)  # type: ignore[arg-type]


def make_mrvb(**fields: str | dt.date) -> tuple[str, ...]:
    return build_mrz(MrzFormat.MRVB, **fields)  # type: ignore[arg-type]
