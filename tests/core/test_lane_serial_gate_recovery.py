"""GIVEN the production kiosk with the serial gate driver on a pseudo-terminal, answered by the
scripted gate controller (the rig's), WHEN the controller reports a fault or gets stuck THEN the
lane goes out of service with the gate's cause, the supervisor resets the gate through its
device executor a bounded number of times (the reset's ``CLOSE ALL`` reaches the controller),
and the lane returns when the controller is healthy; a controller that stays faulted keeps the
lane closed until a technician returns it to service.

Waits are for lane changes (events), bounded generously; nothing measures a duration.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hardware.config import SerialGateConfig
from hardware.gate import GateState
from hardware.serial_gate import SerialGate
from hardware.sim.gate_board import PtyGateBoard
from kiosk.app import Kiosk, KioskRuntime, build_kiosk
from kiosk.config import load_config
from kiosk.demo.scenarios import scenario
from kiosk.demo.world import demo_devices
from kiosk.lane import Lane, LaneCause, LaneStatus
from kiosk.screening.importers import ListKind
from kiosk.screening.store import ScreeningStore

pytest.importorskip("serial")

BOUND_S = 30.0


def wait_lane(lane: Lane, predicate: Callable[[LaneStatus], bool]) -> bool:
    changed = threading.Condition()

    def told(_status: LaneStatus) -> None:
        with changed:
            changed.notify_all()

    remove = lane.add_listener(told)
    try:
        with changed:
            return changed.wait_for(lambda: predicate(lane.status()), BOUND_S)
    finally:
        remove()


def gate_fault(status: LaneStatus) -> str:
    return next(
        (f.detail for f in status.faults if f.cause is LaneCause.DEVICE_FAULT and f.key == "gate"),
        "",
    )


Start = Callable[[int], tuple[Kiosk, PtyGateBoard]]


@pytest.fixture
def start_kiosk(tmp_path: Path) -> Iterator[Start]:
    """``start_kiosk(attempts)``: a running kiosk in service, its gate on a scripted pty board."""
    started: list[tuple[KioskRuntime, Kiosk, PtyGateBoard]] = []

    def start(attempts: int) -> tuple[Kiosk, PtyGateBoard]:
        board = PtyGateBoard()
        config = load_config(
            None,
            data_dir=str(tmp_path / f"home-{len(started)}"),
            lane={
                "require_trust_anchors": False,
                "check_interval_s": 0.2,
                "gate_reset_attempts": attempts,
                "gate_reset_interval_s": 0.2,
            },
        )
        gate = SerialGateConfig(
            port=board.path,
            heartbeat_s=0.2,
            heartbeat_misses=2,
            command_timeout_s=0.3,
            watchdog_ms=500,
        )
        devices = demo_devices(scenario("genuine-traveller")).model_copy(update={"gate": gate})
        kiosk = build_kiosk(config.model_copy(update={"devices": devices}))
        store = ScreeningStore(kiosk.database)
        store.replace(ListKind.LOST_STOLEN, [[]])
        store.replace(ListKind.WATCHLIST, [[]])
        runtime = KioskRuntime(kiosk)
        started.append((runtime, kiosk, board))
        runtime.start()
        assert isinstance(kiosk.devices.gate, SerialGate)
        assert runtime.wait_in_service(60), kiosk.lane.status().as_dict()
        return kiosk, board

    yield start
    for runtime, kiosk, board in started:
        runtime.stop()
        kiosk.close()
        board.close()


def test_a_board_fault_the_reset_clears_returns_the_lane_by_itself(start_kiosk: Start) -> None:
    kiosk, board = start_kiosk(3)
    seen: list[LaneStatus] = []
    remove = kiosk.lane.add_listener(seen.append)
    try:
        resets_before = board.log.commands.count("CLOSE ALL")
        # WHEN the controller reports a fault that does not stay
        board.fault("motor", latched=False)
        # THEN the lane closed for the gate, and reopened after the automatic reset
        assert wait_lane(kiosk.lane, lambda s: s.in_service and len(seen) >= 2)
    finally:
        remove()
    closed = next(s for s in seen if not s.in_service)
    assert "gate: fault (gate_board_fault)" in gate_fault(closed)
    # AND the reset's CLOSE ALL went to the controller over the serial line
    assert board.log.commands.count("CLOSE ALL") >= resets_before + 2
    assert kiosk.devices.gate.state is GateState.CLOSED
    assert not board.log.violations


def test_a_board_that_stays_faulted_keeps_the_lane_closed_until_the_technician(
    start_kiosk: Start,
) -> None:
    kiosk, board = start_kiosk(2)
    # WHEN the controller reports a door jammed, and refuses every door command after it
    board.fault("jammed")
    # THEN the supervisor tries its two resets (each refused: ERR jammed) and gives up
    assert wait_lane(kiosk.lane, lambda s: "automatic reset gave up after 2" in gate_fault(s))
    assert kiosk.supervisor.gate_resets == 2
    assert kiosk.devices.gate.state is GateState.FAULT and not kiosk.admits_travellers()
    for _ in range(3):  # later checks try nothing more
        kiosk.supervisor.check()
    assert kiosk.supervisor.gate_resets == 2 and not kiosk.lane.in_service
    # WHEN the door is freed and the technician returns the lane to service
    board.clear_fault()
    kiosk.return_to_service()
    # THEN the gate is reset and the lane is back
    assert wait_lane(kiosk.lane, lambda s: s.in_service), kiosk.lane.status()
    assert not board.log.violations


def test_a_stuck_controller_closes_the_lane_until_it_answers_again(start_kiosk: Start) -> None:
    kiosk, board = start_kiosk(100)
    # WHEN the controller stops answering (not even PONG)
    board.stall()
    # THEN the heartbeat is lost, the lane closes for the gate, and resets fail meanwhile
    assert wait_lane(kiosk.lane, lambda s: "gate_heartbeat_lost" in gate_fault(s)), (
        kiosk.lane.status()
    )
    assert wait_lane(kiosk.lane, lambda s: "automatic reset" in gate_fault(s))
    assert not kiosk.admits_travellers()
    # WHEN it answers again THEN the next automatic reset brings the lane back
    board.stall(False)
    assert wait_lane(kiosk.lane, lambda s: s.in_service), kiosk.lane.status()
    assert kiosk.devices.gate.state is GateState.CLOSED
