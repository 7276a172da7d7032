"""Machine readable zones (ICAO 9303 Parts 3 to 7): parse, validate, correct, build.

Typical use::

    result = parse_mrz(text)              # OCR-tolerant; parse_mrz(text, strict=True) is not
    if result.valid:
        seed = result.mrz_information()   # for BAC / PACE key derivation
"""

from __future__ import annotations

from kiosk.icao.mrz.check_digits import check_digit
from kiosk.icao.mrz.countries import KNOWN_CODES, is_known_code
from kiosk.icao.mrz.dates import PartialDate
from kiosk.icao.mrz.errors import MrzBuildError, MrzError, MrzUnreadableError, TransliterationError
from kiosk.icao.mrz.formats import MrzFormat
from kiosk.icao.mrz.generator import (
    build_mrz,
    make_mrva,
    make_mrvb,
    make_td1,
    make_td2,
    make_td3,
)
from kiosk.icao.mrz.parser import MAX_INPUT_BYTES, decode_input, parse_mrz
from kiosk.icao.mrz.records import Correction, MrzFields, MrzInformation, MrzIssue, MrzResult
from kiosk.icao.mrz.transliteration import NameField, build_name_field, transliterate

__all__ = [
    "KNOWN_CODES",
    "MAX_INPUT_BYTES",
    "Correction",
    "MrzBuildError",
    "MrzError",
    "MrzFields",
    "MrzFormat",
    "MrzInformation",
    "MrzIssue",
    "MrzResult",
    "MrzUnreadableError",
    "NameField",
    "PartialDate",
    "TransliterationError",
    "build_mrz",
    "build_name_field",
    "check_digit",
    "decode_input",
    "is_known_code",
    "make_mrva",
    "make_mrvb",
    "make_td1",
    "make_td2",
    "make_td3",
    "parse_mrz",
    "transliterate",
]
