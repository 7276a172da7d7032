"""GIVEN a kiosk's gate bound to its device executor and left in an emergency release WHEN the
booth's "release the doors" reaches the lane link (on the link's own command thread) THEN the
gate is reset on the gate's executor thread, as the session's passage commands it; the same
reset called from the link's thread directly is refused by the executor's thread assertion."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hardware.config import SimulatedCameraConfig, SimulatedGateConfig, SimulatedMrzReaderConfig
from hardware.executor import WrongDeviceThreadError
from hardware.gate import GateState
from hardware.sim.camera import SimulatedCamera
from hardware.sim.chip_reader import SimulatedChipReader
from hardware.sim.gate import SimulatedGate
from hardware.sim.mrz_reader import SimulatedMrzReader
from kiosk.config import load_config
from kiosk.devices import Devices
from kiosk.lane import Lane, LaneCause
from kiosk.session.events import EventBus
from kiosk.sync.lane_link import LaneLink, start_lane_link


@pytest.fixture
def devices() -> Iterator[Devices]:
    bound = Devices(
        chip_reader=SimulatedChipReader(),
        mrz_reader=SimulatedMrzReader(SimulatedMrzReaderConfig()),
        camera=SimulatedCamera(SimulatedCameraConfig(fps=5)),
        gate=SimulatedGate(SimulatedGateConfig(heartbeat_s=0.05)),
    )
    bound.open()
    try:
        bound.gate.emergency_release("fire alarm test")
        assert bound.gate.state is GateState.EMERGENCY
        yield bound
    finally:
        bound.close()


def _on_command_thread(link: LaneLink, action: str) -> str:
    """``link.apply(action)`` on a thread named like the link's command thread."""
    result: list[str] = []
    worker = threading.Thread(
        target=lambda: result.append(link.apply(action)), name="kiosk-lane-commands"
    )
    worker.start()
    worker.join(30)
    assert not worker.is_alive()
    return result[0]


def test_the_booth_release_resets_the_gate_on_its_own_executor(
    devices: Devices, tmp_path: Path
) -> None:
    # GIVEN the lane link as the kiosk runtime starts it (a server that is not there)
    config = load_config(
        data_dir=tmp_path, sync={"server_url": "http://127.0.0.1:9"}, wall={"commands_wait_s": 1}
    )
    lane = Lane()
    lane.set(LaneCause.EMERGENCY, "doors released", key="gate")
    link = start_lane_link(config, lane, EventBus(), devices.gate)
    assert link is not None
    try:
        # WHEN the booth's release arrives on the link's command thread
        assert _on_command_thread(link, "release_doors") == "applied"
        # THEN the gate left the emergency (its reset ran on the gate's executor) and the
        # lane's emergency cause is cleared
        assert devices.gate.state is GateState.CLOSED
        assert not lane.has(LaneCause.EMERGENCY)
    finally:
        link.close()


def test_the_executor_refuses_a_reset_from_the_link_thread(
    devices: Devices, tmp_path: Path
) -> None:
    # GIVEN a lane link wired as before: the gate's reset called from the link's own thread
    lane = Lane()
    lane.set(LaneCause.EMERGENCY, "doors released", key="gate")
    unused: Any = object()  # the link's HTTP clients: never used here
    wrong = LaneLink(load_config(data_dir=tmp_path), lane, client=unused, command_client=unused,
                     release_doors=devices.gate.reset)  # fmt: skip
    # WHEN the booth's release arrives THEN the executor's assertion refuses the call, the
    # officer is told it failed, and the emergency stays (nothing was touched)
    result = _on_command_thread(wrong, "release_doors")
    assert result == f"failed: {WrongDeviceThreadError.__name__}"
    assert devices.gate.state is GateState.EMERGENCY
    assert lane.has(LaneCause.EMERGENCY)
    with pytest.raises(WrongDeviceThreadError):
        devices.gate.reset()
