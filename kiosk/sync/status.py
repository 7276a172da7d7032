"""What ``kiosk sync status`` and the technician console show: backlog, oldest unsent
message, last contact with the server, list versions, the signed versions and trust content
this kiosk refused (and the central configuration, when the caller adds it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.storage import outbox
from kiosk.storage.database import Database
from kiosk.sync.contact import PEER
from kiosk.sync.lists import REFUSAL_KIND
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
            "refusals": _refusals(session),
        }


# how many of the latest refusals the status lists
LATEST_REFUSALS = 5


def _refusals(session: Session) -> dict[str, Any]:
    """The versions and trust content this kiosk refused (a signature that failed, a value
    beyond its local bounds, content outside its pinned anchors), as queued in its outbox for
    the server: how many, how many the server has not had yet, and the latest few."""
    refused = OutboxMessageRow.kind == REFUSAL_KIND
    count = session.scalar(select(func.count()).select_from(OutboxMessageRow).where(refused))
    unsent = session.scalar(
        select(func.count())
        .select_from(OutboxMessageRow)
        .where(refused, OutboxMessageRow.sent_at.is_(None))
    )
    latest = session.scalars(
        select(OutboxMessageRow)
        .where(refused)
        .order_by(OutboxMessageRow.id.desc())
        .limit(LATEST_REFUSALS)
    ).all()
    return {
        "count": int(count or 0),
        "unreported": int(unsent or 0),
        "latest": [_refusal(row) for row in latest],
    }


def _refusal(row: OutboxMessageRow) -> dict[str, Any]:
    payload = row.payload if isinstance(row.payload, dict) else {}
    version = payload.get("version")
    return {
        "list_name": str(payload.get("list_name", "?")),
        "version": version if isinstance(version, int) else None,
        "reason": str(payload.get("reason", "refused")),
        "refused_at": str(payload.get("refused_at") or _iso(row.created_at)),
        "reported": row.sent_at is not None,
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
