"""The serial relay gate against a fake relay board on a real pseudo-terminal pair."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest

from hardware.config import SerialGateConfig
from hardware.gate import (
    GateCommandError,
    GateEmergencyError,
    GateError,
    GateFaultError,
    GateState,
    Sensor,
)
from hardware.serial_gate import SerialGate
from hardware.sim.gate_board import Passage, PtyGateBoard

WAIT_S = 3.0


class FakeBoard(PtyGateBoard):
    """A relay board on the scripted controller's pty: records every line, answers OK (ERR for
    the commands in ``refuse``) and PONG (unless ``answer_pings`` is off); events are pushed by
    the test. Nobody walks through."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.answer_pings = True
        self.refuse: set[str] = set()
        super().__init__(Passage(walk_through=False))

    def wait_for(self, line: str, count: int = 1) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: self.received.count(line) >= count, WAIT_S)

    def commands(self) -> list[str]:
        return [line for line in self.received if line != "PING"]

    def unplug(self) -> None:
        self.close()

    def _answer(self, line: str) -> None:
        with self._lock:
            self.received.append(line)
            self._lock.notify_all()
        if line == "PING":
            if self.answer_pings:
                self.push("PONG")
        elif line in self.refuse:
            self.push("ERR jammed")
        else:
            self.push("OK")


@pytest.fixture
def board() -> Iterator[FakeBoard]:
    fake = FakeBoard()
    yield fake
    fake.unplug()


def make_gate(board: FakeBoard, **settings: object) -> SerialGate:
    config = SerialGateConfig.model_validate(
        {
            "port": board.path,
            "heartbeat_s": 0.05,
            "heartbeat_misses": 2,
            "command_timeout_s": 0.2,
            **settings,
        }
    )
    gate = SerialGate(config)
    gate.open()
    return gate


def test_commands_go_to_the_board_and_its_events_come_back(board: FakeBoard) -> None:
    gate = make_gate(board)
    try:
        # GIVEN an open gate: it closed both doors and checked the board first
        assert gate.state is GateState.CLOSED
        assert board.commands()[:2] == ["WATCHDOG 2500", "CLOSE ALL"]
        assert board.wait_for("PING")
        # WHEN the kiosk opens the entry and the board reports a traveller
        gate.open_entry()
        board.push("EVT PRESENCE 1")
        assert gate.wait_sensor(Sensor.PRESENCE, True, WAIT_S)
        gate.close_entry()
        board.push("EVT TAILGATE 1")
        assert gate.wait_sensor(Sensor.TAILGATING, True, WAIT_S)
        board.push("EVT PRESENCE 0")
        assert gate.wait_sensor(Sensor.PRESENCE, False, WAIT_S)
        gate.open_exit()
        # THEN the board got the documented command lines, in order
        assert board.commands() == [
            "WATCHDOG 2500",
            "CLOSE ALL",
            "OPEN ENTRY",
            "CLOSE ENTRY",
            "OPEN EXIT",
        ]
        assert gate.state is GateState.EXIT_OPEN
        # AND heartbeats keep going
        assert board.wait_for("PING", 3)
    finally:
        gate.close()
    assert board.commands()[-1] == "CLOSE ALL"
    alive = {t.name for t in threading.enumerate()}
    assert "kiosk-gate" not in alive and "kiosk-gate-serial" not in alive


def test_noise_from_the_board_is_ignored(board: FakeBoard) -> None:
    gate = make_gate(board)
    try:
        board.push("\x00\xff garbage")
        board.push("EVT PRESENCE maybe")
        board.push("EVT WHATEVER 1")
        board.push("X" * 5000)
        gate.open_entry()
        assert gate.state is GateState.ENTRY_OPEN
        deadline = time.monotonic() + WAIT_S
        while gate.unknown_lines < 4 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert gate.unknown_lines == 4
        assert not gate.sensor(Sensor.PRESENCE)
    finally:
        gate.close()


def test_a_refused_command_closes_the_doors_and_faults(board: FakeBoard) -> None:
    gate = make_gate(board)
    try:
        gate.open_entry()
        board.refuse.add("CLOSE ENTRY")
        with pytest.raises(GateCommandError):
            gate.close_entry()
        assert gate.state is GateState.FAULT
        assert board.commands()[-2:] == ["CLOSE ENTRY", "CLOSE ALL"]
        with pytest.raises(GateFaultError):
            gate.open_exit()
        board.refuse.clear()
        gate.reset()
        assert gate.state is GateState.CLOSED
    finally:
        gate.close()


