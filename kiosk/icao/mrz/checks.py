"""Which characters each check digit covers, for a given MRZ.

The coverage is fixed by the layout except for TD1/TD2 long document numbers (ICAO 9303
Part 5 and 6): when the document-number check digit position holds a filler, the number goes
on in the optional data up to the next filler, and its check digit is the last character
before that filler.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.icao.mrz.check_digits import CHAR_VALUES, WEIGHTS
from kiosk.icao.mrz.formats import Layout

Position = tuple[int, int]  # (line, column), 0-based


@dataclass(frozen=True, slots=True)
class CheckSpec:
    name: str  # the field the check guards: document_number, date_of_birth, ..., composite
    positions: tuple[Position, ...]
    digit: Position
    filler_when_empty: bool = False  # TD3 personal number: '<' allowed when all fillers


@dataclass(frozen=True, slots=True)
class DocumentNumber:
    """Where the document number lies: its positions, its check digit, the optional data left."""

    positions: tuple[Position, ...]
    digit: Position
    optional_data: tuple[Position, ...]  # the optional data positions not used by the number
    overflow: bool
    malformed: bool  # check digit position holds '<' but no overflow follows


def _positions(layout: Layout, name: str) -> tuple[Position, ...]:
    span = layout.fields[name]
    return tuple((span.line, col) for col in range(span.start, span.end))


def locate_document_number(layout: Layout, lines: tuple[str, ...]) -> DocumentNumber:
    number = _positions(layout, "document_number")
    digit = _positions(layout, "document_number_check")[0]
    optional = _positions(layout, "optional_data")
    if not layout.long_document_number or lines[digit[0]][digit[1]] != "<":
        return DocumentNumber(number, digit, optional, overflow=False, malformed=False)
    run = 0
    for line, col in optional:
        if lines[line][col] == "<":
            break
        run += 1
    if run < 2:  # at least one more character of the number, then its check digit
        return DocumentNumber(number, digit, optional, overflow=False, malformed=True)
    return DocumentNumber(
        number + optional[: run - 1],
        optional[run - 1],
        optional[run + 1 :],
        overflow=True,
        malformed=False,
    )


def check_specs(layout: Layout, lines: tuple[str, ...]) -> tuple[CheckSpec, ...]:
    number = locate_document_number(layout, lines)
    specs = [
        CheckSpec("document_number", number.positions, number.digit),
        CheckSpec(
            "date_of_birth",
            _positions(layout, "date_of_birth"),
            _positions(layout, "date_of_birth_check")[0],
        ),
        CheckSpec(
            "date_of_expiry",
            _positions(layout, "date_of_expiry"),
            _positions(layout, "date_of_expiry_check")[0],
        ),
    ]
    if "optional_data_check" in layout.fields:
        specs.append(
            CheckSpec(
                "optional_data",
                _positions(layout, "optional_data"),
                _positions(layout, "optional_data_check")[0],
                filler_when_empty=True,
            )
        )
    if layout.composite:
        covered = tuple(
            (span.line, col) for span in layout.composite for col in range(span.start, span.end)
        )
        specs.append(CheckSpec("composite", covered, _positions(layout, "composite_check")[0]))
    return tuple(specs)


def spec_sum(spec: CheckSpec, lines: tuple[str, ...]) -> int | None:
    """The weighted sum of the covered characters, or None if one is outside the alphabet."""
    total = 0
    for index, (line, col) in enumerate(spec.positions):
        value = CHAR_VALUES.get(lines[line][col])
        if value is None:
            return None
        total += value * WEIGHTS[index % 3]
    return total


def all_fillers(spec: CheckSpec, lines: tuple[str, ...]) -> bool:
    return all(lines[line][col] == "<" for line, col in spec.positions)


def check_passes(spec: CheckSpec, lines: tuple[str, ...]) -> bool:
    digit = lines[spec.digit[0]][spec.digit[1]]
    if digit == "<" and spec.filler_when_empty:
        return all_fillers(spec, lines)
    if not ("0" <= digit <= "9"):
        return False
    total = spec_sum(spec, lines)
    return total is not None and total % 10 == int(digit)
