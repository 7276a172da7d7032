"""The transactional outbox: messages for the central server, written in the same database
transaction as the fact they report, and relayed later (store and forward)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utc_now


class OutboxMessageRow(Base):
    """One message to send. ``kind`` is e.g. ``decision``, ``device_event``,
    ``audit_checkpoint``; ``subject_id`` (a transaction id for decisions) makes a second
    message of the same kind about the same subject impossible; ``message_id`` is the
    idempotency key the server sees."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("kind", "subject_id"),
        Index("ix_outbox_pending", "sent_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
