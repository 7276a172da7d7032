"""Layouts of the five MRZ formats of ICAO 9303 (Parts 4 to 7).

Each layout names its fields as spans of (line, start, end) with 0-based, end-exclusive
columns, says what characters each position may hold, and which spans feed the composite
check digit. Character kinds: ``A`` letters and filler, ``N`` digits (and filler where a date
or check digit may be unknown), ``X`` letters, digits and filler, ``S`` the sex.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MrzFormat(StrEnum):
    TD1 = "TD1"
    TD2 = "TD2"
    TD3 = "TD3"
    MRVA = "MRVA"
    MRVB = "MRVB"


@dataclass(frozen=True, slots=True)
class Span:
    line: int
    start: int
    end: int

    def take(self, lines: tuple[str, ...]) -> str:
        return lines[self.line][self.start : self.end]


@dataclass(frozen=True, slots=True)
class Layout:
    format: MrzFormat
    line_count: int
    line_length: int
    fields: dict[str, Span]
    kinds: dict[str, str]  # field name -> character kind
    composite: tuple[Span, ...]  # empty when the format has no composite check digit
    long_document_number: bool  # TD1/TD2: the number may overflow into the optional data
    document_codes: str  # allowed first characters of the document code

    @property
    def total_length(self) -> int:
        return self.line_count * self.line_length


_KINDS = {
    "document_type": "A",
    "issuing_state": "A",
    "name": "A",
    "document_number": "X",
    "document_number_check": "N",
    "nationality": "A",
    "date_of_birth": "N",
    "date_of_birth_check": "N",
    "sex": "S",
    "date_of_expiry": "N",
    "date_of_expiry_check": "N",
    "optional_data": "X",
    "optional_data_2": "X",
    "optional_data_check": "N",
    "composite_check": "N",
}


def _second_line(optional_end: int, *, optional_check: bool, composite: bool) -> dict[str, Span]:
    """The second line shared by TD2, TD3, MRV-A and MRV-B."""
    spans = {
        "document_number": Span(1, 0, 9),
        "document_number_check": Span(1, 9, 10),
        "nationality": Span(1, 10, 13),
        "date_of_birth": Span(1, 13, 19),
        "date_of_birth_check": Span(1, 19, 20),
        "sex": Span(1, 20, 21),
        "date_of_expiry": Span(1, 21, 27),
        "date_of_expiry_check": Span(1, 27, 28),
        "optional_data": Span(1, 28, optional_end),
    }
    if optional_check:
        spans["optional_data_check"] = Span(1, optional_end, optional_end + 1)
    if composite:
        start = optional_end + int(optional_check)
        spans["composite_check"] = Span(1, start, start + 1)
    return spans


def _first_line(length: int) -> dict[str, Span]:
    return {
        "document_type": Span(0, 0, 2),
        "issuing_state": Span(0, 2, 5),
        "name": Span(0, 5, length),
    }


def _layout(
    fmt: MrzFormat,
    count: int,
    length: int,
    fields: dict[str, Span],
    composite: tuple[Span, ...],
    codes: str,
) -> Layout:
    return Layout(
        format=fmt,
        line_count=count,
        line_length=length,
        fields=fields,
        kinds={name: _KINDS[name] for name in fields},
        composite=composite,
        long_document_number=fmt in (MrzFormat.TD1, MrzFormat.TD2),
        document_codes=codes,
    )


TD1 = _layout(
    MrzFormat.TD1,
    3,
    30,
    {
        "document_type": Span(0, 0, 2),
        "issuing_state": Span(0, 2, 5),
        "document_number": Span(0, 5, 14),
        "document_number_check": Span(0, 14, 15),
        "optional_data": Span(0, 15, 30),
        "date_of_birth": Span(1, 0, 6),
        "date_of_birth_check": Span(1, 6, 7),
        "sex": Span(1, 7, 8),
        "date_of_expiry": Span(1, 8, 14),
        "date_of_expiry_check": Span(1, 14, 15),
        "nationality": Span(1, 15, 18),
        "optional_data_2": Span(1, 18, 29),
        "composite_check": Span(1, 29, 30),
        "name": Span(2, 0, 30),
    },
    (Span(0, 5, 30), Span(1, 0, 7), Span(1, 8, 15), Span(1, 18, 29)),
    "ACI",
)
TD2 = _layout(
    MrzFormat.TD2,
    2,
    36,
    _first_line(36) | _second_line(35, optional_check=False, composite=True),
    (Span(1, 0, 10), Span(1, 13, 20), Span(1, 21, 35)),
    "ACI",
)
TD3 = _layout(
    MrzFormat.TD3,
    2,
    44,
    _first_line(44) | _second_line(42, optional_check=True, composite=True),
    (Span(1, 0, 10), Span(1, 13, 20), Span(1, 21, 43)),
    "P",
)
MRVA = _layout(
    MrzFormat.MRVA,
    2,
    44,
    _first_line(44) | _second_line(44, optional_check=False, composite=False),
    (),
    "V",
)
MRVB = _layout(
    MrzFormat.MRVB,
    2,
    36,
    _first_line(36) | _second_line(36, optional_check=False, composite=False),
    (),
    "V",
)

LAYOUTS: dict[MrzFormat, Layout] = {layout.format: layout for layout in (TD1, TD2, TD3, MRVA, MRVB)}


def layout_for(lines: tuple[str, ...]) -> Layout | None:
    """The layout whose shape (line count and lengths) the lines have, or None."""
    if not lines or any(len(line) != len(lines[0]) for line in lines):
        return None
    shape = (len(lines), len(lines[0]))
    if shape == (3, 30):
        return TD1
    visa = lines[0][:1] == "V"
    if shape == (2, 36):
        return MRVB if visa else TD2
    if shape == (2, 44):
        return MRVA if visa else TD3
    return None
