"""What ``kiosk sync status`` and the technician console show: backlog, oldest unsent
message, last contact with the server, list versions (and the central configuration, when
the caller adds it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from kiosk.storage import outbox
from kiosk.storage.database import Database
from kiosk.sync.contact import PEER
from models.tables import ListVersionRow, OutboxMessageRow, SyncStatusRow


def sync_status(database: Database) -> dict[str, Any]:
    with database.read() as session:
        backlog = outbox.backlog(session)
        oldest = session.scalar(
            select(func.min(OutboxMessageRow.created_at)).where(OutboxMessageRow.sent_at.is_(None))
        )
        contact = session.get(SyncStatusRow, PEER)
        versions = session.scalars(select(ListVersionRow).order_by(ListVersionRow.name)).all()
        lists = {
            row.name: {
                "version": row.version,
                "changes": row.entries,
                "updated_at": _iso(row.updated_at),
            }
            for row in versions
        }
        return {
            # the contract of `kiosk sync status --json`
            "backlog": backlog,
            "oldest_unsent": _iso(oldest),
            "last_contact": _iso(contact.last_contact_at if contact else None),
            "list_versions": {name: info["version"] for name, info in lists.items()},
            # details
            "lists": lists,
            "oldest_unsent_at": oldest.isoformat() if oldest else None,
            "last_contact_at": _iso(contact.last_contact_at if contact else None),
            "last_success_at": _iso(contact.last_success_at if contact else None),
            "consecutive_failures": contact.consecutive_failures if contact else 0,
            "last_error": contact.last_error if contact else None,
        }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
