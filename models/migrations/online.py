"""The one way both Alembic environments (kiosk and server schemas) run their migrations:
on the connection handed over by the caller, or on ``sqlalchemy.url`` from the command line.
Offline (SQL script) migrations are not supported."""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import Connection


def _run(connection: Connection, metadata: MetaData, version_table: str | None) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        version_table=version_table or "alembic_version",  # Alembic's own default name
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations(metadata: MetaData, version_table: str | None = None) -> None:
    if context.is_offline_mode():
        raise RuntimeError("offline (SQL script) migrations are not supported")
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        _run(given, metadata, version_table)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection given and no sqlalchemy.url configured")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            _run(connection, metadata, version_table)
    finally:
        engine.dispose()
