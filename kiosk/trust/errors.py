"""Typed errors of trust-store imports."""

from __future__ import annotations

from models.errors import ParseError


class TrustFileError(ParseError):
    """A trust file (master list, certificate, CRL, LDIF) is malformed or of an unknown kind."""

    code = "trust_file_invalid"
