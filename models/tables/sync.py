"""Sync state: the version of each list received from the server and the last contact."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utc_now


class ListVersionRow(Base):
    """``name`` is lost_stolen | watchlist | manifest | trust | config."""

    __tablename__ = "list_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    entries: Mapped[int] = mapped_column(default=0)


class SyncStatusRow(Base):
    """Contact with one peer (``server``): last contact, last success, failures in a row."""

    __tablename__ = "sync_status"

    peer: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_contact_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
