"""manifest entries carry the central server's pre-arrival vetting

Revision ID: 0007
Revises: 0001
Create Date: 2026-12-01 09:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("manifest_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vetting", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column(
                "vetting_reasons",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("manifest_entries", schema=None) as batch_op:
        batch_op.drop_column("vetting_reasons")
        batch_op.drop_column("vetting")
