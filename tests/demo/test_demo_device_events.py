"""The running kiosk writes its device facts to ``device_events`` (passages, gate faults,
door jams, emergency releases) and its heartbeat status reflects the lane and devices."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from hardware.gate import GateState
from hardware.sim.gate import SimulatedGate
from kiosk.config import load_config
from kiosk.demo.kiosk_loop import GENUINE, DemoKioskLoop
from kiosk.lane import LaneCause
from models.tables import DeviceEventRow

WAIT_S = 60.0


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[DemoKioskLoop]:
    with DemoKioskLoop(load_config(None, data_dir=str(tmp_path / "kiosk"))) as running:
        yield running


def _events(loop: DemoKioskLoop) -> list[tuple[str, str, str | None, str | None]]:
    with loop.kiosk.database.read() as session:
        rows = session.execute(
            select(
                DeviceEventRow.device,
                DeviceEventRow.kind,
                DeviceEventRow.code,
                DeviceEventRow.transaction_id,
            )
            .where(DeviceEventRow.kind != "storage_probe")
            .order_by(DeviceEventRow.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _wait_events(loop: DemoKioskLoop, count: int) -> list[tuple[str, str, str | None, str | None]]:
    gate = loop.devices.gate
    for _ in range(int(WAIT_S / 0.05)):
        events = _events(loop)
        if len(events) >= count:
            return events
        gate.wait_state(GateState.EMERGENCY, 0.05)  # a wait that ends early on a change
    return _events(loop)


def test_passages_faults_jams_and_emergencies_are_device_events(loop: DemoKioskLoop) -> None:
    gate = loop.devices.gate
    assert isinstance(gate, SimulatedGate)
    # GIVEN a traveller decided: a passage outcome with the transaction id
    result = loop.transact(GENUINE, timeout_s=WAIT_S)
    if result.outcome.outcome == "accepted":
        (passage,) = [e for e in _wait_events(loop, 1) if e[1] == "passage"]
        assert passage[2] == "passed" and passage[3] == result.outcome.transaction_id
    # WHEN the board reports a jammed door, and then the emergency input fires
    before = len(_events(loop))
    gate.board_fault("door_jammed")
    assert gate.wait_state(GateState.FAULT, WAIT_S)
    gate.press_emergency()
    assert gate.wait_state(GateState.EMERGENCY, WAIT_S)
    events = _wait_events(loop, before + 3)[before:]
    # THEN each is a device event (the faults fired: the gate went to FAULT and EMERGENCY)
    kinds = [e[1] for e in events]
    assert "door_jam" in kinds and "fail_secure" in kinds and "emergency_release" in kinds
    assert ("gate", "door_jam", "door_jammed", None) in events
    # AND the heartbeat status says so
    status, devices = loop.runtime.heartbeat_status()
    assert devices["gate"].startswith("emergency")
    assert status == "fault"
    loop.devices.threads.gate.call(gate.reset, timeout_s=WAIT_S)


def test_the_heartbeat_status_follows_the_lane(loop: DemoKioskLoop) -> None:
    status, devices = loop.runtime.heartbeat_status()
    assert devices["lane"] == "in_service" and devices["gate"] == "closed"
    loop.kiosk.lane.set(LaneCause.CLOCK, "wall clock stepped back 600 s", key="wall_clock")
    status, devices = loop.runtime.heartbeat_status()
    assert status == "fault" and devices["lane"] == "clock:wall_clock"
    loop.kiosk.lane.clear(LaneCause.CLOCK)
    loop.kiosk.lane.set(LaneCause.TECHNICIAN, "self-tests")
    assert loop.runtime.heartbeat_status()[0] == "maintenance"
