"""GIVEN the simulated two-door gate with its people counter WHEN an accepted family walks
through as one group, a stranger slips in with them, one member stays behind, or the gate
cannot count THEN the exit opens once for the group, or never, and the result says why."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hardware.config import SimulatedGateConfig
from hardware.executor import CancelToken
from hardware.gate import GateCommand, GateEvent, PersonsCounted
from hardware.sim.gate import SimulatedGate
from kiosk.session.passage import PassageSettings, pass_gate
from kiosk.session.steps import PassageResult

PATIENT = PassageSettings(enter_s=30.0, leave_s=30.0, door_s=10.0)
SHORT = PassageSettings(enter_s=0.5, leave_s=0.5, door_s=10.0)


def _gate(**settings: object) -> SimulatedGate:
    config = SimulatedGateConfig.model_validate(
        {"heartbeat_s": 0.05, "transit_s": 0.05, **settings}
    )
    sim = SimulatedGate(config)
    sim.open()
    return sim


@pytest.fixture
def gate() -> Iterator[SimulatedGate]:
    sim = _gate()
    yield sim
    sim.close()


def _counts(gate: SimulatedGate) -> list[int]:
    seen: list[int] = []

    def listener(event: GateEvent) -> None:
        if isinstance(event, PersonsCounted):
            seen.append(event.count)

    gate.add_listener(listener)
    return seen


def test_a_family_of_three_passes_with_one_entry_and_one_exit_opening(
    gate: SimulatedGate,
) -> None:
    # GIVEN a family of three stepping in together (the tailgating sensor fires: >1 inside)
    gate.walk_in_together(3)
    counts = _counts(gate)
    # WHEN the group passes
    result = pass_gate(gate, PATIENT, CancelToken("fam-1"), persons=3)
    # THEN the doors opened once each, and the counter saw three persons in, then none
    assert result is PassageResult.PASSED
    assert gate.commands[1:] == [
        GateCommand.OPEN_ENTRY,
        GateCommand.CLOSE_ENTRY,
        GateCommand.OPEN_EXIT,
        GateCommand.CLOSE_EXIT,
    ]
    assert 3 in counts and counts[-1] == 0


def test_a_stranger_slipping_in_with_the_family_keeps_the_exit_shut(gate: SimulatedGate) -> None:
    gate.walk_in_together(4)  # a family of three, and one more
    result = pass_gate(gate, PATIENT, CancelToken("fam-2"), persons=3)
    assert result is PassageResult.TAILGATING
    assert GateCommand.OPEN_EXIT not in gate.commands
    assert gate.doors_closed


def test_a_follower_behind_the_family_is_caught(gate: SimulatedGate) -> None:
    gate.walk_in_together(2)
    gate.follow_next_entry(transit_s=5.0)
    assert pass_gate(gate, PATIENT, CancelToken("fam-3"), persons=2) is PassageResult.TAILGATING
    assert GateCommand.OPEN_EXIT not in gate.commands


def test_a_member_who_stays_outside_ends_the_passage_without_an_exit(gate: SimulatedGate) -> None:
    gate.walk_in_together(2)  # only two of the three step in
    assert pass_gate(gate, SHORT, CancelToken("fam-4"), persons=3) is PassageResult.TIMEOUT
    assert GateCommand.OPEN_EXIT not in gate.commands


def test_a_gate_that_cannot_count_lets_no_group_through() -> None:
    sim = _gate(counts_persons=False)
    try:
        sim.walk_in_together(2)
        result = pass_gate(sim, PATIENT, CancelToken("fam-5"), persons=2)
        assert result is PassageResult.GATE_FAULT
        assert sim.commands == [GateCommand.CLOSE_ALL]  # no door opened
    finally:
        sim.close()


def test_one_traveller_on_a_counting_gate_is_still_alone(gate: SimulatedGate) -> None:
    gate.walk_in_together(2)  # two persons for one accepted traveller
    assert pass_gate(gate, PATIENT, CancelToken("one")) is PassageResult.TAILGATING
    assert GateCommand.OPEN_EXIT not in gate.commands
