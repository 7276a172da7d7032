"""Retention: biometric data and the names kept for referrals are removed after
``storage.retention_hours``.

Purged: encrypted face images and templates (rows deleted), names, birth dates, document
numbers and matched list entries on referrals (cleared), and the same personal fields inside
decision messages already sent to the server. Unsent messages keep them until sent. SQLite
runs with ``secure_delete`` and the WAL is checkpointed afterwards, so purged bytes do not
linger in the database files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from kiosk.storage.database import Database, sqlite_checkpoint
from kiosk.storage.recorder import DECISION_MESSAGE
from models.base import utc_now
from models.tables import BiometricBlobRow, OutboxMessageRow, ReferralRow

if TYPE_CHECKING:
    from kiosk.audit.log import AuditLog

log = logging.getLogger(__name__)

_PERSONAL_REFERRAL_FIELDS = ("surname", "given_names", "birth_date", "document_number", "listed")


@dataclass(frozen=True, slots=True)
class PurgeResult:
    blobs: int
    referrals: int
    messages: int


def purge_expired(
    session: Session, *, retention_hours: float, now: datetime | None = None
) -> PurgeResult:
    """Purge what is older than the retention, in ``session``'s transaction."""
    cutoff = (now or utc_now()) - timedelta(hours=retention_hours)
    blobs = session.execute(delete(BiometricBlobRow).where(BiometricBlobRow.created_at < cutoff))
    referrals = session.execute(
        update(ReferralRow)
        .where(ReferralRow.created_at < cutoff)
        .where(ReferralRow.personal_data_purged_at.is_(None))
        .values(
            surname=None,
            given_names=None,
            birth_date=None,
            document_number=None,
            listed=None,
            personal_data_purged_at=now or utc_now(),
        )
    )
    messages = 0
    sent = session.scalars(
        select(OutboxMessageRow)
        .where(OutboxMessageRow.kind == DECISION_MESSAGE)
        .where(OutboxMessageRow.created_at < cutoff)
        .where(OutboxMessageRow.sent_at.is_not(None))
    )
    for message in sent:
        referral = message.payload.get("referral")
        if isinstance(referral, dict) and any(referral.get(f) for f in _PERSONAL_REFERRAL_FIELDS):
            scrubbed = dict(referral, **{f: None for f in _PERSONAL_REFERRAL_FIELDS})
            message.payload = dict(message.payload, referral=scrubbed)
            messages += 1
    session.flush()
    return PurgeResult(int(blobs.rowcount), int(referrals.rowcount), messages)  # type: ignore[attr-defined]


def run_purge(
    database: Database,
    *,
    retention_hours: float,
    now: datetime | None = None,
    audit: AuditLog | None = None,
) -> PurgeResult:
    """Purge, commit, record it in the audit log, and fold the SQLite WAL into the file."""
    with database.write() as session:
        result = purge_expired(session, retention_hours=retention_hours, now=now)
        if audit is not None and (result.blobs or result.referrals or result.messages):
            audit.append(
                session,
                actor="kiosk",
                action="storage.purged",
                details={
                    "blobs": result.blobs,
                    "referrals": result.referrals,
                    "messages": result.messages,
                    "retention_hours": int(retention_hours),
                },
            )
    sqlite_checkpoint(database.engine)
    log.info(
        "purge: %d blobs, %d referrals, %d messages",
        result.blobs,
        result.referrals,
        result.messages,
    )
    return result
