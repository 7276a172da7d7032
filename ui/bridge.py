"""Session events (plain Python, published on the engine's worker thread) as Qt signals on the
GUI thread.

The listener subscribed to the :class:`~kiosk.session.events.EventBus` only emits ``received``;
the connection to :meth:`SessionBridge._dispatch` is queued, so every typed signal below fires
on the thread the bridge lives on (the GUI thread), never on the engine's thread.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

from kiosk.session.events import (
    ChallengeAnnounced,
    Decided,
    DocumentRead,
    EventBus,
    FamilyProgress,
    Fault,
    Finished,
    Guidance,
    Progress,
    SessionEvent,
    StateEntered,
)


class SessionBridge(QObject):
    received = Signal(object)  # emitted on any thread
    state_entered = Signal(str)  # State value
    progress = Signal(str, float)
    guidance = Signal(str, str)  # code, English default
    decided = Signal(str, list)  # decision, reasons
    finished = Signal(str)  # outcome
    fault = Signal(str, str)  # code, user message
    document_read = Signal(str)  # nationality (three letters)
    family_progress = Signal(int, int)  # member, members (a family transaction)
    challenge = Signal(int)  # the liveness challenge's cue, to present and answer

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.received.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] | None = bus.subscribe(self._on_event)

    def _on_event(self, event: SessionEvent) -> None:
        self.received.emit(event)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @Slot(object)
    def _dispatch(self, event: object) -> None:
        if isinstance(event, StateEntered):
            self.state_entered.emit(event.state.value)
        elif isinstance(event, Progress):
            self.progress.emit(event.state.value, event.fraction)
        elif isinstance(event, Guidance):
            self.guidance.emit(event.code, event.message)
        elif isinstance(event, Decided):
            self.decided.emit(event.decision, list(event.reasons))
        elif isinstance(event, Finished):
            self.finished.emit(event.outcome)
        elif isinstance(event, Fault):
            self.fault.emit(event.code, event.user_message)
        elif isinstance(event, DocumentRead):
            self.document_read.emit(event.nationality)
        elif isinstance(event, FamilyProgress):
            self.family_progress.emit(event.member, event.members)
        elif isinstance(event, ChallengeAnnounced):
            self.challenge.emit(event.cue)
