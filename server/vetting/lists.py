"""The lists the server vets against, loaded into the kiosk's own in-memory indexes.

Regional lists are the lost/stolen and watchlist lists the administrators upload for the
kiosks (``server_list_changes``: the newest change of each key counts); national lists are
the member states' entries (``server_vetting_national_entries``). The person search is the
kiosk's :class:`~kiosk.screening.watchlist.WatchlistIndex` (same normalisation, blocking,
Jaro-Winkler scores and penalties), the document check its
:class:`~kiosk.screening.lost_stolen.LostStolenIndex`: pure modules the server imports, so
a name matches at the gate exactly as it matched before departure."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from kiosk.screening.lost_stolen import DocumentKey, LostStolenIndex, hash_encoded, hash_keys
from kiosk.screening.matching import PartialDate, ScoreWeights
from kiosk.screening.watchlist import WatchlistEntry, WatchlistIndex
from kiosk.screening.watchlist_layers import LayeredWatchlist
from models.errors import ParseError
from models.server_tables import ListChangeRow, ListVersionServerRow
from models.vetting_tables import NationalListEntryRow
from server.vetting.config import VettingConfig

log = logging.getLogger(__name__)

NATIONAL = "vetting_national"
RULES = "vetting_rules"
VERSIONED = ("lost_stolen", "watchlist", NATIONAL, RULES)
DOC_TYPES = ("", "P", "I", "A", "C", "V")
_CHUNK = 100_000

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class VettingLists:
    watchlist: LayeredWatchlist = field(default_factory=lambda: LayeredWatchlist.of([]))
    regional_documents: LostStolenIndex = field(default_factory=LostStolenIndex)
    national_documents: dict[str, LostStolenIndex] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)

    def document_hits(self, issuer: str, doc_type: str, number: str) -> list[str]:
        """The lists naming the document (``regional`` or ``national:STATE``)."""
        base = DocumentKey.of(issuer, doc_type, number)  # normalised once
        types = dict.fromkeys((base.doc_type, *DOC_TYPES))
        keys = [DocumentKey(base.issuer, t, base.number) for t in types]
        found = []
        if any(self.regional_documents.contains(k) for k in keys):
            found.append("regional")
        for state, index in self.national_documents.items():
            if any(index.contains(k) for k in keys):
                found.append(f"national:{state}")
        return found

    def document_hits_many(self, documents: Sequence[tuple[str, str, str]]) -> list[list[str]]:
        """:meth:`document_hits` of every ``(issuer, doc_type, number)`` (a manifest's), the
        keys of all of them hashed and looked up at once."""
        keys: list[DocumentKey] = []
        owners: list[int] = []
        for i, (issuer, doc_type, number) in enumerate(documents):
            base = DocumentKey.of(issuer, doc_type, number)
            if not base.number:  # as contains(): a document without a number is not listed
                continue
            for kind in dict.fromkeys((base.doc_type, *DOC_TYPES)):
                keys.append(DocumentKey(base.issuer, kind, base.number))
                owners.append(i)
        found: list[list[str]] = [[] for _ in documents]
        if not keys:
            return found
        hashes = hash_keys(keys)
        owner = np.array(owners, dtype=np.int64)
        indexes = [("regional", self.regional_documents)]
        indexes += [
            (f"national:{state}", index) for state, index in self.national_documents.items()
        ]
        for source, index in indexes:
            for i in np.unique(owner[index.contains_hashes(hashes)]).tolist():
                found[i].append(source)
        return found


def list_versions(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(ListVersionServerRow.name, ListVersionServerRow.version).where(
            ListVersionServerRow.name.in_(VERSIONED)
        )
    ).all()
    found = {name: int(version) for name, version in rows}
    return {name: found.get(name, 0) for name in VERSIONED}


def _current(
    session: Session, name: str, value: Any = ListChangeRow.data
) -> Iterator[tuple[str, Any]]:
    """The live entries of a distributed list: the newest change of each key, not deleted,
    with ``value`` (the data, or one field of it). PostgreSQL picks the newest change of
    each key itself (DISTINCT ON), so ten million documents never sit in a Python dict."""
    columns = (ListChangeRow.key, ListChangeRow.op, value)
    if session.get_bind().dialect.name == "postgresql":
        statement = (
            select(*columns)
            .ext(distinct_on(ListChangeRow.key))
            .where(ListChangeRow.list_name == name)
            .order_by(ListChangeRow.key, ListChangeRow.version.desc(), ListChangeRow.id.desc())
            .execution_options(yield_per=_CHUNK)
        )
        for key, op, data in session.execute(statement):
            if op == "upsert" and data is not None:
                yield key, data
        return
    latest: dict[str, Any] = {}
    statement = (
        select(*columns)
        .where(ListChangeRow.list_name == name)
        .order_by(ListChangeRow.version, ListChangeRow.id)
        .execution_options(yield_per=_CHUNK)
    )
    for key, op, data in session.execute(statement):
        latest[key] = data if op == "upsert" and data is not None else None
    for key, data in latest.items():
        if data is not None:
            yield key, data


def _birth(value: Any) -> PartialDate | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return PartialDate.parse(value)
    except ParseError:
        return None


def _person(key: str, data: dict[str, Any], list_name: str) -> WatchlistEntry:
    return WatchlistEntry(
        key[:64],
        list_name,
        str(data.get("surname", ""))[:120],
        str(data.get("given_names", ""))[:120],
        _birth(data.get("birth_date")),
        str(data.get("nationality") or "")[:3],
    )


# the document type of a lost/stolen change ("" when absent), read by the database
_DOC_TYPE = func.coalesce(ListChangeRow.data["doc_type"].as_string(), "")
_NORMAL_KEY = re.compile(r"[A-Z]{1,3}:[A-Z0-9]{1,20}")
_NORMAL_TYPES = {"": "", "P": "P", "I": "I", "A": "A", "C": "C", "V": "V"}


def _document(key: str, doc_type: str) -> DocumentKey:
    issuer, _, number = key.partition(":")
    normal_type = _NORMAL_TYPES.get(doc_type)
    if normal_type is not None and _NORMAL_KEY.fullmatch(key):
        return DocumentKey(issuer, normal_type, number)  # already in normal form (fast)
    return DocumentKey.of(issuer, doc_type, number)


def load_lists(
    session: Session,
    config: VettingConfig,
    progress: Progress | None = None,
    *,
    previous: VettingLists | None = None,
) -> VettingLists:
    """Every list as it stands now, with the versions read. From ``previous``, the indexes
    of lists that did not move are kept as they are, and a regional watchlist that moved by
    fewer than ``COMPACT_AFTER`` changes takes them as a delta (its million-name index is
    not rebuilt)."""
    versions = list_versions(session)
    with _long_statements(session):
        if previous is None:
            return _full(session, config, versions, progress)
        same = {n for n in VERSIONED if previous.versions.get(n) == versions[n]}
        documents = (
            previous.regional_documents
            if "lost_stolen" in same
            else _regional_documents(session, progress)
        )
        watchlist = previous.watchlist
        if "watchlist" not in same:
            moved = _watchlist_delta(
                session, config, watchlist, previous.versions.get("watchlist", 0), versions
            )
            watchlist = moved if moved is not None else _regional_people(session, config)
            if progress:
                progress("watchlist", len(watchlist))
        national_documents = previous.national_documents
        people = previous.watchlist.extra
        if NATIONAL not in same:
            people, national_documents = _national(session, config)
        watchlist = watchlist.with_extra(people)
    lists = VettingLists(watchlist, documents, national_documents, versions)
    log.info("vetting lists moved to versions %s", versions)
    return lists


@contextmanager
def _long_statements(session: Session) -> Iterator[None]:
    """Reading millions of list rows outlasts the per-statement limit of requests: it is
    lifted for the load, then restored (the load may run inside an ingestion's
    transaction)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SET LOCAL statement_timeout = '30min'"))
    try:
        yield
    finally:
        if postgres:
            session.execute(text("SET LOCAL statement_timeout TO DEFAULT"))


def _weights(config: VettingConfig) -> ScoreWeights:
    return ScoreWeights(
        config.dob_partial_penalty, config.dob_mismatch_penalty, config.nationality_mismatch_penalty
    )


def _watchlist_delta(
    session: Session,
    config: VettingConfig,
    watchlist: LayeredWatchlist,
    since: int,
    versions: dict[str, int],
) -> LayeredWatchlist | None:
    """``watchlist`` with the regional changes after version ``since`` applied, or None
    when a full load is due (the list went back, or too many changes)."""
    until = versions["watchlist"]
    if until < since:
        return None
    window = (
        ListChangeRow.list_name == "watchlist",
        ListChangeRow.version > since,
        ListChangeRow.version <= until,  # what the versions read say, not a later commit
    )
    count = int(session.scalar(select(func.count()).where(*window)) or 0)
    if count > watchlist.compact_after:
        return None
    changes: list[tuple[str, WatchlistEntry | None]] = []
    for key, op, data in session.execute(
        select(ListChangeRow.key, ListChangeRow.op, ListChangeRow.data)
        .where(*window)
        .order_by(ListChangeRow.version, ListChangeRow.id)
    ):
        entry = None
        if op == "upsert" and data is not None:
            entry = _person(key, data, str(data.get("category") or "regional"))
        changes.append((key[:64], entry))
    log.info("vetting watchlist moved by %d changes (index kept)", count)
    return watchlist.with_changes(changes)


# The live lost/stolen documents (newest change of each key, an upsert), written by
# PostgreSQL as lines: "N" and the encoded key (ISSUER|TYPE|NUMBER) when the stored key and
# type are in normal form already (the fast path of _document), else "R", the key and the
# type in hex (normalised in Python, whatever characters they hold).
_COPY_DOCUMENTS = r"""
COPY (
    SELECT CASE
        WHEN key ~ '^[A-Z]{1,3}:[A-Z0-9]{1,20}$' AND doc_type IN ('', 'P', 'I', 'A', 'C', 'V')
        THEN 'N' || split_part(key, ':', 1) || '|' || doc_type || '|' || split_part(key, ':', 2)
        ELSE 'R' || encode(convert_to(key, 'UTF8'), 'hex') || ':'
             || encode(convert_to(doc_type, 'UTF8'), 'hex')
    END
    FROM (
        SELECT DISTINCT ON (key) key, op, coalesce(data ->> 'doc_type', '') AS doc_type
        FROM server_list_changes
        WHERE list_name = 'lost_stolen'
        ORDER BY key, version DESC, id DESC
    ) AS latest
    WHERE op = 'upsert'
) TO STDOUT
"""


def _copied_documents(session: Session) -> Iterator[bytes]:
    """The encoded keys of :data:`_COPY_DOCUMENTS`, streamed (ten million documents as
    text lines: no row objects, no per-row normalisation for keys already normal)."""
    raw = session.connection().connection.driver_connection
    if raw is None:
        raise RuntimeError("no PostgreSQL connection to copy from")
    with raw.cursor() as cursor, cursor.copy(_COPY_DOCUMENTS) as copy:
        pending = b""
        for block in copy:
            lines = (pending + bytes(block)).split(b"\n")
            pending = lines.pop()
            for line in lines:
                if line[:1] == b"N":
                    yield line[1:]
                else:
                    key, _, doc_type = line[1:].partition(b":")
                    decoded = (
                        bytes.fromhex(key.decode()).decode(),
                        bytes.fromhex(doc_type.decode()).decode(),
                    )
                    yield _document(*decoded).encoded()
        if pending:
            raise RuntimeError("lost/stolen copy ended inside a line")


def _regional_documents(session: Session, progress: Progress | None) -> LostStolenIndex:
    if session.get_bind().dialect.name == "postgresql":
        hashes = hash_encoded(_copied_documents(session))
    else:
        hashes = hash_keys(
            _document(k, str(t)) for k, t in _current(session, "lost_stolen", _DOC_TYPE)
        )
    regional = LostStolenIndex(hashes)
    if progress:
        progress("lost_stolen", len(regional))
    return regional


def _regional_people(session: Session, config: VettingConfig) -> LayeredWatchlist:
    return LayeredWatchlist.of(
        (
            _person(k, d, str(d.get("category") or "regional"))
            for k, d in _current(session, "watchlist")
        ),
        _weights(config),
    )


def _national(
    session: Session, config: VettingConfig
) -> tuple[tuple[WatchlistIndex, ...], dict[str, LostStolenIndex]]:
    """The member states' lists: their people as one small index, their documents."""
    people: list[WatchlistEntry] = []
    keys: dict[str, list[DocumentKey]] = {}
    for state, kind, key, data in session.execute(
        select(
            NationalListEntryRow.state,
            NationalListEntryRow.kind,
            NationalListEntryRow.key,
            NationalListEntryRow.data,
        ).order_by(NationalListEntryRow.id)
    ):
        if kind == "person":
            people.append(_person(f"{state}:{key}", data, f"national:{state}"))
        else:
            keys.setdefault(state, []).append(_document(key, str(data.get("doc_type") or "")))
    index = (WatchlistIndex(people, _weights(config)),) if people else ()
    return index, {s: LostStolenIndex.from_keys(k) for s, k in keys.items()}


def _full(
    session: Session, config: VettingConfig, versions: dict[str, int], progress: Progress | None
) -> VettingLists:
    documents = _regional_documents(session, progress)
    watchlist = _regional_people(session, config)
    if progress:
        progress("watchlist", len(watchlist.base))
    people, national_documents = _national(session, config)
    lists = VettingLists(watchlist.with_extra(people), documents, national_documents, versions)
    log.info(
        "vetting lists loaded: %d names, %d documents, versions %s",
        len(lists.watchlist.base),
        len(documents),
        versions,
    )
    return lists


def bump_version(session: Session, name: str) -> int:
    """The next version of ``name`` (national lists, rules), row locked meanwhile."""
    row = session.execute(
        select(ListVersionServerRow).where(ListVersionServerRow.name == name).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        row = ListVersionServerRow(name=name, version=0, updated_at=dt.datetime.now(dt.UTC))
        session.add(row)
    row.version += 1
    row.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    return row.version
