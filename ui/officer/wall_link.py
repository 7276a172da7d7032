"""The booth's end of the live wall: the server's event stream turned into Qt signals.

:class:`WallLink` starts the source's stream (:class:`kiosk.officer.wall.WallStream`, on its
own thread) and re-emits what it reads on the GUI thread through queued connections: the
lanes whose tiles changed, a change of the referral queue, and the expiry of the officer's
sign-in (the booth then asks the officer to sign in again; the stream never reconnects with
the expired token). A source without a server (the standalone kiosk) has no wall.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from kiosk.officer.referrals import OfficerSession, ReferralSource
from kiosk.officer.wall import WallModel
from ui.workers import Worker


class WallLink(QObject):
    tiles_changed = Signal(list)  # the lanes whose tiles changed
    queue_changed = Signal()  # the queue changed on the server: reload it
    expired = Signal()  # the officer's sign-in expired: sign in again
    _received = Signal(str, object)  # emitted on the stream's thread, delivered queued
    _expired = Signal()

    def __init__(self, source: ReferralSource, worker: Worker, parent: QObject) -> None:
        super().__init__(parent)
        self.source = source
        self.worker = worker
        self.model = WallModel()
        self.stream: Any = None
        self._queue_version = 0
        queued = Qt.ConnectionType.QueuedConnection
        self._received.connect(self._on_event, queued)
        self._expired.connect(self.expired, queued)

    @property
    def available(self) -> bool:
        return hasattr(self.source, "wall_stream")

    def start(self, session: OfficerSession, token: Callable[[], str | None]) -> bool:
        """The tiles, then the stream; False without a server (nothing pushes changes)."""
        start = getattr(self.source, "wall_stream", None)
        lanes = getattr(self.source, "lanes", None)
        if start is None or lanes is None:
            return False
        self.stop()
        self.worker.submit(lambda: lanes(session), self._initial_tiles)
        self.stream = start(token, self._received.emit, self._expired.emit)
        return True

    def stop(self) -> None:
        if self.stream is not None:
            stream, self.stream = self.stream, None
            stream.close()

    def _initial_tiles(self, items: Any) -> None:
        for item in items:
            self.model.apply("lane", item)
        self.tiles_changed.emit(sorted(self.model.tiles))

    @Slot(str, object)
    def _on_event(self, event: str, data: object) -> None:
        if not isinstance(data, dict):
            return
        changed = self.model.apply(event, data)
        if changed:
            self.tiles_changed.emit(changed)
        if self.model.queue_version != self._queue_version:
            self._queue_version = self.model.queue_version
            self.queue_changed.emit()
