"""signed versions the kiosks refused (a failed signature, a value beyond local bounds)

Revision ID: s1401
Revises: s0004
Create Date: 2026-12-01 12:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "s1401"
down_revision: str | None = "s1316"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "server_kiosk_refusals",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("refusal_id", sa.String(length=64), nullable=False),
        sa.Column("list_name", sa.String(length=16), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("refused_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kiosk_id", "refusal_id", name=op.f("pk_server_kiosk_refusals")),
    )
    with op.batch_alter_table("server_kiosk_refusals") as batch_op:
        batch_op.create_index("ix_server_kiosk_refusals_received", ["received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("server_kiosk_refusals") as batch_op:
        batch_op.drop_index("ix_server_kiosk_refusals_received")
    op.drop_table("server_kiosk_refusals")
