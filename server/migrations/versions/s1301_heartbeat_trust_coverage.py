"""trust coverage of each kiosk's last heartbeat (per state: CSCAs, CRL next update, status)

Revision ID: s1301
Revises: s0004
Create Date: 2026-12-01 12:00:00

Heartbeats received before this revision, and heartbeats of kiosks that send no coverage,
keep NULL: the fleet view shows their coverage as "not reported".
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import models.base

revision: str = "s1301"
down_revision: str | None = "s0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("server_heartbeats") as batch:
        batch.add_column(
            sa.Column(
                "trust_coverage",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
                nullable=True,
            )
        )
        batch.add_column(
            sa.Column("trust_reported_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("server_heartbeats") as batch:
        batch.drop_column("trust_reported_at")
        batch.drop_column("trust_coverage")
