"""Typed errors of the LDS parsers."""

from __future__ import annotations

from models.errors import ParseError


class LdsParseError(ParseError):
    """A file of the chip (EF.COM, EF.SOD, a data group...) is malformed."""

    code = "lds_malformed"


class LdsEncodeError(ValueError):
    """Values given to an LDS encoder cannot be encoded (a programming error, not bad input)."""
