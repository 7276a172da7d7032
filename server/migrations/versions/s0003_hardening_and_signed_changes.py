"""records keyed on (kiosk, transaction), login throttle, two-person signed changes, alerts

Revision ID: s0003
Revises: s0002
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import models.base

revision: str = "s0003"
down_revision: str | None = "s0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> Any:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def _rekey(table: str, columns: list[str]) -> None:
    with op.batch_alter_table(table, recreate="auto") as batch_op:
        batch_op.drop_constraint(f"pk_{table}", type_="primary")
        batch_op.create_primary_key(f"pk_{table}", columns)


def upgrade() -> None:
    _rekey("server_decisions", ["kiosk_id", "transaction_id"])
    _rekey("server_referrals", ["kiosk_id", "transaction_id"])
    with op.batch_alter_table("server_users") as batch_op:
        batch_op.add_column(
            sa.Column("tokens_valid_after", models.base.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "server_login_throttle",
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_name", "address", name=op.f("pk_server_login_throttle")),
    )
    op.create_table(
        "server_change_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("list_name", sa.String(length=32), nullable=False),
        sa.Column("changes", _json(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_change_requests")),
    )
    op.create_index("ix_server_change_requests_status", "server_change_requests", ["status", "id"])
    op.create_table(
        "server_list_signatures",
        sa.Column("list_name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("envelope", _json(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("list_name", "version", name=op.f("pk_server_list_signatures")),
    )
    op.create_table(
        "server_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("details", _json(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_alerts")),
    )


def downgrade() -> None:
    op.drop_table("server_alerts")
    op.drop_table("server_list_signatures")
    op.drop_index("ix_server_change_requests_status", table_name="server_change_requests")
    op.drop_table("server_change_requests")
    op.drop_table("server_login_throttle")
    with op.batch_alter_table("server_users") as batch_op:
        batch_op.drop_column("tokens_valid_after")
    _rekey("server_referrals", ["transaction_id"])
    _rekey("server_decisions", ["transaction_id"])
