"""failed logins per client address, whatever the user names (the address's budget)

Revision ID: s1402
Revises: s1401
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision: str = "s1402"
down_revision: str | None = "s1401"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "server_login_addresses",
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column(
            "attempts", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("blocked_until", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("blocks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_server_login_addresses")),
    )


def downgrade() -> None:
    op.drop_table("server_login_addresses")
