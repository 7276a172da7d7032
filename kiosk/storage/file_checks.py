"""Start-up checks of the database file: not emptied, not missing, not damaged.

A kiosk that finds an empty database file where it kept records must not start afresh over
it (the records, the audit chain and the outbox would be silently gone): after the first
migration a marker ``<database>.created`` is written beside the file, and from then on a
missing or zero-length database is :class:`StorageCorruptError`, as is a zero-length one in a
data directory that holds keys. :func:`integrity_check` runs SQLite's ``quick_check`` (every
page and index structure, without the slower index-content cross-check) for the unit's start
check, ``kiosk db migrate``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from kiosk.config import KioskConfig
from kiosk.storage.database import Database
from kiosk.storage.errors import StorageCorruptError
from kiosk.storage.failures import classify

log = logging.getLogger(__name__)

MARKER_SUFFIX = ".created"
MAX_REPORTED = 5


def sqlite_file(config: KioskConfig) -> Path | None:
    """The SQLite database file of ``config`` (None for PostgreSQL or in-memory)."""
    url = make_url(config.database_url)
    name = url.database
    if url.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    if name.startswith("file:"):
        return None
    return Path(name)


def marker_of(path: Path) -> Path:
    return path.with_name(path.name + MARKER_SUFFIX)


def database_was_created(config: KioskConfig) -> bool:
    """True when this kiosk's SQLite database was created and migrated before."""
    path = sqlite_file(config)
    return path is not None and marker_of(path).exists()


def check_database_file(config: KioskConfig) -> None:
    """Refuse to start over a database that existed before and is now empty or gone."""
    path = sqlite_file(config)
    if path is None:
        return
    marker = marker_of(path)
    keys = [p for p in (config.storage_key_file, config.audit_key_file) if p.exists()]
    if not path.exists():
        if marker.exists():
            raise StorageCorruptError(
                f"database file {path} is missing, but {marker.name} shows this kiosk created "
                "it before: restore it from a backup (the kiosk does not start afresh)"
            )
        return
    if path.stat().st_size == 0 and (marker.exists() or keys):
        evidence = marker.name if marker.exists() else ", ".join(p.name for p in keys)
        raise StorageCorruptError(
            f"database file {path} is empty (0 bytes), but this data directory was in use "
            f"({evidence}): restore it from a backup (the kiosk does not start afresh)"
        )


def mark_created(config: KioskConfig) -> None:
    """Note that the database exists now (after a successful migration)."""
    path = sqlite_file(config)
    if path is None or not path.exists() or path.stat().st_size == 0:
        return
    marker = marker_of(path)
    if not marker.exists():
        marker.write_text("created by kiosk db migrate; do not delete\n", encoding="utf-8")


def integrity_check(database: Database) -> None:
    """Raise :class:`StorageCorruptError` naming what SQLite found damaged (no-op elsewhere)."""
    if database.dialect != "sqlite":
        return
    try:
        with database.engine.connect() as connection:
            lines = [row[0] for row in connection.execute(text("PRAGMA quick_check"))]
    except SQLAlchemyError as exc:
        raise classify(exc, "database integrity check failed") from exc
    if lines != ["ok"]:
        shown = "; ".join(str(line) for line in lines[:MAX_REPORTED])
        more = f" (and {len(lines) - MAX_REPORTED} more)" if len(lines) > MAX_REPORTED else ""
        raise StorageCorruptError(f"database integrity check failed: {shown}{more}")
    log.info("database integrity check passed")
