"""Reading audit rows one column at a time, so one damaged value names its entry.

The ORM would parse every JSON and time column of a row and raise on the first bad one, in
the middle of the whole log. Here the time and JSON columns come back as the database stored
them and are converted value by value with the column type's own result processor: a value
that does not convert becomes an error message for that row, and the verification goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, select, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import String, TypeDecorator, TypeEngine

_FRIENDLY = {"time": "time is not readable", "details": "details are not valid JSON"}


@dataclass
class RawRow:
    values: dict[str, Any]
    errors: list[str] = field(default_factory=list)


def raw_rows(
    session: Session, table: Table, converted: tuple[str, ...], order_by: str
) -> Iterator[RawRow]:
    """Every row of ``table`` in ``order_by`` order; ``converted`` columns checked one by one."""
    dialect = session.get_bind().dialect
    columns = [
        type_coerce(column, String).label(column.name) if column.name in converted else column
        for column in table.c
    ]
    processors = {name: _processor(table.c[name].type, dialect) for name in converted}
    result = session.execute(
        select(*columns).order_by(table.c[order_by]).execution_options(yield_per=1000)
    )
    for mapping in result.mappings():
        row = RawRow(dict(mapping))
        for name, processor in processors.items():
            value = row.values[name]
            try:
                if processor is not None and value is not None:
                    value = processor(value)
            except (ValueError, TypeError, OverflowError) as exc:
                value = None
                row.errors.append(
                    f"{_FRIENDLY.get(name, f'{name} is not readable')} ({type(exc).__name__})"
                )
            else:
                if value is None:
                    row.errors.append(f"{name} is missing")
            row.values[name] = value
        yield row


def _processor(column_type: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """What the ORM would do to a stored value of ``column_type`` (decorators included)."""
    if isinstance(column_type, TypeDecorator):
        decorator = column_type
        inner = decorator.impl_instance.dialect_impl(dialect).result_processor(dialect, None)

        def process(value: Any) -> Any:
            return decorator.process_result_value(inner(value) if inner else value, dialect)

        return process
    return column_type.dialect_impl(dialect).result_processor(dialect, None)
