"""Telling a full disk from a damaged database, from the error SQLite (or PostgreSQL) gave.

A technician needs the cause, not ``database_unavailable``: a full disk is fixed by freeing
space, a corrupt page by restoring the database. :func:`classify` turns a SQLAlchemy error
into :class:`StorageFullError`, :class:`StorageCorruptError` or
:class:`DatabaseUnavailableError` with the database's own words (never row data).
"""

from __future__ import annotations

from kiosk.lane import LaneCause
from kiosk.storage.errors import DatabaseUnavailableError, StorageCorruptError, StorageFullError

_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_NOTADB = 11, 13, 26
_FULL_WORDS = ("database or disk is full", "no space left on device", "disk full")
_CORRUPT_WORDS = ("malformed", "file is not a database", "database corruption", "corrupt")
_PG_DISK_FULL = "53100"


def classify(exc: BaseException, doing: str) -> DatabaseUnavailableError:
    """The typed storage error for ``exc`` (raised while ``doing`` something)."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).splitlines()[0][:200] if str(original) else type(original).__name__
    lowered = text.lower()
    code = getattr(original, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if (
        primary == _SQLITE_FULL
        or getattr(original, "pgcode", None) == _PG_DISK_FULL
        or any(word in lowered for word in _FULL_WORDS)
    ):
        return StorageFullError(f"{doing}: disk full ({text})")
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or any(w in lowered for w in _CORRUPT_WORDS):
        return StorageCorruptError(f"{doing}: database corrupt ({text})")
    return DatabaseUnavailableError(f"{doing}: {type(original).__name__} ({text})")


def lane_cause(error: DatabaseUnavailableError) -> LaneCause:
    if isinstance(error, StorageFullError):
        return LaneCause.STORAGE_FULL
    if isinstance(error, StorageCorruptError):
        return LaneCause.STORAGE_CORRUPT
    return LaneCause.STORAGE_UNAVAILABLE
