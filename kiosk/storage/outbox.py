"""The transactional outbox: add a message in the caller's database transaction; the relay
(``kiosk.sync``) takes pending messages in order and marks them sent or failed."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from models.base import utc_now
from models.tables import OutboxMessageRow

MAX_ERROR_TEXT = 500


def enqueue(
    session: Session, kind: str, payload: Mapping[str, Any], *, subject_id: str | None = None
) -> OutboxMessageRow:
    """Add a message; a second one of the same ``kind`` and ``subject_id`` fails at commit."""
    row = OutboxMessageRow(
        message_id=str(uuid.uuid4()),
        kind=kind,
        subject_id=subject_id,
        payload=dict(payload),
        created_at=utc_now(),
        attempts=0,
    )
    session.add(row)
    return row


def pending(
    session: Session,
    *,
    limit: int,
    now: datetime | None = None,
    exclude: Collection[int] = (),
    by_wall_clock: bool = True,
) -> Sequence[OutboxMessageRow]:
    """Unsent messages due for (re)sending, oldest first, but for the ids in ``exclude``.

    ``by_wall_clock`` False ignores ``next_attempt_at`` (a wall-clock time, wrong after a
    clock step): the relay keeps its own waits on the monotonic clock instead."""
    query = select(OutboxMessageRow).where(OutboxMessageRow.sent_at.is_(None))
    if by_wall_clock:
        moment = now or utc_now()
        query = query.where(
            or_(
                OutboxMessageRow.next_attempt_at.is_(None),
                OutboxMessageRow.next_attempt_at <= moment,
            )
        )
    if exclude:
        query = query.where(OutboxMessageRow.id.not_in(list(exclude)))
    return session.scalars(query.order_by(OutboxMessageRow.id).limit(limit)).all()


def mark_sent(session: Session, ids: Sequence[int], *, now: datetime | None = None) -> None:
    if ids:
        session.execute(
            update(OutboxMessageRow)
            .where(OutboxMessageRow.id.in_(ids))
            .values(
                sent_at=now or utc_now(),
                attempts=OutboxMessageRow.attempts + 1,
                last_error=None,
            )
        )


def mark_failed(
    session: Session, ids: Sequence[int], *, error: str, next_attempt_at: datetime
) -> None:
    """Count a failed attempt; ``next_attempt_at`` is informational (status displays)."""
    if ids:
        session.execute(
            update(OutboxMessageRow)
            .where(OutboxMessageRow.id.in_(ids))
            .values(
                attempts=OutboxMessageRow.attempts + 1,
                next_attempt_at=next_attempt_at,
                last_error=error[:MAX_ERROR_TEXT],
            )
        )


def backlog(session: Session) -> int:
    """How many messages wait to be sent."""
    query = (
        select(func.count()).select_from(OutboxMessageRow).where(OutboxMessageRow.sent_at.is_(None))
    )
    return int(session.scalar(query) or 0)
