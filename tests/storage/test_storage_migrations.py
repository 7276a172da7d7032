"""Migrations: an empty database migrated to head equals the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

import models.tables  # noqa: F401
from kiosk.config import KioskConfig, load_config
from kiosk.storage.database import Database, create_database_engine, open_database
from models import migrations
from models.base import Base

POSTGRES_URL = os.environ.get(
    "KIOSK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_sqlite_upgrade_from_empty_matches_the_models(database: Database) -> None:
    # GIVEN an empty SQLite database opened (and so migrated) by open_database
    # WHEN the migrated schema is compared with the models
    diff = _diff(database.engine)
    # THEN there is no difference and the revision is the head
    assert diff == []
    with database.engine.connect() as connection:
        assert migrations.current_revision(connection) == migrations.head_revision()


def test_sqlite_connection_is_crash_safe(database: Database) -> None:
    # GIVEN the kiosk's database
    with database.read() as session:
        # WHEN its pragmas are read
        def pragma(name: str) -> object:
            return session.execute(text(f"PRAGMA {name}")).scalar()

        # THEN WAL, full sync, foreign keys and secure delete are on
        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 2
        assert pragma("foreign_keys") == 1
        assert pragma("secure_delete") == 1


def test_migrations_are_idempotent_and_reversible(kiosk_config: KioskConfig) -> None:
    # GIVEN a migrated database
    open_database(kiosk_config).close()
    # WHEN it is opened again, downgraded to nothing, and upgraded again
    with open_database(kiosk_config) as db:
        with db.engine.begin() as connection:
            from alembic import command

            command.downgrade(migrations.alembic_config(connection), "base")
        with db.engine.connect() as connection:
            tables = connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
            assert {row[0] for row in tables} <= {"alembic_version"}
        db.migrate()
        # THEN it matches the models again
        assert _diff(db.engine) == []


def _postgres_reachable() -> bool:
    try:
        engine = create_database_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except DBAPIError:
        return False


@pytest.fixture
def postgres_config(tmp_path: object) -> Iterator[KioskConfig]:
    if not _postgres_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is unreachable and CI=true")
        pytest.skip("PostgreSQL is not reachable")
    schema = f"kiosk_test_{uuid.uuid4().hex[:12]}"
    admin = create_database_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield load_config(
            data_dir=str(tmp_path), database={"url": POSTGRES_URL, "schema_name": schema}
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.mark.postgres
def test_postgres_upgrade_from_empty_matches_the_models(postgres_config: KioskConfig) -> None:
    # GIVEN an empty PostgreSQL schema
    # WHEN open_database migrates it
    with open_database(postgres_config) as db:
        # THEN it matches the models, and the audit tables refuse updates
        assert _diff(db.engine) == []
        with db.engine.connect() as connection:
            assert migrations.current_revision(connection) == migrations.head_revision()
            connection.execute(
                text(
                    "INSERT INTO audit_entries (seq, time, actor, action, subject_ids, details,"
                    " prev_hash, hash) VALUES (1, now(), 'a', 'b', '[]', '{}', 'p', 'h')"
                )
            )
            with pytest.raises(DBAPIError, match="append-only"):
                connection.execute(text("UPDATE audit_entries SET actor = 'x'"))
            connection.rollback()
