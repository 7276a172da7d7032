"""GIVEN the one-statement insert and update of a manifest's rows (server/bulk_insert.py)
WHEN rows with dates, aware times, JSON, NULLs and quotes go through them on PostgreSQL
(one JSON parameter) and on SQLite (the general executemany) THEN both store exactly what
the general statements store, and rows the JSON path cannot carry take the general one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    select,
)
from sqlalchemy.orm import Session

from server import bulk_insert
from tests.server.conftest import POSTGRES_URL, private_schema

_WHEN = dt.datetime(2026, 12, 1, 19, 30, 5, 123456, tzinfo=dt.UTC)


def _table(schema: str | None) -> Table:
    return Table(
        "bulk_rows",
        MetaData(schema=schema),
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("name", String(40)),
        Column("born", Date, nullable=True),
        Column("seen", DateTime(timezone=True), nullable=True),
        Column("fields", JSON, nullable=True),
        Column("score", Integer, nullable=True),
    )


@pytest.fixture(params=["postgresql", "sqlite"])
def database(request: pytest.FixtureRequest) -> Iterator[tuple[Engine, Table]]:
    if request.param == "sqlite":
        engine = create_engine("sqlite://")
        table = _table(None)
        table.metadata.create_all(engine)
        yield engine, table
        engine.dispose()
        return
    with private_schema("kiosk_bulk_rows") as schema:
        engine = create_engine(POSTGRES_URL)
        table = _table(schema)
        table.metadata.create_all(engine)
        yield engine, table
        engine.dispose()


def _rows(engine: Engine, table: Table) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        found = connection.execute(select(table).order_by(table.c.id)).all()
    out = []
    for row in found:
        seen = row.seen.astimezone(dt.UTC) if row.seen and row.seen.tzinfo else row.seen
        out.append((row.name, row.born, seen, row.fields, row.score))
    return out


def test_rows_are_inserted_and_updated_as_given(database: tuple[Engine, Table]) -> None:
    engine, table = database
    rows = [
        {"name": "O'Brien \"quoted\" \\ back", "born": dt.date(1970, 1, 2), "seen": _WHEN,
         "fields": ["name", "birth_date"], "score": 3},
        {"name": "Ünïcødé", "born": None, "seen": None, "fields": {"a": [1, None]},
         "score": None},
    ]  # fmt: skip
    # WHEN they are inserted in one call
    with Session(engine) as session, session.begin():
        bulk_insert.insert_rows(session, table, rows)
    stored = _rows(engine, table)
    # THEN each is stored as given (JSON kept, the aware time the same instant)
    assert stored == [
        ("O'Brien \"quoted\" \\ back", dt.date(1970, 1, 2), _stored_time(engine),
         ["name", "birth_date"], 3),
        ("Ünïcødé", None, None, {"a": [1, None]}, None),
    ]  # fmt: skip
    # WHEN both are updated by id in one call, a column left out untouched
    with Session(engine) as session, session.begin():
        ids = session.scalars(select(table.c.id).order_by(table.c.id)).all()
        bulk_insert.update_rows(
            session,
            table,
            [{"id": ids[0], "score": 9, "fields": None}, {"id": ids[1], "score": 1,
                                                           "fields": ["x"]}],
        )  # fmt: skip
    # THEN only the given columns moved
    after = _rows(engine, table)
    assert [(r[0], r[3], r[4]) for r in after] == [
        ('O\'Brien "quoted" \\ back', None, 9),
        ("Ünïcødé", ["x"], 1),
    ]


def _stored_time(engine: Engine) -> dt.datetime:
    # SQLite keeps a naive text of the time it was given
    return _WHEN if engine.dialect.name == "postgresql" else _WHEN.replace(tzinfo=None)


def test_rows_the_json_path_cannot_carry_take_the_general_statement(
    database: tuple[Engine, Table],
) -> None:
    engine, table = database
    naive = dt.datetime(2026, 12, 1, 12, 0)
    with Session(engine) as session, session.begin():
        bulk_insert.insert_rows(session, table, [{"name": "n", "seen": naive, "score": 1}])
        bulk_insert.insert_rows(session, table, [])  # nothing to do, no statement
    assert [r[0] for r in _rows(engine, table)] == ["n"]
