"""The server's database: engine, sessions and its own Alembic history run at start-up."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from server import migrations
from server.config import ServerConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long the server waits for PostgreSQL: to connect (libpq ``connect_timeout``,
    which covers a server that accepts and never answers), for each statement
    (``statement_timeout``, server side), for an unacknowledged packet
    (``tcp_user_timeout``: a partition that drops packets) and for a pooled connection."""

    connect_s: int = 3
    statement_s: float = 15.0
    pool_s: float = 2.0


def create_server_engine(
    url: str,
    *,
    schema: str | None = None,
    pool_size: int = 8,
    timeouts: DatabaseTimeouts | None = None,
) -> Engine:
    limits = timeouts or DatabaseTimeouts()
    parsed = make_url(url)
    connect_args: dict[str, Any] = {}
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        connect_args["timeout"] = 30
        connect_args["check_same_thread"] = False
    else:
        options.update(
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            pool_timeout=limits.pool_s,
        )
        settings = [f"-cstatement_timeout={int(limits.statement_s * 1000)}"]
        if schema:
            settings.append(f"-csearch_path={schema}")
        connect_args.update(
            options=" ".join(settings),
            connect_timeout=limits.connect_s,
            tcp_user_timeout=int(limits.statement_s * 1000),
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
        )
    engine = create_engine(parsed, connect_args=connect_args, **options)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA synchronous=FULL")
            finally:
                cursor.close()

    return engine


class ServerDatabase:
    """An engine and its session factory; :meth:`session` commits or rolls back."""

    def __init__(self, engine: Engine, *, schema: str | None = None) -> None:
        self.engine = engine
        self.schema = schema  # names the notification channels (server.notify)
        self.sessions = sessionmaker(
            bind=engine, expire_on_commit=False, info={"notify_schema": schema}
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session, session.begin():
            yield session

    def migrate(self) -> None:
        with self.engine.begin() as connection:
            migrations.upgrade(connection)

    def close(self) -> None:
        self.engine.dispose()


def open_server_database(config: ServerConfig) -> ServerDatabase:
    """The configured database, migrated to the newest server schema."""
    timeouts = DatabaseTimeouts(
        connect_s=config.db_connect_timeout_s,
        statement_s=config.db_statement_timeout_s,
        pool_s=config.db_pool_timeout_s,
    )
    engine = create_server_engine(
        config.database, schema=config.database_schema, pool_size=config.pool_size,
        timeouts=timeouts,
    )  # fmt: skip
    database = ServerDatabase(engine, schema=config.database_schema)
    try:
        database.migrate()
    except BaseException:
        database.close()
        raise
    log.info("server database ready (%s)", database.dialect)
    return database
