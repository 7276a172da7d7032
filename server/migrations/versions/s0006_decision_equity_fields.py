"""site, month, nationality, sex and face mismatch of received decisions (equity statistics)

Revision ID: s0006
Revises: s0005
Create Date: 2026-12-01 09:30:00

Decisions received before this revision keep NULL in the new columns: they carry no sex and
no site, and the statistics count them as "unknown".
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0006"
down_revision: str | None = "s0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("server_decisions") as batch:
        batch.add_column(sa.Column("site", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("month", sa.String(length=7), nullable=True))
        batch.add_column(sa.Column("nationality", sa.String(length=3), nullable=True))
        batch.add_column(sa.Column("sex", sa.String(length=1), nullable=True))
        batch.add_column(sa.Column("face_mismatch", sa.Boolean(), nullable=True))
        batch.create_index("ix_server_decisions_month_site", ["month", "site"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("server_decisions") as batch:
        batch.drop_index("ix_server_decisions_month_site")
        batch.drop_column("face_mismatch")
        batch.drop_column("sex")
        batch.drop_column("nationality")
        batch.drop_column("month")
        batch.drop_column("site")
