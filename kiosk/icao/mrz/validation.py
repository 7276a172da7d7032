"""Field-by-field validation of an MRZ whose shape is known: the rules of ICAO 9303.

:func:`analyse` never raises on bad content: every problem becomes an :class:`MrzIssue`
naming the field and position, so callers (and the CLI) can show all of them at once.
"""

from __future__ import annotations

import datetime as dt

from kiosk.icao.mrz.checks import check_passes, check_specs, locate_document_number
from kiosk.icao.mrz.countries import is_known_code
from kiosk.icao.mrz.dates import (
    PartialDate,
    parse_birth_date,
    parse_expiry_date,
    parse_partial_birth_date,
)
from kiosk.icao.mrz.formats import Layout, Span
from kiosk.icao.mrz.records import MrzFields, MrzInformation, MrzIssue, MrzResult

LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
DIGITS = frozenset("0123456789")
ALLOWED: dict[str, frozenset[str]] = {
    "A": LETTERS | {"<"},
    "N": DIGITS | {"<"},
    "X": LETTERS | DIGITS | {"<"},
    "S": frozenset("MFX<"),
}
SEX_OUTPUT = {"M": "M", "F": "F", "X": "X", "<": ""}


class _Collector:
    def __init__(self, layout: Layout, lines: tuple[str, ...]) -> None:
        self.layout = layout
        self.lines = lines
        self.issues: list[MrzIssue] = []
        self.warnings: list[str] = []

    def raw(self, name: str) -> str:
        return self.layout.fields[name].take(self.lines)

    def error(self, name: str, message: str, offset: int = 0, span: Span | None = None) -> None:
        where = span or self.layout.fields[name]
        self.issues.append(MrzIssue(name, where.line + 1, where.start + offset + 1, message))


def _check_characters(c: _Collector) -> None:
    for name, span in c.layout.fields.items():
        allowed = ALLOWED[c.layout.kinds[name]]
        for offset, char in enumerate(span.take(c.lines)):
            if char not in allowed:
                c.error(name, "character not allowed in this field", offset)
                break


def _check_document_type(c: _Collector) -> str:
    raw = c.raw("document_type")
    if raw[0] not in c.layout.document_codes:
        c.error("document_type", f"document code must start with one of {c.layout.document_codes}")
    elif raw[1] == "V" and c.layout.document_codes == "ACI":
        c.error("document_type", "'V' may not follow A, C or I (ICAO 9303 Part 5)", 1)
    return raw.rstrip("<")


def _check_code(c: _Collector, name: str) -> str:
    raw = c.raw(name)
    code = raw.rstrip("<")
    if not code or "<" in code or not is_known_code(code):
        c.error(name, "not an ICAO 9303 Part 3 state or organisation code")
    return code


def _split_name(c: _Collector) -> tuple[str, str]:
    raw = c.raw("name")
    body = raw.rstrip("<")
    if not body:
        c.error("name", "the name is empty")
        return "", ""
    if body.startswith("<"):
        c.error("name", "the name starts with a filler")
    if raw[-1] != "<":
        c.warnings.append("name may be truncated")
    primary, _, secondary = body.partition("<<")
    if secondary.startswith("<") or "<<" in secondary:
        c.error("name", "more than one separator between primary and secondary identifiers")
    return " ".join(p for p in primary.split("<") if p), " ".join(
        p for p in secondary.split("<") if p
    )


def _dates(c: _Collector, today: dt.date) -> tuple[dt.date | PartialDate | None, dt.date | None]:
    raw_birth = c.raw("date_of_birth")
    birth: dt.date | PartialDate | None = parse_birth_date(raw_birth, today)
    if birth is None and "<" in raw_birth:
        birth = parse_partial_birth_date(raw_birth, today)
        if birth is not None:
            c.warnings.append("date of birth partly unknown")
    if birth is None:
        c.error("date_of_birth", "not a valid date of birth")
    expiry = parse_expiry_date(c.raw("date_of_expiry"), today)
    if expiry is None:
        c.error("date_of_expiry", "not a valid date of expiry")
    elif isinstance(birth, dt.date) and expiry < birth:
        c.error("date_of_expiry", "date of expiry before date of birth")
    elif expiry < today:
        c.warnings.append("document expired")
    return birth, expiry


def analyse(lines: tuple[str, ...], layout: Layout, today: dt.date) -> MrzResult:
    """Validate every field and check digit of ``lines`` (already known to have this shape)."""
    c = _Collector(layout, lines)
    _check_characters(c)
    document_type = _check_document_type(c)
    issuing_state = _check_code(c, "issuing_state")
    nationality = _check_code(c, "nationality")
    surname, given_names = _split_name(c)
    number = locate_document_number(layout, lines)
    number_text = "".join(lines[line][col] for line, col in number.positions)
    if number.malformed:
        c.error("document_number", "filler in the check digit but no long number follows", 9)
    if not number_text.strip("<") or number_text.startswith("<"):
        c.error("document_number", "the document number is empty or starts with a filler")
    birth, expiry = _dates(c, today)
    sex = c.raw("sex")
    checks: dict[str, bool] = {}
    for spec in check_specs(layout, lines):
        checks[spec.name] = check_passes(spec, lines)
        if not checks[spec.name]:
            line, col = spec.digit
            c.issues.append(MrzIssue(spec.name, line + 1, col + 1, "check digit does not match"))
    optional = "".join(lines[line][col] for line, col in number.optional_data)
    fields = MrzFields(
        document_type=document_type,
        issuing_state=issuing_state,
        surname=surname,
        given_names=given_names,
        document_number=number_text.rstrip("<"),
        nationality=nationality,
        date_of_birth=birth,
        sex=SEX_OUTPUT.get(sex, sex),
        date_of_expiry=expiry,
        optional_data=optional.strip("<"),
        optional_data_2=c.raw("optional_data_2").strip("<")
        if "optional_data_2" in layout.fields
        else None,
    )
    information = MrzInformation(number_text, c.raw("date_of_birth"), c.raw("date_of_expiry"))
    return MrzResult(
        format=layout.format,
        lines=lines,
        fields=fields,
        checks=checks,
        information=information,
        errors=tuple(c.issues),
        warnings=tuple(c.warnings),
    )
