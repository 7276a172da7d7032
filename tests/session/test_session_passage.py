"""GIVEN the simulated two-door gate WHEN an accepted traveller walks through it, a second person
appears, nobody comes, the traveller stays inside, a command fails or the emergency release
fires THEN the passage ends with the right PassageResult and the doors are where they must be.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from hardware.config import SimulatedGateConfig
from hardware.executor import CancelToken, DeviceExecutor
from hardware.gate import GateCommand, GateEvent, GateState, GateStateChanged, Sensor
from hardware.sim.gate import SimulatedGate
from kiosk.session.passage import PassageSettings, pass_gate
from kiosk.session.steps import PassageResult

# Waits that a walk through always fits in, however busy the machine ...
PATIENT = PassageSettings(enter_s=30.0, leave_s=30.0, door_s=10.0)
# ... and short ones, for the cases that must time out.
SHORT = PassageSettings(enter_s=0.5, leave_s=0.5, door_s=10.0)
LEAVE_SHORT = PassageSettings(enter_s=30.0, leave_s=0.5, door_s=10.0)


@pytest.fixture
def gate() -> Iterator[SimulatedGate]:
    sim = SimulatedGate(SimulatedGateConfig(heartbeat_s=0.05, transit_s=0.05))
    sim.open()
    yield sim
    sim.close()


def _on_state(gate: SimulatedGate, state: GateState, action: object) -> None:
    def listener(event: GateEvent) -> None:
        if isinstance(event, GateStateChanged) and event.state is state and callable(action):
            action()

    gate.add_listener(listener)


def _walk(gate: SimulatedGate, settings: PassageSettings = PATIENT) -> PassageResult:
    return pass_gate(gate, settings, CancelToken("txn-1"))


def test_the_exit_opens_only_once_the_entry_closed_behind_the_traveller(
    gate: SimulatedGate,
) -> None:
    assert _walk(gate) is PassageResult.PASSED
    assert gate.commands == [
        GateCommand.CLOSE_ALL,  # opening the device
        GateCommand.OPEN_ENTRY,
        GateCommand.CLOSE_ENTRY,
        GateCommand.OPEN_EXIT,
        GateCommand.CLOSE_EXIT,
    ]
    assert gate.state is GateState.CLOSED


def test_a_second_person_at_the_exit_closes_it_and_refers(gate: SimulatedGate) -> None:
    _on_state(gate, GateState.EXIT_OPEN, lambda: gate.tailgate(transit_s=5.0))
    gate.config = gate.config.model_copy(update={"transit_s": 5.0})  # still walking out
    assert _walk(gate) is PassageResult.TAILGATING
    assert gate.commands[-1] is GateCommand.CLOSE_ALL and not gate.exit_door_open
    assert gate.doors_closed


def test_a_second_person_in_the_mantrap_keeps_the_exit_shut(gate: SimulatedGate) -> None:
    gate.tailgate(transit_s=5.0)  # two people stand in the gate
    assert gate.wait_sensor(Sensor.TAILGATING, True, 5.0)
    assert _walk(gate) is PassageResult.TAILGATING
    assert GateCommand.OPEN_EXIT not in gate.commands and gate.doors_closed


def test_nobody_stepping_in_is_a_timeout_with_the_entry_closed_again(
    gate: SimulatedGate,
) -> None:
    gate.config = gate.config.model_copy(update={"auto_passage": False})
    assert _walk(gate, SHORT) is PassageResult.TIMEOUT
    assert GateCommand.OPEN_EXIT not in gate.commands
    assert gate.commands[-1] is GateCommand.CLOSE_ENTRY and gate.doors_closed


def test_a_traveller_who_stays_inside_is_never_shut_in(gate: SimulatedGate) -> None:
    gate.config = gate.config.model_copy(update={"transit_s": 30.0})  # does not walk out
    assert _walk(gate, LEAVE_SHORT) is PassageResult.TIMEOUT
    # the exit stays open for them; the gate's own timer closes it once they are out
    assert gate.state is GateState.EXIT_OPEN and gate.exit_door_open


def test_a_failed_door_command_is_a_gate_fault_with_the_doors_closed(
    gate: SimulatedGate,
) -> None:
    original = gate._command

    def board(command: GateCommand) -> None:
        if command is GateCommand.OPEN_EXIT:
            gate.fail_next_command()
        original(command)

    gate._command = board  # type: ignore[method-assign]
    assert _walk(gate) is PassageResult.GATE_FAULT
    assert GateCommand.OPEN_EXIT in gate.commands
    assert gate.state is GateState.FAULT and gate.doors_closed
    assert not gate.exit_door_open


def test_an_emergency_release_during_the_passage_is_not_a_passage(gate: SimulatedGate) -> None:
    gate.config = gate.config.model_copy(update={"transit_s": 30.0})  # still inside ...
    _on_state(gate, GateState.EXIT_OPEN, gate.press_emergency)  # ... when the alarm goes
    assert _walk(gate) is PassageResult.GATE_FAULT
    assert gate.state is GateState.EMERGENCY  # the doors stay released


def test_the_passage_commands_run_on_the_gate_executor(gate: SimulatedGate) -> None:
    executor = DeviceExecutor("gate")
    executor.start()
    gate.bind_executor(executor)
    threads: list[str] = []
    original = gate._command

    def spy(command: GateCommand) -> None:
        threads.append(threading.current_thread().name)
        original(command)

    gate._command = spy  # type: ignore[method-assign]
    try:
        executor.claim("txn-1")
        assert _walk(gate) is PassageResult.PASSED
    finally:
        executor.release("txn-1")
        gate._command = original  # type: ignore[method-assign]
        executor.call(gate.close)
        gate.bind_executor(None)
        executor.close()
    assert threads and set(threads) == {"kiosk-device-gate"}


def test_somebody_slipping_in_with_the_traveller_is_caught_before_the_exit(
    gate: SimulatedGate,
) -> None:
    gate.follow_next_entry()
    assert _walk(gate) is PassageResult.TAILGATING
    assert gate.commands[1:] == [GateCommand.OPEN_ENTRY, GateCommand.CLOSE_ALL]
    assert gate.doors_closed


def test_a_board_that_cannot_close_the_entry_faults_the_passage(gate: SimulatedGate) -> None:
    gate.fail_next_command(command=GateCommand.CLOSE_ENTRY)
    assert _walk(gate) is PassageResult.GATE_FAULT
    assert gate.commands[1:] == [
        GateCommand.OPEN_ENTRY,
        GateCommand.CLOSE_ENTRY,  # refused by the board ...
        GateCommand.CLOSE_ALL,  # ... so the gate failed secure
    ]
    assert gate.state is GateState.FAULT and not gate.exit_door_open


def test_the_entry_stays_shut_while_somebody_is_still_inside(gate: SimulatedGate) -> None:
    gate.person_enters(transit_s=30.0)  # the last traveller has not left
    assert gate.wait_sensor(Sensor.PRESENCE, True, 5.0)
    assert _walk(gate, SHORT) is PassageResult.TIMEOUT
    assert gate.commands == [GateCommand.CLOSE_ALL] and gate.doors_closed
