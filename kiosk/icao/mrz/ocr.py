"""OCR-tolerant correction of an MRZ whose check digits or character classes fail.

Two kinds of change are tried, using the usual OCR confusions O/0, I/1, S/5, B/8, Z/2, G/6:

* forced: a letter where the format wants a digit (dates, check digits) or a digit where it
  wants a letter (document code, state codes, names) can only be the other member of its
  pair, so it is replaced;
* searched: in the alphanumeric characters that a still-failing check digit covers
  (document number, optional data), either member of a pair may be right, so at most
  ``MAX_SWAPS`` of them are swapped, fewest first.

A correction is accepted only if exactly one candidate, among those with the fewest swaps,
satisfies every check digit and the corrected MRZ is valid; otherwise none is made. The search
is bounded: at most ``MAX_SEARCH_POSITIONS`` positions, so at most a few hundred candidates,
each scored with precomputed check-sum deltas.
"""

from __future__ import annotations

import datetime as dt
from itertools import combinations

from kiosk.icao.mrz.check_digits import CHAR_VALUES, WEIGHTS
from kiosk.icao.mrz.checks import (
    CheckSpec,
    all_fillers,
    check_passes,
    check_specs,
    locate_document_number,
    spec_sum,
)
from kiosk.icao.mrz.formats import Layout
from kiosk.icao.mrz.records import Correction, MrzResult
from kiosk.icao.mrz.validation import analyse

LETTER_TO_DIGIT = {"O": "0", "I": "1", "S": "5", "B": "8", "Z": "2", "G": "6"}
DIGIT_TO_LETTER = {digit: letter for letter, digit in LETTER_TO_DIGIT.items()}
SWAP = LETTER_TO_DIGIT | DIGIT_TO_LETTER
MAX_SWAPS = 2
MAX_SEARCH_POSITIONS = 24

Change = tuple[int, int, str]  # (line, column, new character), 0-based


def _position_kinds(
    layout: Layout, lines: tuple[str, ...]
) -> dict[tuple[int, int], tuple[str, str]]:
    """(line, column) -> (field name, kind), with the long-number check digit made numeric."""
    kinds: dict[tuple[int, int], tuple[str, str]] = {}
    for name, span in layout.fields.items():
        for col in range(span.start, span.end):
            kinds[(span.line, col)] = (name, layout.kinds[name])
    number = locate_document_number(layout, lines)
    if number.overflow:
        for position in number.positions:
            kinds[position] = ("document_number", "X")
        kinds[number.digit] = ("document_number_check", "N")
    return kinds


def _apply(lines: tuple[str, ...], changes: list[Change]) -> tuple[str, ...]:
    rows = [list(line) for line in lines]
    for line, col, char in changes:
        rows[line][col] = char
    return tuple("".join(row) for row in rows)


def _forced_changes(
    kinds: dict[tuple[int, int], tuple[str, str]], lines: tuple[str, ...]
) -> list[Change]:
    changes: list[Change] = []
    for (line, col), (_, kind) in kinds.items():
        char = lines[line][col]
        if kind == "N" and char in LETTER_TO_DIGIT:
            changes.append((line, col, LETTER_TO_DIGIT[char]))
        elif kind == "A" and char in DIGIT_TO_LETTER:
            changes.append((line, col, DIGIT_TO_LETTER[char]))
    return changes


def _search(
    specs: tuple[CheckSpec, ...],
    lines: tuple[str, ...],
    kinds: dict[tuple[int, int], tuple[str, str]],
) -> list[Change] | None:
    """The unique smallest set of alphanumeric swaps that makes every check pass, or None."""
    failing = [s for s in specs if not check_passes(s, lines)]
    if not failing:
        return []
    candidates = sorted(
        {
            p
            for spec in failing
            for p in spec.positions
            if kinds[p][1] == "X" and lines[p[0]][p[1]] in SWAP
        }
    )
    if not candidates or len(candidates) > MAX_SEARCH_POSITIONS:
        return None
    sums: list[int] = []
    for spec in specs:
        digit = lines[spec.digit[0]][spec.digit[1]]
        total = spec_sum(spec, lines)
        if total is None or not ("0" <= digit <= "9"):
            if digit == "<" and spec.filler_when_empty and all_fillers(spec, lines):
                sums.append(-1)  # passes whatever is swapped elsewhere
                continue
            return None
        sums.append((total - int(digit)) % 10)
    index = [{p: i for i, p in enumerate(spec.positions)} for spec in specs]
    deltas: dict[tuple[int, int], list[int]] = {}
    for p in candidates:
        old = lines[p[0]][p[1]]
        change = CHAR_VALUES[SWAP[old]] - CHAR_VALUES[old]
        deltas[p] = [
            change * WEIGHTS[index[k][p] % 3] if p in index[k] else 0 for k in range(len(specs))
        ]
    for size in range(1, MAX_SWAPS + 1):
        found = [
            combo
            for combo in combinations(candidates, size)
            if all(
                base < 0 or (base + sum(deltas[p][k] for p in combo)) % 10 == 0
                for k, base in enumerate(sums)
            )
        ]
        if len(found) == 1:
            return [(p[0], p[1], SWAP[lines[p[0]][p[1]]]) for p in found[0]]
        if found:
            return None  # ambiguous: refuse to guess
    return None


def correct(lines: tuple[str, ...], layout: Layout, today: dt.date) -> MrzResult | None:
    """The corrected, valid MRZ result with its corrections reported, or None."""
    kinds = _position_kinds(layout, lines)
    forced = _forced_changes(kinds, lines)
    base = _apply(lines, forced)
    kinds = _position_kinds(layout, base)
    searched = _search(check_specs(layout, base), base, kinds)
    if searched is None:
        return None
    changes = forced + searched
    if not changes:
        return None
    fixed = _apply(base, searched)
    result = analyse(fixed, layout, today)
    if not result.valid:
        return None
    corrections = tuple(
        Correction(kinds[(line, col)][0], line + 1, col + 1, lines[line][col], char)
        for line, col, char in sorted(changes)
    )
    return MrzResult(
        format=result.format,
        lines=result.lines,
        fields=result.fields,
        checks=result.checks,
        information=result.information,
        corrections=corrections,
        errors=result.errors,
        warnings=result.warnings,
    )
