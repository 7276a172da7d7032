"""The kiosk's record of its contact with the server (``sync_status`` row ``server``)."""

from __future__ import annotations

from kiosk.storage.database import Database
from models.base import utc_now
from models.tables import SyncStatusRow

PEER = "server"
MAX_ERROR = 500


def record(database: Database, *, ok: bool, error: str = "") -> None:
    """Note an exchange with the server: a success, or a failure and why."""
    now = utc_now()
    with database.write() as session:
        row = session.get(SyncStatusRow, PEER)
        if row is None:
            row = SyncStatusRow(peer=PEER, consecutive_failures=0)
            session.add(row)
        row.last_contact_at = now
        if ok:
            row.last_success_at = now
            row.consecutive_failures = 0
            row.last_error = None
        else:
            row.consecutive_failures = (row.consecutive_failures or 0) + 1
            row.last_error = error[:MAX_ERROR] or "failed"
