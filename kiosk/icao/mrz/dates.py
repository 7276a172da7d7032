"""MRZ dates (YYMMDD) and the inference of their century.

The MRZ keeps two digits of the year. A date of birth lies in the past, so it gets the latest
century that does not put it after today. A date of expiry lies in a validity window around
today: from ``EXPIRY_YEARS_BACK`` years ago up to ``EXPIRY_YEARS_AHEAD`` years ahead (no
document type is valid for more than ten years, so twenty leaves room for renewal rules).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

EXPIRY_YEARS_AHEAD = 20
EXPIRY_YEARS_BACK = 100 - EXPIRY_YEARS_AHEAD


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date of birth whose month or day is unknown (filled with ``<`` in the MRZ)."""

    year: int
    month: int | None

    def isoformat(self) -> str:
        return f"{self.year:04d}" if self.month is None else f"{self.year:04d}-{self.month:02d}"


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _split(raw: str) -> tuple[int, int, int] | None:
    if len(raw) != 6 or not raw.isascii() or not raw.isdigit():
        return None
    return int(raw[0:2]), int(raw[2:4]), int(raw[4:6])


def parse_birth_date(raw: str, today: dt.date) -> dt.date | None:
    """The date of birth of a YYMMDD field, or None when it is not a calendar date."""
    parts = _split(raw)
    if parts is None:
        return None
    yy, month, day = parts
    century = today.year // 100 * 100
    for year in (century + yy, century - 100 + yy):
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate <= today:
            return candidate
    return None


def parse_partial_birth_date(raw: str, today: dt.date) -> PartialDate | None:
    """A date of birth with unknown day (``YYMM<<``) or month and day (``YY<<<<``)."""
    if len(raw) != 6 or not raw[0:2].isdigit() or not raw.isascii():
        return None
    yy = int(raw[0:2])
    century = today.year // 100 * 100
    year = century + yy if century + yy <= today.year else century - 100 + yy
    if raw[2:] == "<<<<":
        return PartialDate(year, None)
    if raw[4:] == "<<" and raw[2:4].isdigit() and 1 <= int(raw[2:4]) <= 12:
        month = int(raw[2:4])
        if (year, month) > (today.year, today.month):
            year -= 100
        return PartialDate(year, month)
    return None


def parse_expiry_date(raw: str, today: dt.date) -> dt.date | None:
    """The date of expiry of a YYMMDD field, or None when it is not a calendar date."""
    parts = _split(raw)
    if parts is None:
        return None
    yy, month, day = parts
    century = today.year // 100 * 100
    for year in (century + 100 + yy, century + yy, century - 100 + yy):
        if today.year - EXPIRY_YEARS_BACK <= year <= today.year + EXPIRY_YEARS_AHEAD:
            return _safe_date(year, month, day)
    return None


def format_mrz_date(value: dt.date) -> str:
    """YYMMDD of a date."""
    return value.strftime("%y%m%d")
