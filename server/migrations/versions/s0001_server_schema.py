"""server schema

Revision ID: s0001
Revises:
Create Date: 2026-11-22 07:58:16.620339
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import models.base

revision: str = "s0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "server_audit_checkpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("prev_checkpoint_seq", sa.BigInteger(), nullable=False),
        sa.Column("time", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=256), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=True),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_audit_checkpoints")),
        sa.UniqueConstraint(
            "kiosk_id", "seq", name=op.f("uq_server_audit_checkpoints_kiosk_id_seq")
        ),
    )
    op.create_table(
        "server_audit_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("time", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_audit_events")),
    )
    op.create_table(
        "server_decisions",
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column(
            "reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("started_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("policy", sa.String(length=64), nullable=True),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "checks",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "timings_ms",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("transaction_id", name=op.f("pk_server_decisions")),
    )
    with op.batch_alter_table("server_decisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_server_decisions_kiosk_decided", ["kiosk_id", "decided_at"], unique=False
        )

    op.create_table(
        "server_devices",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=True),
        sa.Column("enrolled_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_devices")),
    )
    op.create_table(
        "server_heartbeats",
        sa.Column("device_name", sa.String(length=64), nullable=False),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("backlog", sa.Integer(), nullable=False),
        sa.Column("software_version", sa.String(length=32), nullable=True),
        sa.Column(
            "devices",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("device_name", name=op.f("pk_server_heartbeats")),
    )
    op.create_table(
        "server_list_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("list_name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_list_changes")),
    )
    with op.batch_alter_table("server_list_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_server_list_changes_list_version", ["list_name", "version"], unique=False
        )

    op.create_table(
        "server_list_versions",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_list_versions")),
    )
    op.create_table(
        "server_referrals",
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("surname", sa.String(length=120), nullable=True),
        sa.Column("given_names", sa.String(length=120), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("officer", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("delivered_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("transaction_id", name=op.f("pk_server_referrals")),
    )
    with op.batch_alter_table("server_referrals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_server_referrals_kiosk_delivery",
            ["kiosk_id", "status", "delivered_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_server_referrals_status_created", ["status", "created_at"], unique=False
        )

    op.create_table(
        "server_users",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_users")),
    )
    op.create_table(
        "server_device_certificates",
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("device_name", sa.String(length=64), nullable=False),
        sa.Column("fingerprint_sha256", sa.String(length=64), nullable=False),
        sa.Column("issued_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("not_after", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_name"],
            ["server_devices.name"],
            name=op.f("fk_server_device_certificates_device_name_server_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_server_device_certificates")),
        sa.UniqueConstraint(
            "fingerprint_sha256", name=op.f("uq_server_device_certificates_fingerprint_sha256")
        ),
    )
    with op.batch_alter_table("server_device_certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_server_device_certificates_device_name"), ["device_name"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("server_device_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_server_device_certificates_device_name"))

    op.drop_table("server_device_certificates")
    op.drop_table("server_users")
    with op.batch_alter_table("server_referrals", schema=None) as batch_op:
        batch_op.drop_index("ix_server_referrals_status_created")
        batch_op.drop_index("ix_server_referrals_kiosk_delivery")

    op.drop_table("server_referrals")
    op.drop_table("server_list_versions")
    with op.batch_alter_table("server_list_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_server_list_changes_list_version")

    op.drop_table("server_list_changes")
    op.drop_table("server_heartbeats")
    op.drop_table("server_devices")
    with op.batch_alter_table("server_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_server_decisions_kiosk_decided")

    op.drop_table("server_decisions")
    op.drop_table("server_audit_events")
    op.drop_table("server_audit_checkpoints")
