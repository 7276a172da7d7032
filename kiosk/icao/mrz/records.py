"""Typed records of a parsed MRZ.

Their ``repr`` never shows MRZ content, so a record that ends up in a log line or a traceback
does not leak personal data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from kiosk.icao.mrz.check_digits import check_digit
from kiosk.icao.mrz.dates import PartialDate, format_mrz_date
from kiosk.icao.mrz.errors import MrzError
from kiosk.icao.mrz.formats import MrzFormat


@dataclass(frozen=True, slots=True)
class MrzIssue:
    """A problem found in the MRZ: the field, its 1-based line and column, and what is wrong."""

    field: str
    line: int
    column: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "position": {"line": self.line, "column": self.column},
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Correction:
    """An OCR confusion that was corrected: field, 1-based line and column, from and to."""

    field: str
    line: int
    column: int
    original: str
    corrected: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "position": {"line": self.line, "column": self.column},
            "from": self.original,
            "to": self.corrected,
        }

    def __repr__(self) -> str:
        return f"Correction(field={self.field!r}, line={self.line}, column={self.column})"


@dataclass(frozen=True, slots=True)
class MrzInformation:
    """The 'MRZ information' that seeds the BAC and PACE keys (ICAO 9303 Part 11).

    ``document_number`` is the full number as in the MRZ (at least 9 characters, padded with
    fillers; longer TD1/TD2 numbers in full), the dates are the MRZ's YYMMDD text.
    """

    document_number: str
    date_of_birth: str
    date_of_expiry: str

    @classmethod
    def from_values(
        cls, document_number: str, date_of_birth: dt.date, date_of_expiry: dt.date
    ) -> MrzInformation:
        """Build it from a document number and real dates (the simulated chip uses this)."""
        number = document_number.upper().replace(" ", "").ljust(9, "<")
        return cls(number, format_mrz_date(date_of_birth), format_mrz_date(date_of_expiry))

    def text(self) -> str:
        """Number + check digit + birth date + check digit + expiry date + check digit."""
        try:
            return "".join(
                value + check_digit(value)
                for value in (self.document_number, self.date_of_birth, self.date_of_expiry)
            )
        except MrzError as exc:
            raise MrzError("MRZ information holds characters outside the MRZ alphabet") from exc

    def __repr__(self) -> str:
        return "MrzInformation(<hidden>)"


@dataclass(frozen=True, slots=True)
class MrzFields:
    """The fields of an MRZ, fillers removed, dates as dates."""

    document_type: str
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    date_of_birth: dt.date | PartialDate | None
    sex: str
    date_of_expiry: dt.date | None
    optional_data: str
    optional_data_2: str | None = None  # TD1 only: the optional data of the second line

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "document_type": self.document_type,
            "issuing_state": self.issuing_state,
            "surname": self.surname,
            "given_names": self.given_names,
            "document_number": self.document_number,
            "nationality": self.nationality,
            "date_of_birth": _iso(self.date_of_birth),
            "sex": self.sex,
            "date_of_expiry": _iso(self.date_of_expiry),
            "optional_data": self.optional_data,
        }
        if self.optional_data_2 is not None:
            data["optional_data_2"] = self.optional_data_2
        return data

    def __repr__(self) -> str:
        return "MrzFields(<hidden>)"


def _iso(value: dt.date | PartialDate | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True)
class MrzResult:
    """The outcome of parsing one MRZ: fields, check results, corrections, errors, warnings."""

    format: MrzFormat
    lines: tuple[str, ...]  # after any accepted correction
    fields: MrzFields
    checks: dict[str, bool]
    information: MrzInformation
    corrections: tuple[Correction, ...] = ()
    errors: tuple[MrzIssue, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def valid(self) -> bool:
        """Well-formed with every check digit right (after any accepted correction)."""
        return not self.errors and all(self.checks.values())

    def mrz_information(self) -> str:
        """The BAC/PACE 'MRZ information'; raises :class:`MrzError` unless its checks pass."""
        needed = ("document_number", "date_of_birth", "date_of_expiry")
        if not all(self.checks.get(name, False) for name in needed):
            raise MrzError("the MRZ information fails its check digits")
        return self.information.text()

    def require_valid(self) -> MrzResult:
        """Return self when valid, else raise :class:`MrzError` naming the failing fields."""
        if not self.valid:
            failing = sorted(
                {i.field for i in self.errors} | {k for k, v in self.checks.items() if not v}
            )
            raise MrzError(f"invalid MRZ ({self.format}): {', '.join(failing)}")
        return self

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "format": str(self.format),
            "fields": self.fields.as_dict(),
            "checks": dict(self.checks),
            "corrections": [c.as_dict() for c in self.corrections],
            "errors": [e.as_dict() for e in self.errors],
            "warnings": list(self.warnings),
        }

    def __repr__(self) -> str:
        return f"MrzResult(format={self.format}, valid={self.valid})"
