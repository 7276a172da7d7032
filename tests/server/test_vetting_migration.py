"""Migration s0005 creates exactly the vetting tables of the models, on PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from models.server_tables import ServerBase

pytestmark = pytest.mark.postgres


def test_the_vetting_tables_match_the_models(server_setup) -> None:  # type: ignore[no-untyped-def]
    with server_setup.state.database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = [
            d for d in compare_metadata(context, ServerBase.metadata) if "server_vetting" in repr(d)
        ]
    assert differences == []
