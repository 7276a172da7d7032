"""The lane's service state (plain Python listeners on any thread) as a Qt signal on the GUI
thread, the way :mod:`ui.bridge` carries session events."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

from kiosk.lane import Lane, LaneStatus


class LaneBridge(QObject):
    received = Signal(object)  # emitted on any thread
    changed = Signal(object)  # LaneStatus, on the GUI thread

    def __init__(self, lane: Lane, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lane = lane
        self.received.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)
        self._remove: Callable[[], None] | None = lane.add_listener(self.received.emit)

    def close(self) -> None:
        if self._remove is not None:
            self._remove()
            self._remove = None

    @Slot(object)
    def _dispatch(self, status: object) -> None:
        if isinstance(status, LaneStatus):
            self.changed.emit(status)
