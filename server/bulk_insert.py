"""A batch insert on PostgreSQL as one short statement with one parameter.

SQLAlchemy's "insertmanyvalues" turns a batch of 50 decisions into one ``INSERT ... VALUES``
with 800 named parameters: about 20 kB of SQL that psycopg parses again for every batch (it
caches only statements under 4 kB) and PostgreSQL parses and plans again. That was a quarter
of the server's CPU under the regional load. Here the rows travel as one JSON array:

    INSERT INTO t (c1, c2, ...) SELECT c1, c2, ... FROM jsonb_populate_recordset(NULL::t, $1)
    ON CONFLICT (key) DO NOTHING RETURNING key

The statement text is the same for every batch of a table, so psycopg caches it and prepares
it on the server after a few uses. PostgreSQL converts each JSON value with the column's own
input function (timestamps, text, booleans, numbers; a JSON column keeps the value as is).
Rows this cannot carry exactly (a value that is not JSON, a naive time, a column left to a
Python-side default) return ``None``: the caller then uses the general statement."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import ARRAY, Table, any_, bindparam, func, select, text, tuple_
from sqlalchemy.orm import Session


class _NotPortable(Exception):
    """A value the JSON path would not store exactly as the general statement does."""


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise _NotPortable("naive datetime")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise _NotPortable(type(value).__name__)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _name(table: Table) -> str:
    name = _quote(table.name)
    return name if table.schema is None else f"{_quote(table.schema)}.{name}"


def _insert(table: Table, columns: Sequence[str]) -> str:
    """``INSERT INTO t (columns) SELECT columns FROM`` the rows of the one JSON parameter."""
    listed = ", ".join(_quote(column) for column in columns)
    name = _name(table)
    return (
        f"INSERT INTO {name} ({listed}) SELECT {listed} "
        f"FROM jsonb_populate_recordset(NULL::{name}, CAST(:rows AS jsonb))"
    )


def _payload(
    table: Table, rows: Sequence[dict[str, Any]], *, defaults_given: bool = False
) -> tuple[list[str], str] | None:
    """The rows' columns and the rows as one JSON array, or ``None`` when the JSON path
    would not store them exactly (``defaults_given``: an update, where columns left out
    keep their values)."""
    columns = sorted({key for row in rows for key in row})
    if not set(columns) <= set(table.c.keys()):
        return None
    if not defaults_given:
        for column in table.c:
            if column.name not in columns and column.default is not None:
                return None  # a Python-side default the general statement would apply
    width = len(columns)
    # rows that hold every column go as they are (a missing key would read as NULL anyway,
    # but the general statement's rows are written out in full, and so are these)
    complete = (
        rows
        if all(len(row) == width for row in rows)
        else [{column: row.get(column) for column in columns} for row in rows]
    )
    try:
        payload = json.dumps(complete, default=_encode, separators=(",", ":"),
                             allow_nan=False)  # fmt: skip
    except (_NotPortable, ValueError, TypeError):
        return None
    return columns, payload


def insert_new_postgresql(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    conflict: Sequence[str],
    returning: str,
) -> set[Any] | None:
    """The keys inserted, or ``None`` when these rows need the general statement."""
    encoded = _payload(table, rows)
    if encoded is None:
        return None
    columns, payload = encoded
    statement = (
        f"{_insert(table, columns)} "
        f"ON CONFLICT ({', '.join(_quote(column) for column in conflict)}) DO NOTHING "
        f"RETURNING {_quote(returning)}"
    )
    result = session.execute(text(statement), {"rows": payload})
    return set(result.scalars().all())


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (a manifest's travellers, their hits): on PostgreSQL as one
    statement with one parameter, else (or for rows the JSON path cannot carry) with the
    general executemany."""
    if not rows:
        return
    encoded = _payload(table, rows) if is_postgresql(session) else None
    if encoded is None:
        session.execute(table.insert(), list(rows))
        return
    columns, payload = encoded
    session.execute(text(_insert(table, columns)), {"rows": payload})


def update_rows(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], key: str = "id"
) -> None:
    """Update each row found by ``key`` with the row's other values: on PostgreSQL one
    ``UPDATE ... FROM jsonb_populate_recordset``, else one executemany."""
    if not rows:
        return
    encoded = _payload(table, rows, defaults_given=True) if is_postgresql(session) else None
    if encoded is None:
        session.execute(
            table.update().where(table.c[key] == bindparam(f"key_{key}")),
            [{**{k: v for k, v in row.items() if k != key}, f"key_{key}": row[key]}
             for row in rows],
        )  # fmt: skip
        return
    columns, payload = encoded
    name = _name(table)
    assignments = ", ".join(
        f"{_quote(column)} = given.{_quote(column)}" for column in columns if column != key
    )
    session.execute(
        text(
            f"UPDATE {name} SET {assignments} "
            f"FROM jsonb_populate_recordset(NULL::{name}, CAST(:rows AS jsonb)) AS given "
            f"WHERE {name}.{_quote(key)} = given.{_quote(key)}"
        ),
        {"rows": payload},
    )


def one_of(session: Session, columns: Sequence[Any], values: Sequence[Any]) -> Any:
    """``columns IN values`` (one column and its values, or several columns and tuples of
    theirs) for a flight's worth of values: on PostgreSQL one array parameter a column
    (``= ANY(...)``, or ``IN (SELECT * FROM unnest(...))`` for tuples), so that the
    statement's text, its plan and its parameters do not grow with the values; elsewhere
    the general ``IN`` list."""
    values = list(values)
    if len(columns) == 1:
        if not is_postgresql(session):
            return columns[0].in_(values)
        return columns[0] == any_(bindparam(None, values, type_=ARRAY(columns[0].type)))
    if not is_postgresql(session):
        return tuple_(*columns).in_(values)
    arrays = [
        bindparam(None, [value[i] for value in values], type_=ARRAY(column.type))
        for i, column in enumerate(columns)
    ]
    names = [f"v{i}" for i in range(len(columns))]
    unnested = func.unnest(*arrays).table_valued(*names).render_derived()
    return tuple_(*columns).in_(select(*(unnested.c[name] for name in names)))
