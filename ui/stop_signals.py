"""Stopping the e-gate cleanly on SIGTERM (systemd stop) and SIGINT, at any moment of start-up.

Without a handler, a stop during start-up killed the process half-way: face worker processes
being started, device threads running, native threads destroyed at exit ("terminate called
without an active exception", exit 134). With :func:`install`, a stop signal only records the
request: start-up finishes, then everything is closed in order and the process exits 0. While
the Qt event loop runs, a 200 ms timer lets Python run the handler, which quits the loop.
"""

from __future__ import annotations

import logging
import signal
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)

TICK_MS = 200


class StopRequest:
    def __init__(self) -> None:
        self.requested = False
        self._app: Any = None
        self._timer: Any = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if not self.requested:
            log.info("stop requested (%s): closing", signal.Signals(signum).name)
        self.requested = True
        if self._app is not None:
            self._app.quit()

    def attach(self, app: Any) -> None:
        """From now on a stop quits ``app``'s event loop (which may already be asked)."""
        from PySide6.QtCore import QTimer

        self._app = app
        self._timer = QTimer()
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(lambda: None)  # Python runs signal handlers in between
        self._timer.start()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._app = None
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()


def install() -> StopRequest:
    """Handle SIGTERM and SIGINT by requesting a stop (main thread only)."""
    request = StopRequest()
    for signum in (signal.SIGTERM, signal.SIGINT):
        request._previous[signum] = signal.signal(signum, request._handle)
    return request
