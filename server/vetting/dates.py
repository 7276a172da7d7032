"""EDIFACT dates and times as airlines write them (DTM and PNRGOV DAT/TVL composites)."""

from __future__ import annotations

import datetime as dt

# DTM format codes (UN/EDIFACT 2379) that API/PNR messages use
_FORMATS = {"101": "%y%m%d", "102": "%Y%m%d", "201": "%y%m%d%H%M", "203": "%Y%m%d%H%M"}
_BY_LENGTH = {6: "%y%m%d", 8: "%Y%m%d", 10: "%y%m%d%H%M", 12: "%Y%m%d%H%M"}


def parse_datetime(text: str, format_code: str = "") -> dt.datetime | None:
    """A UTC datetime, or None when ``text`` is empty or not a date in that format."""
    text = text.strip()
    if not text.isdigit():
        return None
    pattern = _FORMATS.get(format_code.strip()) or _BY_LENGTH.get(len(text))
    if pattern is None:
        return None
    try:
        return dt.datetime.strptime(text, pattern).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def parse_birth_date(text: str, today: dt.date) -> dt.date | None:
    """``YYMMDD`` (century: not in the future) or ``CCYYMMDD``; None when invalid."""
    text = text.strip()
    if not text.isdigit() or len(text) not in (6, 8):
        return None
    try:
        if len(text) == 8:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        year = 2000 + int(text[:2])
        if year > today.year:
            year -= 100
        return dt.date(year, int(text[2:4]), int(text[4:6]))
    except ValueError:
        return None


def parse_date(text: str) -> dt.date | None:
    """A document date (expiry, issue): ``YYMMDD`` in this century, or ``CCYYMMDD``."""
    moment = parse_datetime(text[:8] if len(text.strip()) == 8 else text[:6])
    return moment.date() if moment else None


def pnr_datetime(day: str, time: str = "") -> dt.datetime | None:
    """PNRGOV ``DDMMYY`` and ``HHMM`` (DAT, TVL, RCI) as UTC."""
    day, time = day.strip(), time.strip() or "0000"
    if not (day.isdigit() and len(day) == 6 and time.isdigit() and len(time) == 4):
        return None
    try:
        return dt.datetime.strptime(day + time, "%d%m%y%H%M").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
