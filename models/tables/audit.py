"""The append-only audit log and its signed checkpoints (see :mod:`kiosk.audit`).

Each entry holds the SHA-256 of the previous one; every N entries a checkpoint signs the
latest entry hash with the kiosk's Ed25519 key. The initial migration adds triggers that
refuse UPDATE and DELETE on both tables (``append_only_ddl`` below, for ``create_all``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, LargeBinary, String, event
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class AuditEntryRow(Base):
    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    time: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject_ids: Mapped[list[str]]
    details: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditCheckpointRow(Base):
    """A signature over (kiosk id, seq, entry hash, previous checkpoint seq, time)."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    entry_hash: Mapped[str] = mapped_column(String(64))
    prev_checkpoint_seq: Mapped[int]
    kiosk_id: Mapped[str] = mapped_column(String(64))
    time: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))


APPEND_ONLY_TABLES = ("audit_entries", "audit_checkpoints")


def sqlite_append_only_ddl(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
    ]


POSTGRES_APPEND_ONLY_FUNCTION = (
    "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
)


def postgres_append_only_ddl(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
    ]


def _attach_create_all_triggers() -> None:
    for name in APPEND_ONLY_TABLES:
        table = Base.metadata.tables[name]
        for statement in sqlite_append_only_ddl(name):
            ddl = DDL(statement)  # type: ignore[no-untyped-call]
            event.listen(table, "after_create", ddl.execute_if(dialect="sqlite"))
        for statement in [POSTGRES_APPEND_ONLY_FUNCTION, *postgres_append_only_ddl(name)]:
            ddl = DDL(statement)  # type: ignore[no-untyped-call]
            event.listen(table, "after_create", ddl.execute_if(dialect="postgresql"))


_attach_create_all_triggers()
