"""The gate device interface, and its fail-secure rules.

A gate has an entry door (the traveller steps in) and an exit door (the traveller leaves, once
accepted); never both open. Its state is one of :class:`GateState`. The rules, enforced here
for every driver:

* **Fail-secure.** When a driver hook raises, when the heartbeat is lost, or when the driver
  reports a fault, the gate sends ``CLOSE_ALL`` (best effort) and goes to ``FAULT``. The fault
  latches: doors stay closed and open commands are refused until :meth:`Gate.reset` succeeds.
* **Emergency release always opens.** :meth:`Gate.emergency_release` (or the board's own
  emergency input) puts the gate in ``EMERGENCY`` whatever its state, faulted included, and it
  stays there until :meth:`Gate.reset`; faults and lost heartbeats while in emergency are
  reported but never close the doors.
* A door left open longer than ``open_timeout_s`` with nobody in the gate is closed.

The public methods do the shared work and call one driver hook each (``_command``,
``_heartbeat``, ``_open``, ``_close``, ``_recover``). Drivers report board input from any thread
through ``_sensor_changed``, ``_report_fault`` and ``_board_emergency``; those never block. The
worker thread ``kiosk-gate`` sends heartbeats, applies time-outs and delivers events to
listeners, so a listener may call gate commands.
"""

from __future__ import annotations

import abc
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from hardware.executor import DeviceBound
from models.errors import DeviceError

log = logging.getLogger(__name__)


class GateError(DeviceError):
    """The gate failed or refused a command."""

    code = "gate_error"


class GateCommandError(GateError):
    """The gate's driver or board failed a command; the gate is now faulted and closed."""

    code = "gate_command_failed"


class GateFaultError(GateError):
    """The gate is faulted (doors closed); commands other than close are refused until reset."""

    code = "gate_fault"


class GateEmergencyError(GateError):
    """The gate is in emergency release; doors stay open until reset."""

    code = "gate_emergency"


class GateInterlockError(GateError):
    """The entry and the exit door may not be open at the same time."""

    code = "gate_interlock"


class GateState(Enum):
    CLOSED = "closed"
    ENTRY_OPEN = "entry_open"
    EXIT_OPEN = "exit_open"
    EMERGENCY = "emergency"
    FAULT = "fault"


class GateCommand(Enum):
    """What a driver is asked to do; the values are the relay board's command lines."""

    OPEN_ENTRY = "OPEN ENTRY"
    CLOSE_ENTRY = "CLOSE ENTRY"
    OPEN_EXIT = "OPEN EXIT"
    CLOSE_EXIT = "CLOSE EXIT"
    CLOSE_ALL = "CLOSE ALL"
    EMERGENCY_OPEN = "EMERGENCY"


class Sensor(Enum):
    PRESENCE = "presence"  # somebody is inside the gate
    TAILGATING = "tailgating"  # more than one person is inside the gate


@dataclass(frozen=True)
class GateStateChanged:
    previous: GateState
    state: GateState
    reason: str


@dataclass(frozen=True)
class SensorChanged:
    sensor: Sensor
    active: bool


@dataclass(frozen=True)
class GateFaulted:
    """A fault happened; the doors are closed unless the gate is in emergency release."""

    code: str
    message: str


@dataclass(frozen=True)
class PersonsCounted:
    """A gate that counts the persons inside (a people-counting sensor) reports a new count."""

    count: int


GateEvent = GateStateChanged | SensorChanged | GateFaulted | PersonsCounted
MAX_PERSONS = 20  # a count above this is a sensor fault, not a crowd


@dataclass(frozen=True)
class GateStatus:
    state: GateState
    presence: bool
    tailgating: bool
    last_error: str | None


GateListener = Callable[[GateEvent], None]

_OPEN_STATES = (GateState.ENTRY_OPEN, GateState.EXIT_OPEN)


