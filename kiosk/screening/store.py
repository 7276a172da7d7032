"""Persistent copies of the screening lists, in the kiosk database.

Importing a list replaces the previous copy in one transaction (bulk inserts with SQLAlchemy
Core, ten thousand rows at a time) and bumps its version in ``list_versions``; the in-memory
indexes are then rebuilt from the database, so a restarted kiosk screens against exactly what
was last imported.

Known gap (for the lead / the models owner): ``watchlist_entries`` stores a full
``birth_date`` and has no list-name column, so a year-only birth date is kept as unknown and
the list name goes into ``category``; ``external_id`` is unique, so aliases (several names of
one person) get ``reference~2``, ``reference~3``...
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kiosk.screening.importers import ListKind
from kiosk.screening.lost_stolen import DocumentKey, LostStolenIndex, hash_keys
from kiosk.screening.manifest import ManifestEntry, ManifestIndex
from kiosk.screening.matching import PartialDate, ScoreWeights
from kiosk.screening.normalise import normalise_document_number
from kiosk.screening.screening import ListInfo
from kiosk.screening.watchlist import WatchlistEntry, WatchlistIndex
from kiosk.storage.database import Database
from models.errors import StorageError
from models.tables.screening import LostStolenDocumentRow, ManifestEntryRow, WatchlistEntryRow
from models.tables.sync import ListVersionRow

log = logging.getLogger(__name__)

_TABLES: dict[ListKind, Table] = {
    ListKind.LOST_STOLEN: LostStolenDocumentRow.__table__,  # type: ignore[dict-item]
    ListKind.WATCHLIST: WatchlistEntryRow.__table__,  # type: ignore[dict-item]
    ListKind.MANIFEST: ManifestEntryRow.__table__,  # type: ignore[dict-item]
}
_READ_CHUNK = 50_000


class ScreeningStore:
    """The lists in the database; ``replace`` them, ``load_*`` their indexes."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def replace(self, kind: ListKind, batches: Iterable[list[Any]]) -> ListInfo:
        """Replace the whole list of ``kind`` with the records of ``batches``."""
        table = _TABLES[kind]
        now = dt.datetime.now(dt.UTC)
        try:
            with self._db.write() as session:
                version = self._next_version(session, kind)
                session.execute(delete(table))
                count = 0
                seen: dict[str, int] = {}
                for batch in batches:
                    rows = [_row(kind, record, version, now, seen) for record in batch]
                    if rows:
                        session.execute(insert(table), rows)
                    count += len(rows)
                info = ListInfo(kind.value, version, now, count)
                session.merge(
                    ListVersionRow(name=kind.value, version=version, updated_at=now, entries=count)
                )
        except SQLAlchemyError as exc:
            raise StorageError(f"storing the {kind.value} list failed") from exc
        log.info("%s list replaced: version %d, %d entries", kind.value, version, count)
        return info

    @staticmethod
    def _next_version(session: Session, kind: ListKind) -> int:
        current = session.get(ListVersionRow, kind.value)
        return (current.version if current else 0) + 1

    def info(self, kind: ListKind) -> ListInfo | None:
        with self._db.read() as session:
            row = session.get(ListVersionRow, kind.value)
            if row is None:
                return None
            return ListInfo(kind.value, row.version, row.updated_at, row.entries)

    def _rows(self, statement: Any) -> Iterator[Any]:
        try:
            with self._db.read() as session:
                result = session.execute(statement.execution_options(yield_per=_READ_CHUNK))
                yield from result
        except SQLAlchemyError as exc:
            raise StorageError("reading a screening list failed") from exc

    def load_lost_stolen(self) -> LostStolenIndex:
        t = LostStolenDocumentRow
        rows = self._rows(select(t.issuer, t.doc_type, t.document_number))
        # stored already normalised (see _row), so the key is built as it is
        hashes = hash_keys(DocumentKey(i, d or "", n) for i, d, n in rows)
        return LostStolenIndex(hashes if hashes.size else np.empty(0, dtype=np.uint64))

    def load_watchlist(self, weights: ScoreWeights | None = None) -> WatchlistIndex:
        t = WatchlistEntryRow
        rows = self._rows(
            select(t.external_id, t.category, t.surname, t.given_names, t.birth_date, t.nationality)
        )
        entries = (
            WatchlistEntry(
                (ref or "").split("~")[0], cat, sur, given or "", PartialDate.of(birth), nat or ""
            )
            for ref, cat, sur, given, birth, nat in rows
        )
        return WatchlistIndex(entries, weights)

    def load_manifest(self) -> ManifestIndex:
        t = ManifestEntryRow
        rows = self._rows(
            select(
                t.surname,
                t.given_names,
                t.document_number,
                t.issuer,
                t.nationality,
                t.birth_date,
                t.sex,
                t.expiry_date,
                t.flight,
                t.arrival_date,
                t.vetting,
                t.vetting_reasons,
            )
        )
        return ManifestIndex(
            ManifestEntry(s, g or "", n, i, nat or "", b, sex or "", e, f, a, v, tuple(vr or ()))
            for s, g, n, i, nat, b, sex, e, f, a, v, vr in rows
        )


def _row(
    kind: ListKind, record: Any, version: int, now: dt.datetime, seen: dict[str, int]
) -> dict[str, Any]:
    if kind is ListKind.LOST_STOLEN:
        key: DocumentKey = record
        return {
            "document_number": key.number,
            "issuer": key.issuer,
            "doc_type": key.doc_type or None,
            "status": "lost_or_stolen",
            "list_version": version,
            "added_at": now,
        }
    if kind is ListKind.WATCHLIST:
        entry: WatchlistEntry = record
        birth = entry.birth_date
        seen[entry.reference] = seen.get(entry.reference, 0) + 1
        suffix = f"~{seen[entry.reference]}" if seen[entry.reference] > 1 else ""
        return {
            "external_id": entry.reference + suffix,
            "surname": entry.surname,
            "given_names": entry.given_names,
            "birth_date": dt.date(birth.year, birth.month, birth.day)
            if birth and birth.month and birth.day
            else None,
            "nationality": entry.nationality or None,
            "category": entry.list_name[:32],
            "list_version": version,
            "added_at": now,
        }
    manifest: ManifestEntry = record
    return {
        "flight": manifest.flight,
        "arrival_date": manifest.arrival_date,
        "surname": manifest.surname,
        "given_names": manifest.given_names,
        "document_number": normalise_document_number(manifest.document_number),
        "issuer": manifest.issuer,
        "nationality": manifest.nationality or None,
        "birth_date": manifest.birth_date,
        "sex": manifest.sex or None,
        "expiry_date": manifest.expiry_date,
        "vetting": manifest.vetting,
        "vetting_reasons": list(manifest.vetting_reasons) or None,
        "source": None,
        "imported_at": now,
    }
