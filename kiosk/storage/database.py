"""The kiosk's database: engine and sessions from the configuration, migrated at start-up.

SQLite (the default, one file under the data directory) is opened in WAL mode with foreign
keys on, ``synchronous=FULL`` (a committed transaction survives a power cut) and
``secure_delete`` (purged rows are overwritten, not left in free pages). Transactions are
started by us (``BEGIN``, or ``BEGIN IMMEDIATE`` for :meth:`Database.write`), not by the
sqlite3 module, so a writer takes its lock before it reads. PostgreSQL works the same way,
optionally in its own schema (``database.schema_name``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kiosk.config import KioskConfig
from kiosk.storage.failures import classify
from models import migrations

log = logging.getLogger(__name__)

_BEGIN_OPTION = "kiosk_sqlite_begin"


def create_database_engine(
    url: str, *, echo: bool = False, schema_name: str | None = None, busy_timeout_ms: int = 10_000
) -> Engine:
    """An engine for ``url`` with the kiosk's connection settings applied."""
    parsed = make_url(url)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        connect_args["timeout"] = busy_timeout_ms / 1000
    elif parsed.get_backend_name() == "postgresql" and schema_name:
        connect_args["options"] = f"-csearch_path={schema_name}"
    engine = create_engine(parsed, echo=echo, connect_args=connect_args)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, busy_timeout_ms)
    return engine


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        statement = connection.get_execution_options().get(_BEGIN_OPTION, "BEGIN")
        connection.exec_driver_sql(statement)


class Database:
    """An engine plus its session factories; close it when done."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(bind=engine, expire_on_commit=False)
        writer = engine.execution_options(**{_BEGIN_OPTION: "BEGIN IMMEDIATE"})
        self._writers = sessionmaker(bind=writer, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; rolled back at the end."""
        with self.sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose work is committed at the end of the block, or rolled back entirely
        if the block raises. On SQLite it holds the write lock from its first statement."""
        with self._writers() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest revision."""
        try:
            with self.engine.begin() as connection:
                migrations.upgrade(connection)
        except SQLAlchemyError as exc:
            raise classify(exc, "database migration failed") from exc

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def connect_database(config: KioskConfig) -> Database:
    """The configured database, without touching its schema."""
    db = config.database
    engine = create_database_engine(
        config.database_url,
        echo=db.echo,
        schema_name=db.schema_name,
        busy_timeout_ms=db.busy_timeout_ms,
    )
    return Database(engine)


def open_database(config: KioskConfig) -> Database:
    """The configured database, migrated to the newest schema (what the kiosk starts with).

    A database file this kiosk created before and that is now empty or missing is refused
    (``StorageCorruptError``), never silently recreated."""
    from kiosk.storage.file_checks import check_database_file, mark_created

    check_database_file(config)
    database = connect_database(config)
    try:
        database.migrate()
    except BaseException:
        database.close()
        raise
    mark_created(config)
    log.info("database ready (%s, schema %s)", database.dialect, migrations.head_revision())
    return database


def sqlite_checkpoint(engine: Engine) -> None:
    """Fold the WAL into the database file and truncate it (SQLite only; no-op elsewhere).

    Runs on the driver connection outside any transaction, as SQLite requires."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        if driver is not None:
            driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
