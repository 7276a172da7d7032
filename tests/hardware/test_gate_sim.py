"""The Gate interface's fail-secure rules, on the simulated gate."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from hardware.config import SimulatedGateConfig
from hardware.gate import (
    GateCommand,
    GateCommandError,
    GateEmergencyError,
    GateError,
    GateEvent,
    GateFaulted,
    GateFaultError,
    GateInterlockError,
    GateState,
    GateStateChanged,
    Sensor,
    SensorChanged,
)
from hardware.sim.gate import SimulatedGate

WAIT_S = 3.0


class Events:
    def __init__(self) -> None:
        self._queue: queue.Queue[GateEvent] = queue.Queue()
        self.threads: set[str] = set()

    def __call__(self, event: GateEvent) -> None:
        self.threads.add(threading.current_thread().name)
        self._queue.put(event)

    def next(self, match: Callable[[GateEvent], bool]) -> GateEvent:
        while True:
            try:
                event = self._queue.get(timeout=WAIT_S)
            except queue.Empty:
                raise AssertionError("expected gate event did not come") from None
            if match(event):
                return event


def make_gate(**settings: object) -> tuple[SimulatedGate, Events]:
    config = SimulatedGateConfig.model_validate(
        {"heartbeat_s": 0.02, "auto_passage": False, **settings}
    )
    gate = SimulatedGate(config)
    events = Events()
    gate.add_listener(events)
    gate.open()
    return gate, events


@pytest.fixture
def gate() -> Iterator[SimulatedGate]:
    gate, _ = make_gate()
    yield gate
    gate.close()


def test_opening_the_device_closes_both_doors_first(gate: SimulatedGate) -> None:
    assert gate.state is GateState.CLOSED
    assert gate.commands[0] is GateCommand.CLOSE_ALL
    assert gate.doors_closed and not gate.entry_door_open and not gate.exit_door_open


def test_a_normal_passage_entry_then_exit() -> None:
    gate, events = make_gate(auto_passage=True, transit_s=0.01)
    try:
        # WHEN the entry opens THEN the simulated traveller steps in and stays inside
        gate.open_entry()
        assert gate.state is GateState.ENTRY_OPEN and gate.entry_door_open
        assert gate.wait_sensor(Sensor.PRESENCE, True, WAIT_S)
        gate.close_entry()
        assert gate.sensor(Sensor.PRESENCE)
        # WHEN the exit opens THEN the traveller walks out
        gate.open_exit()
        assert gate.state is GateState.EXIT_OPEN and gate.exit_door_open
        assert gate.wait_sensor(Sensor.PRESENCE, False, WAIT_S)
        gate.close_exit()
        assert gate.state is GateState.CLOSED and gate.doors_closed
        assert gate.commands[1:] == [
            GateCommand.OPEN_ENTRY,
            GateCommand.CLOSE_ENTRY,
            GateCommand.OPEN_EXIT,
            GateCommand.CLOSE_EXIT,
        ]
        presence = events.next(lambda e: isinstance(e, SensorChanged))
        assert presence == SensorChanged(Sensor.PRESENCE, True)
        assert events.threads == {"kiosk-gate"}
    finally:
        gate.close()


def test_both_doors_are_never_open_together(gate: SimulatedGate) -> None:
    gate.open_entry()
    with pytest.raises(GateInterlockError):
        gate.open_exit()
    assert not gate.exit_door_open
    assert gate.state is GateState.ENTRY_OPEN


def test_an_exception_in_the_driver_hook_closes_the_doors_and_faults() -> None:
    gate, events = make_gate()
    try:
        gate.open_entry()
        # GIVEN the driver will blow up on the next command
        gate.fail_next_command(RuntimeError("driver bug"))
        # WHEN the gate is told to close the entry
        with pytest.raises(GateCommandError) as raised:
            gate.close_entry()
        # THEN the error is typed, the doors were closed, and the gate is faulted
        assert isinstance(raised.value.__cause__, RuntimeError)
        assert gate.commands[-2:] == [GateCommand.CLOSE_ENTRY, GateCommand.CLOSE_ALL]
        assert not gate.entry_door_open and not gate.exit_door_open
        assert gate.state is GateState.FAULT and gate.doors_closed
        assert gate.status.last_error == "gate_command_failed"
        assert isinstance(events.next(lambda e: isinstance(e, GateFaulted)), GateFaulted)
        # AND nothing opens a faulted gate
        with pytest.raises(GateFaultError):
            gate.open_entry()
        with pytest.raises(GateFaultError):
            gate.open_exit()
        assert not gate.entry_door_open and not gate.exit_door_open
        # AND closing is still allowed, and reset brings it back
        gate.close_all()
        assert gate.state is GateState.FAULT
        gate.reset()
        assert gate.state is GateState.CLOSED and gate.status.last_error is None
    finally:
        gate.close()


def test_a_lost_heartbeat_closes_the_doors() -> None:
    gate, events = make_gate()
    try:
        gate.open_exit()
        # WHEN the board stops answering heartbeats
        gate.stop_heartbeat()
        # THEN the gate closes its doors and faults
        assert gate.wait_state(GateState.FAULT, WAIT_S)
        assert not gate.exit_door_open
        assert gate.commands[-1] is GateCommand.CLOSE_ALL
        fault = events.next(lambda e: isinstance(e, GateFaulted))
        assert isinstance(fault, GateFaulted) and fault.code == "gate_heartbeat_lost"
        # AND reset fails while the board is still silent
        with pytest.raises(GateFaultError):
            gate.reset()
        assert gate.state is GateState.FAULT
        gate.stop_heartbeat(False)
        gate.reset()
        assert gate.state is GateState.CLOSED
    finally:
        gate.close()


def test_emergency_release_opens_a_faulted_gate_and_holds_until_reset() -> None:
    gate, events = make_gate()
    try:
        # GIVEN a gate faulted by a lost heartbeat
        gate.stop_heartbeat()
        assert gate.wait_state(GateState.FAULT, WAIT_S)
        # WHEN the officer pulls the emergency release
        gate.emergency_release("fire drill")
        # THEN both doors open and stay open though the heartbeat is still lost
        assert gate.state is GateState.EMERGENCY
        assert gate.entry_door_open and gate.exit_door_open
        beats = gate.heartbeats
        deadline = time.monotonic() + WAIT_S
        while gate.heartbeats < beats + 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert gate.heartbeats >= beats + 3
        assert gate.state is GateState.EMERGENCY
        assert gate.entry_door_open and gate.exit_door_open
        # AND commands do not take the doors back
        with pytest.raises(GateEmergencyError):
            gate.close_all()
        with pytest.raises(GateEmergencyError):
            gate.open_entry()
        # AND a failed reset leaves the emergency in place
        with pytest.raises(GateFaultError):
            gate.reset()
        assert gate.state is GateState.EMERGENCY and gate.exit_door_open
        # WHEN the board is back and the officer resets THEN the gate closes
        gate.stop_heartbeat(False)
        gate.reset()
        assert gate.state is GateState.CLOSED and gate.doors_closed
        # AND listeners saw every step, starting from the first close on open()
        changes = []
        for _ in range(4):
            event = events.next(lambda e: isinstance(e, GateStateChanged))
            assert isinstance(event, GateStateChanged)
            changes.append(event.state)
        assert changes == [
            GateState.CLOSED,
            GateState.FAULT,
            GateState.EMERGENCY,
            GateState.CLOSED,
        ]
    finally:
        gate.close()


def test_a_failing_emergency_command_still_reports_emergency() -> None:
    gate, _ = make_gate()
    try:
        gate.fail_next_command(OSError("relay dead"))
        gate.emergency_release()
        assert gate.state is GateState.EMERGENCY
        assert gate.status.last_error == "gate_emergency_command_failed"
    finally:
        gate.close()


def test_the_boards_emergency_input_and_fault_report() -> None:
    gate, _ = make_gate()
    try:
        gate.board_fault("door_jammed")
        assert gate.wait_state(GateState.FAULT, WAIT_S)
        assert gate.commands[-1] is GateCommand.CLOSE_ALL
        gate.press_emergency()
        assert gate.wait_state(GateState.EMERGENCY, WAIT_S)
        assert gate.entry_door_open and gate.exit_door_open
    finally:
        gate.close()


def test_tailgating_is_reported_and_a_listener_may_close_the_gate() -> None:
    gate, events = make_gate()
    try:
        # GIVEN a listener that closes everything when tailgating is seen
        def on_tailgate(event: GateEvent) -> None:
            if event == SensorChanged(Sensor.TAILGATING, True):
                gate.close_all()

        gate.add_listener(on_tailgate)
        gate.open_exit()
        # WHEN two people walk in together
        gate.tailgate(transit_s=0.05)
        # THEN the sensor events come and the listener's command went through
        assert events.next(lambda e: isinstance(e, SensorChanged) and e.sensor is Sensor.TAILGATING)
        assert gate.wait_state(GateState.CLOSED, WAIT_S)
        assert not gate.exit_door_open
        assert gate.wait_sensor(Sensor.TAILGATING, False, WAIT_S)
        assert gate.wait_sensor(Sensor.PRESENCE, False, WAIT_S)
    finally:
        gate.close()


def test_a_door_left_open_with_nobody_inside_is_closed() -> None:
    gate, _ = make_gate(open_timeout_s=0.05)
    try:
        gate.open_entry()
        assert gate.wait_state(GateState.CLOSED, WAIT_S)
        assert not gate.entry_door_open
    finally:
        gate.close()


def test_a_failing_listener_does_not_stop_the_heartbeat() -> None:
    gate, _ = make_gate()

    def broken(event: GateEvent) -> None:
        raise RuntimeError("listener bug")

    gate.add_listener(broken)
    try:
        gate.open_entry()
        gate.stop_heartbeat()
        assert gate.wait_state(GateState.FAULT, WAIT_S)
    finally:
        gate.close()


def test_close_stops_the_threads_and_closes_the_doors() -> None:
    gate, _ = make_gate()
    gate.open_entry()
    gate.close()
    assert not gate.entry_door_open
    assert gate.commands[-1] is GateCommand.CLOSE_ALL
    alive = {t.name for t in threading.enumerate()}
    assert "kiosk-gate" not in alive and "kiosk-gate-sim" not in alive
    assert gate.state is GateState.FAULT
    with pytest.raises(GateError):
        gate.close_all()
    gate.close()


def test_open_fails_cleanly_when_the_first_close_fails() -> None:
    gate = SimulatedGate(SimulatedGateConfig(heartbeat_s=0.02))
    gate.fail_next_command()
    with pytest.raises(GateError):
        gate.open()
    assert "kiosk-gate" not in {t.name for t in threading.enumerate()}
