"""audit keys of devices and audit anomalies

Revision ID: s0002
Revises: s0001
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "s0002"
down_revision: str | None = "s0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "server_device_audit_keys",
        sa.Column("device_name", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("registered_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_name"],
            ["server_devices.name"],
            name=op.f("fk_server_device_audit_keys_device_name_server_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_name", name=op.f("pk_server_device_audit_keys")),
    )
    op.create_table(
        "server_audit_anomalies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=True),
        sa.Column("detected_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_audit_anomalies")),
        sa.UniqueConstraint(
            "kiosk_id", "seq", "kind", name=op.f("uq_server_audit_anomalies_kiosk_id_seq_kind")
        ),
    )


def downgrade() -> None:
    op.drop_table("server_audit_anomalies")
    op.drop_table("server_device_audit_keys")
