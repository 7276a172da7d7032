"""Alembic environment: runs on the connection handed over by ``models.migrations.upgrade``
(or on ``sqlalchemy.url`` when used from the ``alembic`` command line)."""

from __future__ import annotations

import models.tables  # noqa: F401  (fills the metadata)
from models.base import Base
from models.migrations.online import run_migrations

run_migrations(Base.metadata)