class Gate(DeviceBound, abc.ABC):
    """A two-door gate that fails secure.

    Bound to a device executor (:mod:`hardware.executor`), the door commands, ``open``,
    ``close`` and ``reset`` are accepted from that executor's thread only; the gate's own worker
    (heartbeats, the door-left-open timer, faults) and :meth:`emergency_release`, which must
    never wait behind anything, are the exceptions.
    """

    def __init__(self, *, heartbeat_s: float, heartbeat_misses: int, open_timeout_s: float) -> None:
        self.heartbeat_s = heartbeat_s
        self.heartbeat_misses = heartbeat_misses
        self.open_timeout_s = open_timeout_s
        self._command_lock = threading.RLock()  # one command to the driver at a time
        self._state_lock = threading.Lock()  # short: state and sensor fields only
        self._changed = threading.Condition(self._state_lock)
        self._state = GateState.FAULT  # not open yet: nothing may open the doors
        self._sensors = dict.fromkeys(Sensor, False)
        # Set by a driver whose board counts the persons inside; a group (a family) may pass
        # together only through such a gate: the two-state tailgating sensor cannot tell two
        # from three.
        self.counts_persons = False
        self._persons = 0
        self._last_error: str | None = "not open"
        self._opened_at = 0.0
        self._misses = 0
        self._listeners: list[GateListener] = []
        self._tasks: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._is_open = False

    # --- life cycle --------------------------------------------------------------------

    def open(self) -> None:
        """Connect to the gate, close both doors and start the heartbeat."""
        self._device_call("open")
        if self._is_open:
            return
        try:
            self._open()
        except Exception as exc:
            raise GateError(f"gate could not be opened: {exc}") from exc
        self._is_open = True
        self._worker = threading.Thread(target=self._worker_loop, name="kiosk-gate", daemon=True)
        self._worker.start()
        try:
            self.reset()
        except GateError:
            self.close()
            raise

    def close(self) -> None:
        """Close the doors (unless in emergency), stop the worker, release the device."""
        self._device_call("close")
        if not self._is_open:
            return
        self._is_open = False
        if self._worker is not None:
            self._tasks.put(None)
            self._worker.join(timeout=5.0)
            self._worker = None
        with self._command_lock:
            if self.state is not GateState.EMERGENCY:
                try:
                    self._command(GateCommand.CLOSE_ALL)
                except Exception:
                    log.warning("gate: closing the doors on shutdown failed", exc_info=True)
            try:
                self._close()
            finally:
                with self._changed:
                    if self._state is not GateState.EMERGENCY:
                        self._state = GateState.FAULT
                        self._last_error = "closed"
                    self._changed.notify_all()

    def __enter__(self) -> Gate:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- commands ----------------------------------------------------------------------

    def open_entry(self) -> None:
        self._device_call("open_entry")
        self._execute(GateCommand.OPEN_ENTRY)

    def close_entry(self) -> None:
        self._device_call("close_entry")
        self._execute(GateCommand.CLOSE_ENTRY)

    def open_exit(self) -> None:
        self._device_call("open_exit")
        self._execute(GateCommand.OPEN_EXIT)

    def close_exit(self) -> None:
        self._device_call("close_exit")
        self._execute(GateCommand.CLOSE_EXIT)

    def close_all(self) -> None:
        self._device_call("close_all")
        self._execute(GateCommand.CLOSE_ALL)

    def emergency_release(self, reason: str = "operator") -> None:
        """Open both doors now and keep them open until reset(). Never refused."""
        self._enter_emergency(reason)
        with self._command_lock:
            try:
                self._command(GateCommand.EMERGENCY_OPEN)
            except Exception as exc:  # the state stays EMERGENCY; the officer must know
                log.error("gate: emergency open command failed: %s", type(exc).__name__)
                self._note_fault("gate_emergency_command_failed", type(exc).__name__)

    def reset(self) -> None:
        """Leave FAULT or EMERGENCY: reconnect if needed, close the doors, check the heartbeat."""
        self._device_call("reset")
        with self._command_lock:
            try:
                self._recover()
                alive = self._heartbeat()  # first: a dead board must not end an emergency
                if alive:
                    self._command(GateCommand.CLOSE_ALL)
            except Exception as exc:
                self._fail_secure("gate_reset_failed", type(exc).__name__)
                raise GateFaultError("gate reset failed") from exc
            if not alive:
                self._fail_secure("gate_heartbeat_lost", "no heartbeat on reset")
                raise GateFaultError("gate reset failed: no heartbeat")
            self._misses = 0
            self._set_state(GateState.CLOSED, "reset", clear_error=True)

    def heartbeat(self) -> bool:
        """Check the board is alive now; enough misses in a row fail the gate secure."""
        with self._command_lock:
            try:
                alive = self._heartbeat()
            except Exception as exc:
                log.warning("gate heartbeat failed: %s", type(exc).__name__)
                alive = False
            if alive:
                self._misses = 0
                return True
            self._misses += 1
            if self._misses == self.heartbeat_misses:  # once per loss, not on every beat
                self._fail_secure("gate_heartbeat_lost", f"{self._misses} heartbeats missed")
            return False

    def _execute(self, command: GateCommand) -> None:
        if not self._is_open:
            raise GateError(f"{command.name} on a gate that is not open")
        with self._command_lock:
            state = self.state
            opening = command in (GateCommand.OPEN_ENTRY, GateCommand.OPEN_EXIT)
            if state is GateState.EMERGENCY:
                raise GateEmergencyError(f"{command.name} refused during emergency release")
            if state is GateState.FAULT and opening:
                raise GateFaultError(f"{command.name} refused: gate faulted ({self._last_error})")
            if (command is GateCommand.OPEN_ENTRY and state is GateState.EXIT_OPEN) or (
                command is GateCommand.OPEN_EXIT and state is GateState.ENTRY_OPEN
            ):
                raise GateInterlockError(f"{command.name} refused while {state.value}")
            try:
                self._command(command)
            except Exception as exc:
                self._fail_secure("gate_command_failed", f"{command.name}: {type(exc).__name__}")
                raise GateCommandError(f"gate command {command.name} failed") from exc
            target = _target_state(state, command)
            if target is not state:
                self._set_state(target, command.name)

    # --- state, sensors, events --------------------------------------------------------

    @property
    def state(self) -> GateState:
        return self._state

    @property
    def doors_closed(self) -> bool:
        return self._state in (GateState.CLOSED, GateState.FAULT)

    def sensor(self, sensor: Sensor) -> bool:
        return self._sensors[sensor]

    def persons_inside(self) -> int | None:
        """How many persons the gate counts inside; None when it does not count."""
        return self._persons if self.counts_persons else None

    @property
    def status(self) -> GateStatus:
        with self._state_lock:
            return GateStatus(
                self._state,
                self._sensors[Sensor.PRESENCE],
                self._sensors[Sensor.TAILGATING],
                self._last_error,
            )

    def add_listener(self, listener: GateListener) -> None:
        """Call ``listener`` on the gate's worker thread for every event."""
        self._listeners.append(listener)

    def remove_listener(self, listener: GateListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def wait_state(self, state: GateState, timeout_s: float) -> bool:
        return self._wait(lambda: self._state is state, timeout_s)

    def wait_sensor(self, sensor: Sensor, active: bool, timeout_s: float) -> bool:
        return self._wait(lambda: self._sensors[sensor] is active, timeout_s)

    def _wait(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        with self._changed:
            return self._changed.wait_for(predicate, timeout_s)

    # --- for drivers (any thread, never blocking) --------------------------------------

    def _sensor_changed(self, sensor: Sensor, active: bool) -> None:
        with self._changed:
            if self._sensors[sensor] is active:
                return
            self._sensors[sensor] = active
            self._changed.notify_all()
        log.info("gate sensor %s %s", sensor.value, "on" if active else "off")
        self._post_event(SensorChanged(sensor, active))

    def _persons_counted(self, count: int) -> None:
        """The board's people counter changed (drivers with ``counts_persons`` only)."""
        if not 0 <= count <= MAX_PERSONS:
            self._report_fault("gate_count_invalid", f"person count {count} out of range")
            return
        with self._changed:
            if self._persons == count:
                return
            self._persons = count
            self._changed.notify_all()
        log.info("gate counts %d person(s) inside", count)
        self._post_event(PersonsCounted(count))

    def _report_fault(self, code: str, message: str) -> None:
        """The board or link failed: fail secure on the worker thread."""
        self._tasks.put(lambda: self._fail_secure(code, message))

    def _board_emergency(self, reason: str = "board emergency input") -> None:
        """The board's own emergency input fired: the doors are already open."""
        self._enter_emergency(reason)

    # --- internals ---------------------------------------------------------------------

    def _fail_secure(self, code: str, message: str) -> None:
        with self._command_lock:
            if self._state is GateState.EMERGENCY:
                self._note_fault(code, message)  # emergency keeps the doors open
                return
            try:
                self._command(GateCommand.CLOSE_ALL)
            except Exception as exc:
                log.error("gate: CLOSE ALL failed while failing secure: %s", type(exc).__name__)
            # The error is recorded before the state changes, so whoever sees FAULT sees why.
            self._note_fault(code, message)
            self._set_state(GateState.FAULT, code)

    def _note_fault(self, code: str, message: str) -> None:
        with self._state_lock:
            self._last_error = code
        log.error("gate fault %s: %s", code, message)
        self._post_event(GateFaulted(code, message))

    def _enter_emergency(self, reason: str) -> None:
        log.warning("gate emergency release: %s", reason)
        self._set_state(GateState.EMERGENCY, reason)

    def _set_state(self, state: GateState, reason: str, clear_error: bool = False) -> None:
        with self._changed:
            previous = self._state
            if previous is GateState.EMERGENCY and state is not previous and reason != "reset":
                return  # only reset() leaves an emergency
            if clear_error:
                self._last_error = None
            if previous is state:
                return
            self._state = state
            self._opened_at = time.monotonic()
            self._changed.notify_all()
        log.info("gate %s -> %s (%s)", previous.value, state.value, reason)
        self._post_event(GateStateChanged(previous, state, reason))

    def _post_event(self, event: GateEvent) -> None:
        self._tasks.put(lambda: self._deliver(event))

    def _deliver(self, event: GateEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a listener's bug must not stop the heartbeat
                log.exception("gate listener failed")

    def _worker_loop(self) -> None:
        next_beat = time.monotonic() + self.heartbeat_s
        while True:
            # the heartbeat is due whatever the queue holds: a busy queue must not starve it
            # (a board's watchdog closes the doors when the beats stop)
            if time.monotonic() >= next_beat:
                self.heartbeat()
                self._close_if_left_open()
                next_beat = time.monotonic() + self.heartbeat_s
            try:
                task = self._tasks.get(timeout=max(0.0, next_beat - time.monotonic()))
            except queue.Empty:
                continue
            if task is None:
                return
            try:
                task()
            except Exception:
                log.exception("gate worker task failed")

    def _close_if_left_open(self) -> None:
        with self._state_lock:
            state, since = self._state, self._opened_at
            nobody = not self._sensors[Sensor.PRESENCE]
        if state in _OPEN_STATES and nobody and time.monotonic() - since > self.open_timeout_s:
            log.warning("gate door left open for %.1f s: closing", self.open_timeout_s)
            try:
                self._execute(GateCommand.CLOSE_ALL)  # the gate's own worker: no executor check
            except GateError:
                pass  # already failed secure and reported

    # --- driver hooks ------------------------------------------------------------------

    @abc.abstractmethod
    def _command(self, command: GateCommand) -> None:
        """Make the doors do ``command``; raise if the board did not confirm it."""

    @abc.abstractmethod
    def _heartbeat(self) -> bool:
        """True if the board answered a heartbeat just now."""

    def _open(self) -> None:
        pass

    def _close(self) -> None:
        pass

    def _recover(self) -> None:
        """Reconnect a lost link before reset() closes the doors."""


def _target_state(state: GateState, command: GateCommand) -> GateState:
    if command is GateCommand.OPEN_ENTRY:
        return GateState.ENTRY_OPEN
    if command is GateCommand.OPEN_EXIT:
        return GateState.EXIT_OPEN
    if state is GateState.FAULT:
        return state  # closing does not clear a fault
    if command is GateCommand.CLOSE_ALL:
        return GateState.CLOSED
    if command is GateCommand.CLOSE_ENTRY and state is GateState.ENTRY_OPEN:
        return GateState.CLOSED
    if command is GateCommand.CLOSE_EXIT and state is GateState.EXIT_OPEN:
        return GateState.CLOSED
    return state
