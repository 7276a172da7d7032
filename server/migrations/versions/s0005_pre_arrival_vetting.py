"""pre-arrival vetting: airline messages, quarantine, flights, travellers, hits, reservations,
rules, national lists

Revision ID: s0005
Revises: s0003
Create Date: 2026-12-01 08:59:37.737876
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import models.base

revision: str = "s0005"
down_revision: str | None = "s0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "server_vetting_interchanges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("sender", sa.String(length=40), nullable=False),
        sa.Column("control_reference", sa.String(length=80), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("travellers", sa.Integer(), nullable=False),
        sa.Column(
            "warnings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("iapi_requested", sa.Boolean(), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_vetting_interchanges")),
        sa.UniqueConstraint(
            "sender",
            "control_reference",
            name=op.f("uq_server_vetting_interchanges_sender_control_reference"),
        ),
    )
    op.create_table(
        "server_vetting_national_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("state", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_vetting_national_entries")),
        sa.UniqueConstraint(
            "state", "kind", "key", name=op.f("uq_server_vetting_national_entries_state_kind_key")
        ),
    )
    op.create_table(
        "server_vetting_quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("segment", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_vetting_quarantine")),
    )
    with op.batch_alter_table("server_vetting_quarantine", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_server_vetting_quarantine_sha256"), ["sha256"], unique=False
        )

    op.create_table(
        "server_vetting_reservations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("carrier", sa.String(length=3), nullable=False),
        sa.Column("locator", sa.String(length=12), nullable=False),
        sa.Column("interchange_id", sa.BigInteger(), nullable=False),
        sa.Column("created", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ticketed", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_modified", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "payment_types",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("agency", sa.String(length=20), nullable=True),
        sa.Column("one_way", sa.Boolean(), nullable=False),
        sa.Column(
            "itinerary",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "travellers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "contact_hashes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "contact_masked",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("bags", sa.Integer(), nullable=True),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_vetting_reservations")),
        sa.UniqueConstraint(
            "carrier", "locator", name=op.f("uq_server_vetting_reservations_carrier_locator")
        ),
    )
    op.create_table(
        "server_vetting_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column(
            "conditions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_vetting_rules")),
    )
    op.create_table(
        "server_vetting_flights",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("flight", sa.String(length=12), nullable=False),
        sa.Column("carrier", sa.String(length=3), nullable=False),
        sa.Column("departure_date", sa.Date(), nullable=False),
        sa.Column("origin", sa.String(length=5), nullable=False),
        sa.Column("arrival_port", sa.String(length=5), nullable=False),
        sa.Column("arrival_date", sa.Date(), nullable=False),
        sa.Column("departure", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("arrival", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("list_type", sa.String(length=10), nullable=False),
        sa.Column(
            "legs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("interchange_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "published_keys",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interchange_id"],
            ["server_vetting_interchanges.id"],
            name=op.f("fk_server_vetting_flights_interchange_id_server_vetting_interchanges"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_vetting_flights")),
        sa.UniqueConstraint(
            "flight",
            "departure_date",
            "origin",
            "list_type",
            name=op.f("uq_server_vetting_flights_flight_departure_date_origin_list_type"),
        ),
    )
    with op.batch_alter_table("server_vetting_flights", schema=None) as batch_op:
        batch_op.create_index(
            "ix_server_vetting_flights_port_arrival", ["arrival_port", "arrival_date"], unique=False
        )

    op.create_table(
        "server_vetting_travellers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("flight_id", sa.Integer(), nullable=False),
        sa.Column("interchange_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("in_transit", sa.Boolean(), nullable=False),
        sa.Column("surname", sa.String(length=120), nullable=False),
        sa.Column("given_names", sa.String(length=120), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("nationality", sa.String(length=3), nullable=True),
        sa.Column("residence", sa.String(length=5), nullable=True),
        sa.Column("embarkation", sa.String(length=5), nullable=True),
        sa.Column("debarkation", sa.String(length=5), nullable=True),
        sa.Column("doc_type", sa.String(length=2), nullable=True),
        sa.Column("doc_number", sa.String(length=20), nullable=True),
        sa.Column("doc_issuer", sa.String(length=3), nullable=True),
        sa.Column("doc_expiry", sa.Date(), nullable=True),
        sa.Column(
            "documents",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("reservation", sa.String(length=35), nullable=True),
        sa.Column("seat", sa.String(length=35), nullable=True),
        sa.Column("bags", sa.Integer(), nullable=True),
        sa.Column(
            "problems",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("vetted_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "list_versions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("pnr_id", sa.BigInteger(), nullable=True),
        sa.Column("iapi", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["flight_id"],
            ["server_vetting_flights.id"],
            name=op.f("fk_server_vetting_travellers_flight_id_server_vetting_flights"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_vetting_travellers")),
    )
    with op.batch_alter_table("server_vetting_travellers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_server_vetting_travellers_document", ["doc_issuer", "doc_number"], unique=False
        )
        batch_op.create_index("ix_server_vetting_travellers_flight", ["flight_id"], unique=False)
        batch_op.create_index(
            "ix_server_vetting_travellers_reservation", ["reservation"], unique=False
        )

    op.create_table(
        "server_vetting_hits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("traveller_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column(
            "fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["traveller_id"],
            ["server_vetting_travellers.id"],
            name=op.f("fk_server_vetting_hits_traveller_id_server_vetting_travellers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_vetting_hits")),
    )
    with op.batch_alter_table("server_vetting_hits", schema=None) as batch_op:
        batch_op.create_index("ix_server_vetting_hits_traveller", ["traveller_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("server_vetting_hits", schema=None) as batch_op:
        batch_op.drop_index("ix_server_vetting_hits_traveller")

    op.drop_table("server_vetting_hits")
    with op.batch_alter_table("server_vetting_travellers", schema=None) as batch_op:
        batch_op.drop_index("ix_server_vetting_travellers_reservation")
        batch_op.drop_index("ix_server_vetting_travellers_flight")
        batch_op.drop_index("ix_server_vetting_travellers_document")

    op.drop_table("server_vetting_travellers")
    with op.batch_alter_table("server_vetting_flights", schema=None) as batch_op:
        batch_op.drop_index("ix_server_vetting_flights_port_arrival")

    op.drop_table("server_vetting_flights")
    op.drop_table("server_vetting_rules")
    op.drop_table("server_vetting_reservations")
    with op.batch_alter_table("server_vetting_quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_server_vetting_quarantine_sha256"))

    op.drop_table("server_vetting_quarantine")
    op.drop_table("server_vetting_national_entries")
    op.drop_table("server_vetting_interchanges")
