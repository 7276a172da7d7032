"""What a traveller (or somebody behind them) does to a transaction in a demo scenario, done
to the simulated devices the way it would happen at a real gate.

* ``passport_removed``: the passport is taken off both readers while the camera looks at the
  traveller, before any decision;
* ``tailgating``: a second person follows the traveller into the gate once the entry opens;
* ``gate_fault``: the gate's board fails to close the entry door behind the traveller;
* ``nobody_enters``: the accepted traveller never steps into the gate (the demo waits
  :data:`NOBODY_ENTERS_WAIT_S` for them, not the configured passage time).

Only the simulated world is touched (the readers' and the gate's scripting controls, which
stand for people and hardware); the kiosk reacts through its real event paths. The gate's
command log is checked afterwards for the two-door order (:func:`mantrap_violations`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from enum import StrEnum

from hardware.gate import GateCommand
from hardware.sim.chip_reader import SimulatedChipReader
from hardware.sim.gate import SimulatedGate
from hardware.sim.mrz_reader import SimulatedMrzReader
from kiosk.devices import Devices
from kiosk.session.events import EventBus, SessionEvent, State, StateEntered

NOBODY_ENTERS_WAIT_S = 2.0


class Disturbance(StrEnum):
    PASSPORT_REMOVED = "passport_removed"
    TAILGATING = "tailgating"
    GATE_FAULT = "gate_fault"
    NOBODY_ENTERS = "nobody_enters"


def arm(disturbance: Disturbance | None, devices: Devices, bus: EventBus) -> Callable[[], None]:
    """Make ``disturbance`` happen during the next transaction; returns the disarm call."""
    if disturbance is None:
        return lambda: None
    gate = devices.gate
    assert isinstance(gate, SimulatedGate)
    if disturbance is Disturbance.PASSPORT_REMOVED:
        return bus.subscribe(_take_passport_at_the_camera(devices))
    if disturbance is Disturbance.NOBODY_ENTERS:
        walks = gate.config.auto_passage
        gate.config = gate.config.model_copy(update={"auto_passage": False})

        def restore() -> None:
            gate.config = gate.config.model_copy(update={"auto_passage": walks})

        return restore
    if disturbance is Disturbance.TAILGATING:
        gate.follow_next_entry()  # the second person is seen as the entry door opens
    else:  # the board fails to close the entry door behind the traveller
        gate.fail_next_command(command=GateCommand.CLOSE_ENTRY)
    return lambda: None


def _take_passport_at_the_camera(devices: Devices) -> Callable[[SessionEvent], None]:
    chip_reader, mrz_reader = devices.chip_reader, devices.mrz_reader
    assert isinstance(chip_reader, SimulatedChipReader)
    assert isinstance(mrz_reader, SimulatedMrzReader)
    done = threading.Event()

    def on_event(event: SessionEvent) -> None:
        at_camera = isinstance(event, StateEntered) and event.state is State.FACE_CAPTURE
        if at_camera and not done.is_set():
            done.set()
            mrz_reader.remove()  # the readers report it through their own event paths
            chip_reader.remove()

    return on_event


def mantrap_violations(commands: Sequence[GateCommand]) -> list[str]:
    """What broke the two-door order in a gate's command log (empty when nothing did).

    The exit may open only while the entry is closed; every door opened is closed again.
    """
    problems: list[str] = []
    entry_open = exit_open = False
    for number, command in enumerate(commands):
        if command is GateCommand.OPEN_ENTRY:
            if exit_open:
                problems.append(f"#{number}: entry opened while the exit was open")
            entry_open = True
        elif command is GateCommand.OPEN_EXIT:
            if entry_open:
                problems.append(f"#{number}: exit opened before the entry closed")
            exit_open = True
        elif command is GateCommand.CLOSE_ENTRY:
            entry_open = False
        elif command is GateCommand.CLOSE_EXIT:
            exit_open = False
        elif command is GateCommand.CLOSE_ALL:
            entry_open = exit_open = False
    if entry_open or exit_open:
        problems.append("a door was left open")
    return problems
