"""ICAO 9303 Part 3 check digits: weights 7, 3, 1 over character values, modulo 10.

Digits count as their value, letters A..Z as 10..35 and the filler ``<`` as 0.
"""

from __future__ import annotations

from kiosk.icao.mrz.errors import MrzError

MRZ_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")
WEIGHTS = (7, 3, 1)

CHAR_VALUES: dict[str, int] = {"<": 0}
CHAR_VALUES.update({str(d): d for d in range(10)})
CHAR_VALUES.update({chr(ord("A") + i): 10 + i for i in range(26)})


def weighted_sum(text: str) -> int:
    """The weighted sum of ``text`` (every character must be an MRZ character)."""
    total = 0
    for index, char in enumerate(text):
        value = CHAR_VALUES.get(char)
        if value is None:
            raise MrzError("character outside the MRZ alphabet in a check-digit field")
        total += value * WEIGHTS[index % 3]
    return total


def check_digit(text: str) -> str:
    """The check digit (``"0"``..``"9"``) of ``text``."""
    return str(weighted_sum(text) % 10)


def is_valid_check_digit(text: str, digit: str) -> bool:
    """True when ``digit`` is the check digit of ``text``; False on any bad character."""
    if len(digit) != 1 or not digit.isdigit() or not digit.isascii():
        return False
    try:
        return check_digit(text) == digit
    except MrzError:
        return False