def test_lost_heartbeat_closes_the_doors_and_emergency_still_opens(board: FakeBoard) -> None:
    gate = make_gate(board)
    try:
        gate.open_exit()
        # WHEN the board stops answering PING (but still takes commands)
        board.answer_pings = False
        # THEN the watchdog closes all doors and the gate is faulted
        assert gate.wait_state(GateState.FAULT, WAIT_S)
        assert board.wait_for("CLOSE ALL", 2)
        assert gate.status.last_error == "gate_heartbeat_lost"
        with pytest.raises(GateFaultError):
            gate.open_exit()
        # WHEN the officer pulls the emergency release on the faulted gate
        gate.emergency_release()
        # THEN the board is told to release, and the gate stays in emergency
        assert board.wait_for("EMERGENCY")
        assert gate.state is GateState.EMERGENCY
        pings = board.received.count("PING")
        assert board.wait_for("PING", pings + 3)
        assert gate.state is GateState.EMERGENCY
        assert board.commands()[-1] == "EMERGENCY"
        with pytest.raises(GateEmergencyError):
            gate.open_entry()
    finally:
        gate.close()
    assert board.commands()[-1] == "EMERGENCY"  # closing the software leaves the doors released


def test_the_boards_emergency_input_and_fault_events(board: FakeBoard) -> None:
    gate = make_gate(board)
    try:
        board.push("EVT FAULT door_jammed")
        assert gate.wait_state(GateState.FAULT, WAIT_S)
        assert gate.status.last_error == "gate_board_fault"
        board.push("EVT EMERGENCY")
        assert gate.wait_state(GateState.EMERGENCY, WAIT_S)
        gate.reset()
        assert gate.state is GateState.CLOSED
    finally:
        gate.close()


def test_the_port_vanishing_faults_the_gate_and_reset_reconnects(
    tmp_path: object, board: FakeBoard
) -> None:
    link = f"{tmp_path}/ttyGATE"
    os.symlink(board.path, link)
    gate = make_gate(board, port=link)
    second = FakeBoard()
    try:
        gate.open_entry()
        # WHEN the board is unplugged
        board.unplug()
        # THEN the gate faults (it cannot even send CLOSE ALL; the board's own watchdog must)
        assert gate.wait_state(GateState.FAULT, WAIT_S)
        assert gate.status.last_error in ("gate_link_lost", "gate_heartbeat_lost")
        with pytest.raises(GateFaultError):
            gate.reset()
        # WHEN it is plugged in again THEN reset reconnects and closes the doors
        os.unlink(link)
        os.symlink(second.path, link)
        gate.reset()
        assert gate.state is GateState.CLOSED
        assert second.commands() == ["WATCHDOG 2500", "CLOSE ALL"]
    finally:
        gate.close()
        second.unplug()


def test_opening_a_gate_whose_port_is_missing_fails_with_a_typed_error(tmp_path: object) -> None:
    gate = SerialGate(SerialGateConfig(port=f"{tmp_path}/nothing", heartbeat_s=0.05))
    with pytest.raises(GateError):
        gate.open()
    assert "kiosk-gate" not in {t.name for t in threading.enumerate()}


def test_a_silent_board_fails_open_cleanly(board: FakeBoard) -> None:
    board.answer_pings = False
    with pytest.raises(GateFaultError):  # (the suite's timeout guards against a hang)
        make_gate(board)
    alive = {t.name for t in threading.enumerate()}
    assert "kiosk-gate" not in alive and "kiosk-gate-serial" not in alive


def test_a_board_with_a_people_counter_reports_the_persons_inside(board: FakeBoard) -> None:
    # GIVEN a board configured as counting persons
    gate = make_gate(board, counts_persons=True)
    try:
        assert gate.persons_inside() == 0
        # WHEN it reports counts, and garbage counts
        board.push("EVT COUNT 3")
        deadline = time.monotonic() + WAIT_S
        while gate.persons_inside() != 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        for bad in ("EVT COUNT -1", "EVT COUNT x", "EVT COUNT 1e3", "EVT COUNT 99999", "EVT COUNT"):
            board.push(bad)
        while gate.unknown_lines < 5 and time.monotonic() < deadline:
            time.sleep(0.005)
        # THEN the count is kept; malformed ones are unknown lines, never a crash
        assert gate.persons_inside() == 3
        assert gate.unknown_lines == 5
    finally:
        gate.close()


def test_a_count_beyond_any_group_faults_the_gate_secure(board: FakeBoard) -> None:
    gate = make_gate(board, counts_persons=True)
    try:
        board.push("EVT COUNT 500")  # three digits, but no gate holds 500 persons
        assert gate.wait_state(GateState.FAULT, WAIT_S)
    finally:
        gate.close()


def test_a_board_without_a_counter_counts_nobody(board: FakeBoard) -> None:
    gate = make_gate(board)
    try:
        board.push("EVT COUNT 2")
        deadline = time.monotonic() + WAIT_S
        while gate.unknown_lines < 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert gate.persons_inside() is None and gate.unknown_lines == 1
    finally:
        gate.close()
