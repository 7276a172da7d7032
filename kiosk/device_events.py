"""Device facts for technicians, written to ``device_events``: gate faults (door jams, motor,
lost heartbeat, the board's watchdog), emergency releases, door state changes that matter and
passage outcomes, with the transaction id where there is one. No personal data.

:class:`kiosk.app.KioskRuntime` connects :class:`DeviceEventLog` to the gate's events and to
the session bus. A write that fails (the storage is what failed) is logged, never raised into
the gate's worker.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from hardware.gate import GateEvent, GateFaulted, GateState, GateStateChanged
from kiosk.session.events import Finished, SessionEvent, StateEntered
from kiosk.session.steps import Outcome
from kiosk.storage.database import Database
from models.errors import StorageError
from models.tables import DeviceEventRow

log = logging.getLogger(__name__)

MAX_MESSAGE = 500
_JAM_WORDS = ("jam", "blocked", "obstruct")


class DeviceEventLog:
    def __init__(self, database: Database, kiosk_id: str) -> None:
        self.database = database
        self.kiosk_id = kiosk_id
        self.written = 0
        self.failed = 0
        self._lock = threading.Lock()
        self._transaction: str | None = None  # the transaction at the gate, if any

    def record(
        self,
        device: str,
        kind: str,
        code: str | None = None,
        message: str = "",
        transaction_id: str | None = None,
    ) -> bool:
        """Write one event; False (and a log line) when the storage refused it."""
        row = DeviceEventRow(
            kiosk_id=self.kiosk_id,
            device=device[:32],
            kind=kind[:32],
            code=code[:64] if code else None,
            message=message[:MAX_MESSAGE],
            transaction_id=transaction_id,
        )
        try:
            with self.database.write() as session:
                session.add(row)
        except (SQLAlchemyError, StorageError) as exc:
            with self._lock:
                self.failed += 1
            log.error("device event %s/%s not stored: %s", device, kind, type(exc).__name__)
            return False
        with self._lock:
            self.written += 1
        return True

    # --- listeners ---------------------------------------------------------------------

    def on_gate_event(self, event: GateEvent) -> None:
        if isinstance(event, GateFaulted):
            words = f"{event.code} {event.message}".lower()
            kind = "door_jam" if any(word in words for word in _JAM_WORDS) else "fault"
            self.record("gate", kind, event.code, event.message, self._transaction)
        elif isinstance(event, GateStateChanged):
            if event.state is GateState.EMERGENCY:
                self.record("gate", "emergency_release", None, event.reason, self._transaction)
            elif event.previous is GateState.EMERGENCY:
                self.record("gate", "emergency_reset", None, event.reason)
            elif event.state is GateState.FAULT and event.previous is not GateState.FAULT:
                self.record("gate", "fail_secure", event.reason, "doors closed")

    def on_session_event(self, event: SessionEvent) -> None:
        if isinstance(event, StateEntered):
            self._transaction = event.transaction_id
        elif isinstance(event, Finished):
            passage = _PASSAGE_CODES.get(event.outcome)
            if passage is not None:
                self.record(
                    "gate", "passage", passage, _PASSAGE_TEXT[passage], event.transaction_id
                )
            self._transaction = None


_PASSAGE_CODES = {
    Outcome.ACCEPTED: "passed",
    Outcome.TAILGATING: "tailgating",
    Outcome.PASSAGE_TIMEOUT: "timeout",
    Outcome.GATE_FAULT: "gate_fault",
}
_PASSAGE_TEXT = {
    "passed": "traveller walked through",
    "tailgating": "a second person entered with the traveller",
    "timeout": "the passage did not complete in time",
    "gate_fault": "the gate failed during the passage",
}
