"""The headless lane service (``kiosk run``): the production kiosk without a screen.

It builds the kiosk from the configuration (:func:`kiosk.app.build_kiosk`, whatever drivers it
names), starts it (:class:`kiosk.app.KioskRuntime`: devices, lane supervision, background
sync) and runs until SIGTERM or SIGINT. Under systemd (``Type=notify``) it sends ``READY=1``
once started, ``STATUS=`` with the lane's state whenever it changes, and ``WATCHDOG=1`` from
its main loop every half ``WatchdogSec``.

With ``events`` it prints one JSON line per lane change, card arrival or removal, transaction
state, decision and refused document on stdout: the lane's causes, and a decision's
transaction id, outcome, reasons and timings (never personal data).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

from kiosk.app import KioskRuntime, build_kiosk
from kiosk.config import KioskConfig
from kiosk.face.dlib_models import dlib_models
from kiosk.lane import LaneStatus
from kiosk.session.events import Decided, Finished, SessionEvent, StateEntered

log = logging.getLogger(__name__)


def sd_notifier(environ: dict[str, str]) -> Callable[[str], None]:
    """A function sending one sd_notify message, or doing nothing without NOTIFY_SOCKET."""
    address = environ.get("NOTIFY_SOCKET", "")
    if not address:
        return lambda _message: None
    target = "\0" + address[1:] if address.startswith("@") else address

    def notify(message: str) -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            try:
                sock.sendto(message.encode(), target)
            except OSError:
                pass  # systemd restarting: nothing to do from here

    return notify


def _watchdog_s(environ: dict[str, str]) -> float | None:
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 2e6 if usec > 0 else None


def lane_line(status: LaneStatus) -> str:
    if status.in_service:
        return "lane in service"
    return "lane OUT OF SERVICE: " + "; ".join(f.detail or f.cause.value for f in status.faults)


class LaneService:
    def __init__(
        self,
        config: KioskConfig,
        *,
        events: TextIO | None = None,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.config = config
        self.environ = dict(os.environ if environ is None else environ)
        self.notify = sd_notifier(self.environ)
        self.events = events
        self._write_lock = threading.Lock()
        self.stop_requested = threading.Event()

    def _emit(self, record: dict[str, Any]) -> None:
        if self.events is None:
            return
        with self._write_lock:
            self.events.write(json.dumps(record) + "\n")
            self.events.flush()

    def _on_lane(self, status: LaneStatus) -> None:
        self.notify(f"STATUS={lane_line(status)[:200]}")
        self._emit({"event": "lane", **status.as_dict()})

    def _on_session(self, event: SessionEvent) -> None:
        if isinstance(event, Decided):
            self._emit(
                {
                    "event": "decided",
                    "transaction_id": event.transaction_id,
                    "decision": event.decision,
                    "reasons": list(event.reasons),
                    "timings_ms": event.timings_ms,
                }
            )
        elif isinstance(event, Finished):
            self._emit(
                {
                    "event": "finished",
                    "transaction_id": event.transaction_id,
                    "outcome": event.outcome,
                }
            )
        elif isinstance(event, StateEntered):
            self._emit(
                {
                    "event": "state",
                    "transaction_id": event.transaction_id,
                    "state": event.state.value,
                }
            )

    def run(self) -> int:
        kiosk = build_kiosk(self.config)
        kiosk.lane.add_listener(self._on_lane)
        kiosk.bus.subscribe(self._on_session)
        runtime = KioskRuntime(kiosk)
        runtime.on_refused = lambda reason: self._emit({"event": "refused", "reason": reason})
        kiosk.devices.chip_reader.add_listener(
            lambda card: self._emit({"event": "card", "card": card.value})
        )
        try:
            runtime.start()
            # The face models load before READY (about a second of CPU), not on the first
            # traveller's capture.
            dlib_models()
            status = kiosk.lane.status()
            self._on_lane(status)
            print(f"kiosk {self.config.kiosk_id} running: {lane_line(status)}", file=sys.stderr)
            self.notify("READY=1")
            interval = _watchdog_s(self.environ)
            while not self.stop_requested.wait(interval or 3600.0):
                if interval is not None:
                    self.notify("WATCHDOG=1")
        finally:
            self.notify("STOPPING=1")
            runtime.stop()
            kiosk.close()
        return 0

    def install_signal_handlers(self) -> None:
        def stop(_signum: int, _frame: object) -> None:
            self.stop_requested.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
