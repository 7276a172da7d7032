"""Alembic environment of the server schema (its own version table)."""

from __future__ import annotations

import models.vetting_tables  # noqa: F401  (fills the metadata)
from models.migrations.online import run_migrations
from models.server_tables import ServerBase
from server.migrations import VERSION_TABLE

run_migrations(ServerBase.metadata, VERSION_TABLE)
