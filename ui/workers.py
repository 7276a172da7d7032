"""Running blocking work (devices, database, network) off the GUI thread.

A :class:`Worker` owns a small pool of named Python threads (``kiosk-ui-<name>-N``). Each job's
result or error comes back as a queued Qt signal, so the callbacks run on the GUI thread.
:meth:`Worker.close` waits for running jobs and drops queued ones: windows call it on close.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)

ResultCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class Worker(QObject):
    _finished = Signal(object)

    def __init__(self, name: str, threads: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"kiosk-ui-{name}")
        self._closed = False
        self.pending = 0
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def submit(
        self,
        job: Callable[[], Any],
        on_result: ResultCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> Future[Any] | None:
        if self._closed:
            return None
        self.pending += 1
        future = self._pool.submit(job)
        future.add_done_callback(lambda f: self._finished.emit((f, on_result, on_error)))
        return future

    @Slot(object)
    def _deliver(
        self, item: tuple[Future[Any], ResultCallback | None, ErrorCallback | None]
    ) -> None:
        future, on_result, on_error = item
        self.pending -= 1
        if self._closed or future.cancelled():
            return
        error = future.exception()
        if error is not None:
            if on_error is not None:
                on_error(error)
            else:
                log.warning(
                    "background job failed: %s", getattr(error, "code", type(error).__name__)
                )
            return
        if on_result is not None:
            on_result(future.result())

    def close(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
