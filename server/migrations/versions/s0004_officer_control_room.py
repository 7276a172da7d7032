"""officer control room: referral priority, claims, four eyes, photos, lane wall, commands

Revision ID: s0004
Revises: s0006
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "s0004"
down_revision: str | None = "s0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = models.base.UTCDateTime(timezone=True)
JSON = models.base.JSONDocument


def upgrade() -> None:
    with op.batch_alter_table("server_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site", sa.String(length=64), nullable=True))
    with op.batch_alter_table("server_referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
        batch_op.add_column(sa.Column("document_number", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("listed", JSON, nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", UTC_TIME, nullable=True))
        batch_op.add_column(sa.Column("pending_outcome", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("pending_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("pending_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("pending_at", UTC_TIME, nullable=True))
        batch_op.add_column(sa.Column("approved_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("photos_purged_at", UTC_TIME, nullable=True))
        batch_op.create_index(
            "ix_server_referrals_queue", ["status", "priority", "created_at"], unique=False
        )
    op.create_table(
        "server_referral_photos",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("nonce", sa.LargeBinary(length=12), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint(
            "kiosk_id", "transaction_id", "kind", name=op.f("pk_server_referral_photos")
        ),
    )
    op.create_table(
        "server_lane_states",
        sa.Column("device_name", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("step_since", UTC_TIME, nullable=False),
        sa.Column("in_service", sa.Boolean(), nullable=False),
        sa.Column("causes", JSON, nullable=False),
        sa.Column("door", sa.String(length=16), nullable=False),
        sa.Column("assistance", sa.Boolean(), nullable=False),
        sa.Column("event_at", UTC_TIME, nullable=False),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("device_name", name=op.f("pk_server_lane_states")),
    )
    with op.batch_alter_table("server_lane_states", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_server_lane_states_site"), ["site"], unique=False)
    op.create_table(
        "server_lane_commands",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_name", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.Column("issued_at", UTC_TIME, nullable=False),
        sa.Column("acked_at", UTC_TIME, nullable=True),
        sa.Column("result", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_lane_commands")),
    )
    with op.batch_alter_table("server_lane_commands", schema=None) as batch_op:
        batch_op.create_index(
            "ix_server_lane_commands_device_acked", ["device_name", "acked_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("server_lane_commands")
    op.drop_table("server_lane_states")
    op.drop_table("server_referral_photos")
    with op.batch_alter_table("server_referrals", schema=None) as batch_op:
        batch_op.drop_index("ix_server_referrals_queue")
        for column in (
            "photos_purged_at",
            "approved_by",
            "pending_at",
            "pending_by",
            "pending_note",
            "pending_outcome",
            "claimed_at",
            "claimed_by",
            "listed",
            "document_number",
            "priority",
            "site",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("server_users", schema=None) as batch_op:
        batch_op.drop_column("site")
