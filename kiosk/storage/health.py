"""Can this kiosk keep a transaction now? The storage side of the lane's service state.

A traveller must not go through chip and face only to be referred because nothing can be
recorded. :class:`StorageHealth` answers before each transaction and after each failure:

* free space on the database's file system below ``storage.min_free_mb``: ``storage_full``;
* SQLite's size limit (``max_page_count``) leaving less room than a large transaction;
* a probe write the size of a large transaction (SQLite: 64 KiB inserted and deleted in one
  committed transaction, at most every 30 s) that fails: its cause, disk full or corrupt;
* a transaction that could not be recorded: its cause.

``storage_full`` clears itself when a later check passes (space was freed); ``storage_corrupt``
stays until the database is restored and the kiosk restarted, since a probe of one table
says nothing about the damaged one.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

from sqlalchemy import delete, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kiosk.lane import Lane, LaneCause
from kiosk.storage.database import Database
from kiosk.storage.errors import DatabaseUnavailableError, StorageFullError
from kiosk.storage.failures import classify, lane_cause
from models.tables import DeviceEventRow

log = logging.getLogger(__name__)

PROBE_BYTES = 64 * 1024
PROBE_KIND = "storage_probe"
PROBE_EVERY_S = 30.0  # the write probe at most this often; the cheap checks every time


class StorageHealth:
    def __init__(self, database: Database, lane: Lane, *, min_free_mb: float) -> None:
        self.database = database
        self.lane = lane
        self.min_free_bytes = int(min_free_mb * 1024 * 1024)
        url = make_url(str(database.engine.url))
        self._folder: Path | None = (
            Path(url.database).parent
            if database.dialect == "sqlite" and url.database and url.database != ":memory:"
            else None
        )
        self.checks = 0
        self.failures = 0
        self._probed_at: float | None = None  # monotonic time of the last probe write

    def check(self) -> bool:
        """True when a transaction can be kept; otherwise the lane carries the cause."""
        self.checks += 1
        try:
            self._check_free_space()
            self._probe()
        except DatabaseUnavailableError as exc:
            self.failed(exc)
            return False
        self.lane.clear(LaneCause.STORAGE_FULL)
        self.lane.clear(LaneCause.STORAGE_UNAVAILABLE)
        return not self.lane.has(LaneCause.STORAGE_CORRUPT)

    def failed(self, error: DatabaseUnavailableError) -> None:
        """Take the lane out of service for ``error`` (a failed record or probe)."""
        self.failures += 1
        cause = lane_cause(error)
        self.lane.set(cause, str(error)[:300], key="database")
        log.error("storage cannot keep transactions: %s", error.code)

    def _check_free_space(self) -> None:
        if self._folder is None or self.min_free_bytes <= 0:
            return
        try:
            free = shutil.disk_usage(self._folder).free
        except OSError as exc:
            raise DatabaseUnavailableError(f"free space unknown ({exc.strerror})") from exc
        if free < self.min_free_bytes:
            raise StorageFullError(
                f"disk full: {free // 1024} KiB free in {self._folder}, "
                f"{self.min_free_bytes // 1024} KiB needed (storage.min_free_mb)"
            )

    @staticmethod
    def _check_size_limit(session: Session) -> None:
        """SQLite's own size limit (``max_page_count``) is a full disk too; pages freed by
        deletes are reused first, so they count as room."""
        limit, pages, free, size = (
            int(session.execute(text(f"PRAGMA {name}")).scalar_one())
            for name in ("max_page_count", "page_count", "freelist_count", "page_size")
        )
        room = (limit - pages + free) * size
        if room < PROBE_BYTES:
            raise StorageFullError(
                f"disk full: database or disk is full (size limit reached, {room} bytes left)"
            )

    def _probe(self) -> None:
        if self.database.dialect != "sqlite":
            return
        try:
            with self.database.read() as session:
                self._check_size_limit(session)
        except SQLAlchemyError as exc:
            raise classify(exc, "storage check failed") from exc
        now = time.monotonic()
        if self._probed_at is not None and now - self._probed_at < PROBE_EVERY_S:
            return  # a write went through a moment ago; free space was checked just now
        self._probed_at = None
        table = DeviceEventRow
        try:
            with self.database.write() as session:
                row = session.execute(
                    insert(table)
                    .values(
                        kiosk_id="-",
                        device="storage",
                        kind=PROBE_KIND,
                        message=os.urandom(PROBE_BYTES // 2).hex(),
                    )
                    .returning(table.id)
                ).scalar_one()
                session.execute(delete(table).where(table.id == row))
        except SQLAlchemyError as exc:
            raise classify(exc, "storage probe write failed") from exc
        self._probed_at = now
