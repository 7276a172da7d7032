"""The lane's service state: causes set and cleared, listeners told of each change."""

from __future__ import annotations

import pytest

from kiosk.lane import Lane, LaneCause, LaneInService, LaneStatus


def test_lane_is_out_of_service_until_the_last_cause_is_cleared() -> None:
    # GIVEN a lane with two device faults and a stale trust list
    lane = Lane()
    seen: list[LaneStatus] = []
    lane.add_listener(seen.append)
    lane.set(LaneCause.DEVICE_FAULT, "not found", key="camera")
    lane.set(LaneCause.DEVICE_FAULT, "no reader", key="chip_reader")
    lane.set(LaneCause.TRUST_STALE, "CRL of TTO past nextUpdate")
    assert not lane.in_service
    assert lane.status().causes == (LaneCause.DEVICE_FAULT, LaneCause.TRUST_STALE)
    # WHEN the camera comes back and the trust is refreshed
    lane.clear(LaneCause.DEVICE_FAULT, key="camera")
    lane.clear(LaneCause.TRUST_STALE)
    # THEN the chip reader still keeps it closed, and clearing that reopens it
    assert not lane.in_service
    assert lane.has(LaneCause.DEVICE_FAULT, "chip_reader")
    lane.clear(LaneCause.DEVICE_FAULT)
    assert lane.in_service
    assert [s.in_service for s in seen] == [False, False, False, False, False, True]


def test_setting_the_same_cause_twice_notifies_once_and_keeps_its_start() -> None:
    lane = Lane()
    seen: list[LaneStatus] = []
    lane.add_listener(seen.append)
    lane.set(LaneCause.TECHNICIAN, "self-tests")
    since = lane.status().faults[0].since
    lane.set(LaneCause.TECHNICIAN, "self-tests")
    assert len(seen) == 1
    lane.set(LaneCause.TECHNICIAN, "rehearsal")
    assert len(seen) == 2
    assert lane.status().faults[0].since == since


def test_actions_that_need_the_lane_closed_are_refused_in_service() -> None:
    lane = Lane()
    with pytest.raises(LaneInService):
        lane.require_out_of_service("door test")
    lane.set(LaneCause.TECHNICIAN)
    lane.require_out_of_service("door test")


def test_a_failing_listener_does_not_break_the_lane() -> None:
    lane = Lane()

    def broken(status: LaneStatus) -> None:
        raise RuntimeError("listener bug")

    lane.add_listener(broken)
    lane.set(LaneCause.CLOCK, "stepped back 600 s")
    assert lane.status().as_dict()["in_service"] is False
