"""Health figures for the technician: sync backlog and last contact, trust-list freshness.

Read from the kiosk database (the outbox, ``sync_status`` and the trust tables), so they work
whether or not the sync and trust services are running in this process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from kiosk.storage import outbox
from kiosk.storage.database import Database
from models.base import utc_now
from models.tables import ListVersionRow, SyncStatusRow, TrustCertificateRow, TrustCrlRow


@dataclass(frozen=True)
class SyncHealth:
    backlog: int | None
    last_contact_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    last_error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "backlog": self.backlog,
            "last_contact_at": _iso(self.last_contact_at),
            "last_success_at": _iso(self.last_success_at),
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error,
        }


@dataclass(frozen=True)
class TrustHealth:
    """``state`` is fresh | stale | unknown (no trust list loaded yet)."""

    state: str
    certificates: int
    crls: int
    updated_at: datetime | None
    oldest_crl_next_update: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "certificates": self.certificates,
            "crls": self.crls,
            "updated_at": _iso(self.updated_at),
            "oldest_crl_next_update": _iso(self.oldest_crl_next_update),
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def sync_health(database: Database) -> SyncHealth:
    try:
        with database.read() as session:
            backlog = outbox.backlog(session)
            status = session.get(SyncStatusRow, "server")
            if status is None:
                return SyncHealth(backlog, None, None, 0, None)
            # read inside the session: the row is detached (and expired) once it closes
            return SyncHealth(
                backlog,
                status.last_contact_at,
                status.last_success_at,
                status.consecutive_failures,
                status.last_error,
            )
    except SQLAlchemyError:
        return SyncHealth(None, None, None, 0, "database unavailable")


def trust_health(database: Database, max_age: timedelta = timedelta(hours=48)) -> TrustHealth:
    """Stale when a CRL is past its next update or the trust list is older than ``max_age``."""
    try:
        with database.read() as session:
            certificates = session.scalar(select(func.count(TrustCertificateRow.id))) or 0
            crls = session.scalar(select(func.count(TrustCrlRow.id))) or 0
            oldest = session.scalar(select(func.min(TrustCrlRow.next_update)))
            updated = session.scalar(
                select(ListVersionRow.updated_at).where(ListVersionRow.name == "trust")
            )
    except SQLAlchemyError:
        return TrustHealth("unknown", 0, 0, None, None)
    if certificates == 0:
        return TrustHealth("unknown", 0, crls, updated, oldest)
    now = utc_now()
    stale = (oldest is not None and oldest < now) or (
        updated is not None and now - updated > max_age
    )
    return TrustHealth("stale" if stale else "fresh", certificates, crls, updated, oldest)
