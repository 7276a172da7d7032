"""GIVEN a running kiosk built by the composition root on simulated devices WHEN a device fails
after start THEN the lane supervisor puts the lane out of service naming that device, and
brings it back when the device is healthy again:

* a chip reader unplugged after start closes the lane (``device_fault``, key ``chip_reader``)
  until it is plugged in again;
* a gate that reports a fault is reset automatically through its device executor and the lane
  returns once the board is healthy;
* a gate that stays faulted stays out of service after a bounded number of resets, and a
  technician's "return to service" allows the resets again.

Waits are for lane changes (events), bounded generously; nothing measures a duration.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hardware.gate import GateCommand, GateState
from hardware.sim.chip_reader import SimulatedChipReader
from hardware.sim.gate import SimulatedGate
from kiosk.app import Kiosk, KioskRuntime, build_kiosk
from kiosk.config import load_config
from kiosk.demo.scenarios import scenario
from kiosk.demo.world import demo_devices
from kiosk.lane import Lane, LaneCause, LaneStatus
from kiosk.screening.importers import ListKind
from kiosk.screening.store import ScreeningStore

BOUND_S = 30.0
RESETS = 2


def wait_lane(lane: Lane, predicate: Callable[[LaneStatus], bool], timeout_s: float) -> bool:
    """Wait until ``predicate(lane.status())`` holds, woken by the lane's own changes."""
    changed = threading.Condition()

    def told(_status: LaneStatus) -> None:
        with changed:
            changed.notify_all()

    remove = lane.add_listener(told)
    try:
        with changed:
            return changed.wait_for(lambda: predicate(lane.status()), timeout_s)
    finally:
        remove()


def device_fault(key: str) -> Callable[[LaneStatus], bool]:
    return lambda status: any(
        f.cause is LaneCause.DEVICE_FAULT and f.key == key for f in status.faults
    )


def detail_of(lane: Lane, key: str) -> str:
    return next(f.detail for f in lane.status().faults if f.key == key)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Kiosk, KioskRuntime]]:
    config = load_config(
        None,
        data_dir=str(tmp_path / "home"),
        lane={
            "require_trust_anchors": False,
            "check_interval_s": 0.2,
            "gate_reset_attempts": RESETS,
            "gate_reset_interval_s": 0.1,
        },
    )
    config = config.model_copy(update={"devices": demo_devices(scenario("genuine-traveller"))})
    kiosk = build_kiosk(config)
    store = ScreeningStore(kiosk.database)
    store.replace(ListKind.LOST_STOLEN, [[]])
    store.replace(ListKind.WATCHLIST, [[]])
    runtime = KioskRuntime(kiosk)
    try:
        runtime.start()
        assert runtime.wait_in_service(60), kiosk.lane.status().as_dict()
        yield kiosk, runtime
    finally:
        runtime.stop()
        kiosk.close()


def test_a_chip_reader_unplugged_after_start_closes_the_lane_until_it_returns(
    running: tuple[Kiosk, KioskRuntime],
) -> None:
    kiosk, _runtime = running
    reader = kiosk.devices.chip_reader
    assert isinstance(reader, SimulatedChipReader)
    # WHEN the reader is unplugged while the lane is in service
    reader.unplug()
    # THEN the lane goes out of service with a cause naming the chip reader
    assert wait_lane(kiosk.lane, device_fault("chip_reader"), BOUND_S), kiosk.lane.status()
    assert detail_of(kiosk.lane, "chip_reader").startswith("chip_reader: reader unplugged")
    assert not kiosk.admits_travellers()
    assert not kiosk.engine.document_presented(["P<UTO", "L898902C3"])
    # WHEN it is plugged in again THEN the lane returns to service by itself
    reader.plug_in()
    assert wait_lane(kiosk.lane, lambda s: s.in_service, BOUND_S), kiosk.lane.status()


def test_a_gate_fault_is_reset_automatically_and_the_lane_returns(
    running: tuple[Kiosk, KioskRuntime],
) -> None:
    kiosk, _runtime = running
    gate = kiosk.devices.gate
    assert isinstance(gate, SimulatedGate)
    closes_before = gate.commands.count(GateCommand.CLOSE_ALL)
    seen: list[LaneStatus] = []
    remove = kiosk.lane.add_listener(seen.append)
    try:
        # WHEN the board reports a fault that its reset clears (a door that caught once)
        gate.board_fault("jammed")
        # THEN the lane went out of service for the gate, and came back after the reset
        assert wait_lane(kiosk.lane, lambda s: s.in_service and len(seen) >= 2, BOUND_S), (
            kiosk.lane.status()
        )
    finally:
        remove()
    closed = [s for s in seen if not s.in_service]
    assert closed and any(f.key == "gate" for f in closed[0].faults), closed
    assert "gate: fault (jammed)" in next(f.detail for f in closed[0].faults if f.key == "gate")
    # AND the reset went through the gate's executor (CLOSE ALL of fail-secure, then reset's)
    assert gate.commands.count(GateCommand.CLOSE_ALL) >= closes_before + 2
    assert gate.state is GateState.CLOSED
    assert kiosk.supervisor.gate_resets == 0


def test_a_gate_that_stays_faulted_stays_out_of_service_after_bounded_resets(
    running: tuple[Kiosk, KioskRuntime],
) -> None:
    kiosk, _runtime = running
    gate = kiosk.devices.gate
    assert isinstance(gate, SimulatedGate)
    # WHEN the board reports a fault that stays (it refuses every door command)
    gate.board_fault("jammed", persistent=True)
    # THEN the supervisor tries its bounded resets and gives up; the lane stays closed
    gave_up = "automatic reset gave up after"
    assert wait_lane(
        kiosk.lane,
        lambda s: any(f.key == "gate" and gave_up in f.detail for f in s.faults),
        BOUND_S,
    ), kiosk.lane.status()
    assert kiosk.supervisor.gate_resets == RESETS
    assert gate.state is GateState.FAULT and not kiosk.admits_travellers()
    # AND no further reset is tried: the count stays at the bound over later checks
    for _ in range(3):
        kiosk.supervisor.check()
    assert kiosk.supervisor.gate_resets == RESETS and not kiosk.lane.in_service
    # WHEN the technician frees the door and returns the lane to service
    gate.clear_board_fault()
    kiosk.return_to_service()
    # THEN the gate is reset again and the lane comes back
    assert wait_lane(kiosk.lane, lambda s: s.in_service, BOUND_S), kiosk.lane.status()
    assert gate.state is GateState.CLOSED


def test_an_emergency_is_never_reset_automatically(
    running: tuple[Kiosk, KioskRuntime],
) -> None:
    kiosk, _runtime = running
    gate = kiosk.devices.gate
    assert isinstance(gate, SimulatedGate)
    gate.press_emergency()
    assert wait_lane(kiosk.lane, lambda s: LaneCause.EMERGENCY in s.causes, BOUND_S), (
        kiosk.lane.status()
    )
    for _ in range(3):
        kiosk.supervisor.check()
    assert gate.state is GateState.EMERGENCY and not kiosk.lane.in_service
