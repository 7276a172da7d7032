"""A logging handler that keeps the newest records in memory for the technician console.

Records carry no personal data by design (see ``kiosk.logs``); the buffer only formats and
keeps them, and tells subscribers (called on the logging thread: the console marshals them
onto its GUI thread) about each new line.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class LogLine:
    time: datetime
    level: str
    logger: str
    transaction_id: str
    message: str

    def format(self) -> str:
        stamp = self.time.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return f"{stamp} {self.level:<8} {self.logger} [{self.transaction_id}] {self.message}"

    def matches(self, min_level: str = "DEBUG", logger: str = "", text: str = "") -> bool:
        if LEVELS.index(self.level) < LEVELS.index(min_level):
            return False
        if logger and not self.logger.startswith(logger):
            return False
        return not text or text.lower() in self.message.lower()


LineListener = Callable[[LogLine], None]


class LogBuffer(logging.Handler):
    """Keeps the last ``capacity`` records; attach it to the root logger."""

    def __init__(self, capacity: int = 5000, level: int = logging.DEBUG) -> None:
        super().__init__(level)
        self._lines: deque[LogLine] = deque(maxlen=capacity)
        self._listeners: list[LineListener] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = record.levelname if record.levelname in LEVELS else "INFO"
            line = LogLine(
                time=datetime.fromtimestamp(record.created, UTC),
                level=level,
                logger=record.name,
                transaction_id=str(getattr(record, "txn", "-")),
                message=record.getMessage()[:2000],
            )
        except Exception:
            self.handleError(record)
            return
        with self._guard:
            self._lines.append(line)
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(line)
            except Exception:  # never let the console break logging
                pass

    def lines(self, min_level: str = "DEBUG", logger: str = "", text: str = "") -> list[LogLine]:
        with self._guard:
            snapshot = list(self._lines)
        return [line for line in snapshot if line.matches(min_level, logger, text)]

    def subscribe(self, listener: LineListener) -> Callable[[], None]:
        with self._guard:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._guard:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def install(self, logger: logging.Logger | None = None) -> Callable[[], None]:
        """Attach to ``logger`` (the root logger by default); returns the detach function."""
        target = logger or logging.getLogger()
        target.addHandler(self)
        return lambda: target.removeHandler(self)
