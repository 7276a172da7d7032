"""pre-arrival vetting: the travel documents named in each reservation

Revision ID: s1316
Revises: s1301
Create Date: 2026-12-01 12:45:00

An API traveller who arrives after the reservation that names their document finds it here
(issue 16). Reservations stored before this revision have no rows: they are linked when the
carrier sends them again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s1316"
down_revision: str | None = "s1301"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "server_vetting_reservation_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reservation_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=3), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["server_vetting_reservations.id"],
            name=op.f(
                "fk_server_vetting_reservation_documents_reservation_id_server_vetting_reservations"
            ),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_vetting_reservation_documents")),
    )
    with op.batch_alter_table("server_vetting_reservation_documents") as batch_op:
        batch_op.create_index(
            "ix_server_vetting_reservation_documents_doc", ["issuer", "number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_server_vetting_reservation_documents_reservation_id"),
            ["reservation_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("server_vetting_reservation_documents") as batch_op:
        batch_op.drop_index(batch_op.f("ix_server_vetting_reservation_documents_reservation_id"))
        batch_op.drop_index("ix_server_vetting_reservation_documents_doc")
    op.drop_table("server_vetting_reservation_documents")
