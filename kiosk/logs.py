"""Logging set-up: per-module loggers, human-readable or JSON lines, transaction ids.

Personal data never goes into a log record: log transaction ids, check names and results.
The transaction id travels in a context variable and is added to every record.
"""

from __future__ import annotations

import contextvars
import json
import logging
import logging.handlers
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

_transaction_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "kiosk_transaction_id", default=None
)

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@contextmanager
def transaction_context(transaction_id: str) -> Iterator[None]:
    """Tag every log record made inside the block with ``transaction_id``."""
    token = _transaction_id.set(transaction_id)
    try:
        yield
    finally:
        _transaction_id.reset(token)


def current_transaction_id() -> str | None:
    return _transaction_id.get()


class _TransactionFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.txn = _transaction_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, transaction id, message."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "txn": getattr(record, "txn", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the record (tests swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


HUMAN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(txn)s] %(message)s"


def setup_logging(
    level: str = "INFO",
    *,
    json_lines: bool = False,
    file: Path | None = None,
    max_bytes: int = 10_000_000,
    backups: int = 5,
) -> None:
    """Configure the root logger once (repeat calls replace the handlers)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_kiosk", False):
            root.removeHandler(handler)
            handler.close()
    formatter: logging.Formatter = (
        JsonFormatter() if json_lines else logging.Formatter(HUMAN_FORMAT)
    )
    handlers: list[logging.Handler] = [_StderrHandler()]
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
            )
        )
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(_TransactionFilter())
        handler._kiosk = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper())
