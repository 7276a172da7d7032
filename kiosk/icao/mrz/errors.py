"""Typed errors of the MRZ package (subclasses of the project's :class:`ParseError`).

Messages never carry MRZ content: they name fields and positions only.
"""

from __future__ import annotations

from models.errors import ParseError


class MrzError(ParseError):
    """The machine readable zone is not valid."""

    code = "mrz_invalid"


class MrzUnreadableError(MrzError):
    """The input is not a machine readable zone at all (wrong shape, binary, too large)."""

    code = "mrz_unreadable"


class MrzBuildError(MrzError):
    """Fields given to the MRZ generator cannot be encoded."""

    code = "mrz_build_error"


class TransliterationError(MrzError):
    """A name holds a character that ICAO 9303 Part 3 gives no transliteration for."""

    code = "mrz_transliteration_error"
