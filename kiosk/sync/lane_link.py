"""The lane's live link to the officers' wall and the booth's remote actions.

Every event that changes the lane's tile (a session step entered, an out-of-service cause set
or cleared, a door moving, an assistance call) is posted at once to ``POST /v1/kiosk/lane``
over the sync server's mutual TLS, on a ``kiosk-lane`` thread (events arriving while a post is
in flight are folded into the next one: the tile is a state, not a log); with nothing new the
state is re-sent every ``wall.heartbeat_s``. A ``kiosk-lane-commands`` thread long-polls
``GET /v1/kiosk/commands`` and applies the booth's remote actions to the lane:

* hold, out of service: :attr:`LaneCause.REMOTE_HOLD` / :attr:`LaneCause.REMOTE_OUT_OF_SERVICE`
* return to service: both cleared (other causes, a device fault say, stay)
* release the doors after an emergency: the gate is reset, on the gate's own device executor
  (:func:`release_on_gate_thread`; a driver refuses callers off that thread), and
  :attr:`LaneCause.EMERGENCY` cleared
* acknowledge an assistance call: the call is cleared

then acknowledges each with its result. No personal data is ever sent on this link.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from hardware.executor import CancelToken
from hardware.gate import GateEvent, GateState, GateStateChanged
from kiosk.assistance import Assistance, AssistanceState
from kiosk.config import KioskConfig
from kiosk.lane import Lane, LaneCause, LaneStatus
from kiosk.session.events import Fault, SessionEvent, State, StateEntered
from kiosk.sync.client import API, ServerClient
from kiosk.sync.errors import SyncError

log = logging.getLogger(__name__)

STEP_OF: dict[State, str] = {
    State.WAITING: "waiting",
    State.DOCUMENT: "document",
    State.CHIP: "chip",
    State.FACE_CAPTURE: "face",
    State.LIVENESS: "face",
    State.MATCHING: "face",
    State.RETRY: "face",
    State.SCREENING: "decision",
    State.DECISION: "decision",
    State.GATE: "passage",
    State.REFER: "referral",
    State.DONE: "waiting",
    State.CANCELLED: "waiting",
}
DOOR_OF: dict[GateState, str] = {
    GateState.CLOSED: "closed",
    GateState.ENTRY_OPEN: "entry_open",
    GateState.EXIT_OPEN: "exit_open",
    GateState.EMERGENCY: "emergency",
    GateState.FAULT: "fault",
}
RETRY_S = 1.0
RELEASE_TIMEOUT_S = 10.0  # a reset reconnects, closes the doors and checks the heartbeat
RELEASE_OWNER = "remote-release"


class LaneLink:
    def __init__(
        self,
        config: KioskConfig,
        lane: Lane,
        *,
        client: ServerClient | None = None,
        command_client: ServerClient | None = None,
        release_doors: Callable[[], None] | None = None,
        assistance: Assistance | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """``assistance``: the traveller's Help calls (:mod:`kiosk.assistance`); the booth's
        acknowledgement clears them there."""
        self.config = config
        self.lane = lane
        wait = config.wall.commands_wait_s
        self._client = client or ServerClient(config.sync)
        self._commands = command_client or ServerClient(config.sync, timeout_s=wait + 10.0)
        self._release_doors = release_doors
        self.assistance_line = assistance
        self._clock = clock
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._detach: list[Callable[[], object]] = []
        self.step = "waiting"
        self.door = "unknown"
        self.assistance = False
        self._seq = 0
        self._dirty = True
        self._event_at = clock()
        self.sent = 0  # lane reports the server accepted
        self.applied: list[str] = []  # remote actions applied, in order

    # --- what changes the tile ----------------------------------------------------------

    def _changed(self, **values: Any) -> None:
        with self._lock:
            for key, value in values.items():
                setattr(self, key, value)
            self._seq += 1
            self._event_at = self._clock()
            self._dirty = True
            self._lock.notify_all()

    def on_session_event(self, event: SessionEvent) -> None:
        if isinstance(event, StateEntered):
            step = STEP_OF.get(event.state)
            if step is not None and step != self.step:
                self._changed(step=step)
        elif isinstance(event, Fault):
            self._changed(assistance=True)  # the traveller was told to see an officer

    def on_lane_status(self, _status: LaneStatus) -> None:
        self._changed()

    def on_gate_event(self, event: GateEvent) -> None:
        if isinstance(event, GateStateChanged):
            if event.state is GateState.EMERGENCY:
                self.lane.set(LaneCause.EMERGENCY, "doors released", key="gate")
            self._changed(door=DOOR_OF.get(event.state, "unknown"))

    def on_assistance(self, state: AssistanceState) -> None:
        self._changed(assistance=state.pending)

    def request_assistance(self) -> None:
        """The traveller (or the lane) calls an officer."""
        if self.assistance_line is not None:
            self.assistance_line.call("lane")  # the listener updates the tile
        else:
            self._changed(assistance=True)

    def snapshot(self) -> dict[str, Any]:
        status = self.lane.status()
        with self._lock:
            return {
                "seq": self._seq,
                "event_at": self._event_at.isoformat(),
                "step": self.step,
                "in_service": status.in_service,
                "causes": [cause.value for cause in status.causes],
                "door": self.door,
                "assistance": self.assistance,
                "site": self.config.site[:64] or None,
            }

    # --- threads ------------------------------------------------------------------------

    def start(
        self,
        subscribe: Callable[[Callable[[SessionEvent], Any]], Callable[[], None]] | None = None,
        gate: Any = None,
    ) -> LaneLink:
        """Listen to the session (``bus.subscribe``), the lane and the gate, then run."""
        if subscribe is not None:
            self._detach.append(subscribe(self.on_session_event))
        self._detach.append(self.lane.add_listener(self.on_lane_status))
        if self.assistance_line is not None:
            self._detach.append(self.assistance_line.add_listener(self.on_assistance))
            self.assistance = self.assistance_line.state.pending
        if gate is not None:
            gate.add_listener(self.on_gate_event)
            self.door = DOOR_OF.get(gate.state, "unknown")
            self._detach.append(lambda: gate.remove_listener(self.on_gate_event))
        for target, name in (
            (self._send_loop, "kiosk-lane"),
            (self._command_loop, "kiosk-lane-commands"),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _send_loop(self) -> None:
        heartbeat = self.config.wall.heartbeat_s
        while not self._stop.is_set():
            with self._lock:
                if not self._dirty:
                    self._lock.wait(heartbeat)
                if self._stop.is_set():
                    return
                self._dirty = False
            body = self.snapshot()
            try:
                self._client.request("POST", f"{API}/lane", json=body)
                self.sent += 1
            except SyncError as exc:
                log.warning("lane report failed: %s", exc.code)
                with self._lock:
                    self._dirty = True
                self._stop.wait(RETRY_S)

    def _command_loop(self) -> None:
        wait = self.config.wall.commands_wait_s
        while not self._stop.is_set():
            try:
                answer = self._commands.request("GET", f"{API}/commands", params={"wait": wait})
                items = answer.get("items", []) if isinstance(answer, dict) else []
                if items and not self._stop.is_set():
                    results = [
                        {"id": int(item["id"]), "result": self.apply(str(item["action"]))}
                        for item in items
                    ]
                    self._commands.request("POST", f"{API}/commands/ack", json={"items": results})
            except SyncError as exc:
                log.warning("remote actions unavailable: %s", exc.code)
                self._stop.wait(RETRY_S)
            except (KeyError, TypeError, ValueError):
                log.warning("remote actions: malformed answer")
                self._stop.wait(RETRY_S)

    def apply(self, action: str) -> str:
        """Apply one remote action; its result for the server."""
        lane = self.lane
        if action == "hold":
            lane.set(LaneCause.REMOTE_HOLD, "held from the officer's booth")
        elif action == "out_of_service":
            lane.set(LaneCause.REMOTE_OUT_OF_SERVICE, "out of service from the officer's booth")
        elif action == "return_to_service":
            lane.clear(LaneCause.REMOTE_HOLD)
            lane.clear(LaneCause.REMOTE_OUT_OF_SERVICE)
        elif action == "release_doors":
            if self._release_doors is not None:
                try:
                    self._release_doors()
                except Exception as exc:  # the gate refused: the officer must know
                    log.error("remote door release failed: %s", type(exc).__name__)
                    return f"failed: {type(exc).__name__}"[:64]
            lane.clear(LaneCause.EMERGENCY)
        elif action == "acknowledge_assistance":
            if self.assistance_line is not None:
                self.assistance_line.acknowledge("officer booth")
            self._changed(assistance=False)
        else:
            log.warning("unknown remote action %s", action[:32])
            return "unknown action"
        self.applied.append(action)
        log.info("remote action applied: %s", action)
        self._changed()
        return "applied"

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        for detach in self._detach:
            detach()
        self._detach.clear()
        for thread in self._threads:
            thread.join(self.config.wall.commands_wait_s + 12.0)
        self._threads.clear()
        self._client.close()
        self._commands.close()


def release_on_gate_thread(gate: Any) -> Callable[[], None] | None:
    """The booth's door release for ``gate``: its ``reset`` run on the gate's device executor
    (the way the session's passage commands the gate), or directly when the gate has none."""
    reset = getattr(gate, "reset", None)
    if reset is None:
        return None

    def release() -> None:
        executor = getattr(gate, "executor", None)
        if executor is None or executor.on_thread():
            reset()
            return
        executor.call(reset, token=CancelToken(RELEASE_OWNER), timeout_s=RELEASE_TIMEOUT_S,
                      name="remote door release")  # fmt: skip

    return release


def start_lane_link(
    config: KioskConfig, lane: Lane, bus: Any, gate: Any, assistance: Assistance | None = None
) -> LaneLink | None:
    """The running lane link, or None without a server (or with ``wall.enabled = false``)."""
    if not config.sync.server_url or not config.wall.enabled:
        return None
    release = release_on_gate_thread(gate)
    link = LaneLink(config, lane, release_doors=release, assistance=assistance)
    return link.start(bus.subscribe, gate)
