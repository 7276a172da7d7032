"""Retention in the running kiosk: :func:`kiosk.storage.purge.run_purge` on a timer.

:class:`kiosk.app.KioskRuntime` starts a :class:`PurgeSchedule` with the kiosk: it purges once
at start (a kiosk that was off for days catches up at once) and then every
``storage.purge_interval_s`` on the thread ``kiosk-purge``. ``kiosk db purge`` runs the same
purge from the command line. A failed purge is logged and retried at the next tick; it never
stops the kiosk.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from kiosk.audit.log import AuditLog
from kiosk.periodic import Periodic
from kiosk.storage.database import Database
from kiosk.storage.purge import PurgeResult, run_purge
from models.base import utc_now
from models.errors import StorageError

log = logging.getLogger(__name__)


class PurgeSchedule:
    def __init__(
        self,
        database: Database,
        *,
        retention_hours: float,
        interval_s: float,
        audit: AuditLog | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.database = database
        self.retention_hours = retention_hours
        self.interval_s = interval_s
        self.audit = audit
        self.clock = clock
        self.runs = 0
        self.last: PurgeResult | None = None
        self.ran = threading.Condition()
        self._timer = Periodic("kiosk-purge", interval_s, self.run_once, first_at_once=True)

    def run_once(self) -> PurgeResult | None:
        """Purge now; None (and a log line) when the storage failed."""
        try:
            result = run_purge(
                self.database,
                retention_hours=self.retention_hours,
                now=self.clock(),
                audit=self.audit,
            )
        except (StorageError, SQLAlchemyError) as exc:  # the kiosk keeps running
            log.error("retention purge failed: %s", type(exc).__name__)
            result = None
        with self.ran:
            self.runs += 1
            self.last = result
            self.ran.notify_all()
        return result

    def wait_runs(self, count: int, timeout_s: float) -> bool:
        """Wait until the purge has run ``count`` times in all (for tests and the console)."""
        with self.ran:
            return self.ran.wait_for(lambda: self.runs >= count, timeout_s)

    def start(self) -> None:
        self._timer.start()

    def close(self) -> None:
        self._timer.close()
