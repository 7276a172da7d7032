"""Reading lost/stolen, watchlist and manifest files (CSV with a header row, or JSON).

Rows are read one at a time and handed on in batches, so a list of ten million documents
never sits in memory whole (JSON files are parsed whole, so they are capped in size; a CSV
field longer than the csv module's limit, 128 KiB, makes the file unreadable). A bad
row is rejected with its row number and a reason that names fields, never their values; the
rest of the file still loads. ``progress(rows_read)`` is called every ``progress_every`` rows
and once at the end.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from kiosk.screening.lost_stolen import DocumentKey
from kiosk.screening.manifest import ManifestEntry
from kiosk.screening.matching import PartialDate
from kiosk.screening.normalise import name_tokens, normalise_code
from kiosk.screening.watchlist import WatchlistEntry
from models.errors import KioskError, ParseError

MAX_JSON_BYTES = 256 * 2**20
MAX_REJECTS_KEPT = 1000
BATCH_ROWS = 10_000

Record = TypeVar("Record")
Progress = Callable[[int], None]


class ListKind(StrEnum):
    LOST_STOLEN = "lost_stolen"
    WATCHLIST = "watchlist"
    MANIFEST = "manifest"


class ImportFileError(ParseError):
    """A list file cannot be read at all (missing, not CSV/JSON, no header, too large)."""

    code = "screening_import_failed"


class RowError(ValueError):
    """One row is unusable; the message names the field and the problem."""


@dataclass(frozen=True, slots=True)
class RejectedRow:
    row: int
    reason: str


@dataclass
class ImportSummary:
    kind: ListKind
    rows: int = 0
    added: int = 0
    rejected: int = 0
    rejects: list[RejectedRow] = field(default_factory=list)

    def reject(self, row: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejects) < MAX_REJECTS_KEPT:
            self.rejects.append(RejectedRow(row, reason))

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "rows": self.rows,
            "added": self.added,
            "rejected": self.rejected,
            "rejects": [{"row": r.row, "reason": r.reason} for r in self.rejects],
        }


# --- fields -----------------------------------------------------------------------------


def _text(row: Mapping[str, Any], name: str, *, required: bool = True, max_len: int = 120) -> str:
    value = row.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RowError(f"{name} is missing")
        return ""
    if not isinstance(value, str | int):
        raise RowError(f"{name} is not text")
    text = str(value).strip()
    if len(text) > max_len:
        raise RowError(f"{name} is longer than {max_len} characters")
    return text


def _code(row: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    code = normalise_code(_text(row, name, required=required, max_len=3))
    if (required or code) and not 1 <= len(code) <= 3:
        raise RowError(f"{name} is not a 1 to 3 letter code")
    return code


def _date(row: Mapping[str, Any], name: str, *, required: bool = False) -> dt.date | None:
    text = _text(row, name, required=required, max_len=10)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise RowError(f"{name} is not a date YYYY-MM-DD") from exc


def _partial_date(row: Mapping[str, Any], name: str) -> PartialDate | None:
    text = _text(row, name, required=False, max_len=10)
    if not text:
        return None
    try:
        return PartialDate.parse(text)
    except ParseError as exc:
        raise RowError(f"{name} is not YYYY[-MM[-DD]]") from exc


def _name(row: Mapping[str, Any], name: str, *, required: bool) -> str:
    text = _text(row, name, required=required)
    if required and not name_tokens(text):
        raise RowError(f"{name} has no letters")
    return text


def _document_number(row: Mapping[str, Any]) -> str:
    number = _text(row, "document_number", max_len=30)
    key = DocumentKey.of("X", "", number)
    if not 1 <= len(key.number) <= 20:
        raise RowError("document_number is not 1 to 20 letters and digits")
    return number


# --- rows -> records --------------------------------------------------------------------


def lost_stolen_row(row: Mapping[str, Any]) -> DocumentKey:
    doc_type = _text(row, "doc_type", required=False, max_len=2)
    return DocumentKey.of(_code(row, "issuer"), doc_type, _document_number(row))


def watchlist_row(row: Mapping[str, Any], default_list: str) -> WatchlistEntry:
    return WatchlistEntry(
        reference=_text(row, "reference", max_len=60),
        list_name=_text(row, "list_name", required=False, max_len=32) or default_list,
        surname=_name(row, "surname", required=True),
        given_names=_name(row, "given_names", required=False),
        birth_date=_partial_date(row, "birth_date"),
        nationality=_code(row, "nationality", required=False),
    )


def manifest_row(row: Mapping[str, Any]) -> ManifestEntry:
    sex = _text(row, "sex", required=False, max_len=1).upper()
    if sex not in ("", "M", "F", "X", "<"):
        raise RowError("sex is not M, F or X")
    arrival = _date(row, "arrival_date", required=True)
    if arrival is None:  # pragma: no cover - required=True already refused it
        raise RowError("arrival_date is missing")
    return ManifestEntry(
        surname=_name(row, "surname", required=True),
        given_names=_name(row, "given_names", required=False),
        document_number=_document_number(row),
        issuer=_code(row, "issuer"),
        nationality=_code(row, "nationality", required=False),
        birth_date=_date(row, "birth_date"),
        sex=sex.replace("<", "X"),
        expiry_date=_date(row, "expiry_date"),
        flight=_text(row, "flight", max_len=16).upper(),
        arrival_date=arrival,
    )


# --- files ------------------------------------------------------------------------------


REQUIRED_COLUMNS: dict[ListKind, tuple[str, ...]] = {
    ListKind.LOST_STOLEN: ("issuer", "document_number"),
    ListKind.WATCHLIST: ("reference", "surname"),
    ListKind.MANIFEST: ("surname", "document_number", "issuer", "flight", "arrival_date"),
}


class _Lines:
    """The file's lines as text, counting them; a line that is not UTF-8 is an error naming
    its line and the byte offset (in the file) of the first bad byte."""

    def __init__(self, path: Path, handle: BinaryIO) -> None:
        self.path, self._handle = path, handle
        self.line = 0  # lines handed out so far
        self._offset = 0

    def __iter__(self) -> Iterator[str]:
        for raw in self._handle:
            self.line += 1
            bom = 3 if self.line == 1 and raw.startswith(b"\xef\xbb\xbf") else 0
            try:
                text = raw[bom:].decode("utf-8")
            except UnicodeDecodeError as exc:
                position = self._offset + bom + exc.start
                raise ImportFileError(
                    f"{self.path.name}: line {self.line} is not UTF-8 (byte {position} of the "
                    f"file, value 0x{raw[bom + exc.start]:02x}); save the file as UTF-8"
                ) from exc
            self._offset += len(raw)
            yield text


def _check_header(path: Path, kind: ListKind | None, fieldnames: Sequence[str] | None) -> None:
    if not fieldnames or not any(name.strip() for name in fieldnames):
        raise ImportFileError(f"{path.name}: no header row")
    if kind is None:
        return
    columns = {name.strip() for name in fieldnames}
    missing = [name for name in REQUIRED_COLUMNS[kind] if name not in columns]
    if missing:
        hint = ""
        if len(fieldnames) == 1 and any(sep in fieldnames[0] for sep in ";\t|"):
            hint = "; the separator must be a comma"
        raise ImportFileError(
            f"{path.name}: the header has no column {', '.join(missing)} "
            f"(a {kind.value} file needs {', '.join(REQUIRED_COLUMNS[kind])}){hint}"
        )


def _csv_rows(path: Path, kind: ListKind | None = None) -> Iterator[tuple[int, Mapping[str, Any]]]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ImportFileError(f"{path.name}: cannot be opened ({exc.__class__.__name__})") from exc
    with handle:
        lines = _Lines(path, handle)
        reader = csv.DictReader(lines, strict=True)
        try:
            fieldnames = reader.fieldnames
        except csv.Error as exc:
            raise ImportFileError(f"{path.name}: the header row is not valid CSV ({exc})") from exc
        _check_header(path, kind, fieldnames)
        while True:
            start = lines.line + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ImportFileError(
                    f"{path.name}: row at line {start} is not valid CSV: a quote is not "
                    f"closed, or a character follows a closing quote ({exc})"
                ) from exc
            if any(isinstance(v, str) and ("\n" in v or "\r" in v) for v in row.values()):
                raise ImportFileError(
                    f"{path.name}: row at line {start} has a quote that is not closed on its "
                    "line (it would swallow the rows after it)"
                )
            yield lines.line, row


def _json_rows(path: Path) -> Iterator[tuple[int, Mapping[str, Any]]]:
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise ImportFileError(f"{path.name}: larger than {MAX_JSON_BYTES} bytes; use CSV")
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise ImportFileError(f"{path.name}: cannot be read ({exc.__class__.__name__})") from exc
    except (ValueError, RecursionError) as exc:
        raise ImportFileError(f"{path.name}: not valid JSON") from exc
    if isinstance(data, dict):
        data = data.get("entries")
    if not isinstance(data, list):
        raise ImportFileError(f'{path.name}: expected a list of rows or {{"entries": [...]}}')
    for number, row in enumerate(data, start=1):
        yield number, row if isinstance(row, dict) else {"__not_an_object__": True}


def read_list(
    kind: ListKind,
    path: Path,
    summary: ImportSummary,
    *,
    json_format: bool | None = None,
    progress: Progress | None = None,
    progress_every: int = BATCH_ROWS,
    default_list: str = "watchlist",
) -> Iterator[list[Any]]:
    """Batches of records of ``kind`` from ``path``; fills ``summary`` as it goes."""
    if json_format is None:
        json_format = path.suffix.lower() == ".json"
    rows = _json_rows(path) if json_format else _csv_rows(path, kind)
    batch: list[Any] = []
    for number, row in rows:
        summary.rows += 1
        try:
            if "__not_an_object__" in row:
                raise RowError("row is not an object")
            batch.append(_parse(kind, row, default_list))
        except RowError as exc:
            summary.reject(number, str(exc))
        if progress is not None and summary.rows % progress_every == 0:
            progress(summary.rows)
        if len(batch) >= BATCH_ROWS:
            summary.added += len(batch)
            yield batch
            batch = []
    if batch:
        summary.added += len(batch)
        yield batch
    if progress is not None:
        progress(summary.rows)


def _parse(kind: ListKind, row: Mapping[str, Any], default_list: str) -> Any:
    try:
        if kind is ListKind.LOST_STOLEN:
            return lost_stolen_row(row)
        if kind is ListKind.WATCHLIST:
            return watchlist_row(row, default_list)
        return manifest_row(row)
    except KioskError as exc:
        raise RowError(exc.code) from exc


def read_all(kind: ListKind, path: Path, **options: Any) -> tuple[list[Any], ImportSummary]:
    """Every good record of the file, and the summary (for small lists and tests)."""
    summary = ImportSummary(kind)
    records: list[Any] = []
    for batch in read_list(kind, path, summary, **options):
        records.extend(batch)
    return records, summary
