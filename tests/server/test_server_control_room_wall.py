"""GIVEN the real server and a kiosk whose lane link reports over mutual TLS WHEN the lane
changes and officers act from the booth THEN the booth's event stream (server-sent events, no
polling) carries each change, a new referral raises the lane's alarm, and every remote action
is audited, carried to the kiosk's lane over the same channel and acknowledged."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kiosk.assistance import Assistance
from kiosk.lane import Lane, LaneCause
from kiosk.officer.samples import seed_sample_referrals
from kiosk.officer.wall import WallModel, WallStream, wait_until
from kiosk.session.events import EventBus, State, StateEntered
from kiosk.sync.client import API, ServerClient
from kiosk.sync.lane_link import LaneLink
from models.base import utc_now
from models.server_tables import LaneCommandRow, LaneStateRow, ServerAuditEventRow

PASSWORD = "correct horse battery staple"


@pytest.fixture
def wall(room: Any) -> Any:
    """The kiosk's lane link running, and a booth reading the stream."""
    lane, bus = Lane(), EventBus()
    link = LaneLink(room.kiosk_config, lane, assistance=Assistance()).start(bus.subscribe)
    officer = room.officer()
    booth = room.booth()
    session = booth.login(officer, PASSWORD)
    model = WallModel()
    events: list[tuple[str, dict[str, Any]]] = []

    def on_event(event: str, data: dict[str, Any]) -> None:
        events.append((event, data))
        model.apply(event, data)

    stream = WallStream(room.url, lambda: session.token, on_event, verify=room.ca).start()
    try:
        yield room, lane, bus, link, booth, session, model, events, officer
    finally:
        stream.close()
        link.close()
        booth.close()


def test_the_booth_sees_each_lane_change_pushed(wall: Any) -> None:
    room, lane, bus, link, _booth, _session, model, events, _officer = wall
    device = room.device
    # GIVEN the booth connected and the lane's first report on the wall
    assert wait_until(lambda: device in model.tiles, 20)
    # WHEN the traveller's session moves on THEN each step reaches the tile
    for state, step in (
        (State.DOCUMENT, "document"),
        (State.CHIP, "chip"),
        (State.FACE_CAPTURE, "face"),
    ):
        bus.publish(StateEntered("t-1", state))
        assert wait_until(lambda s=step: model.tiles[device].step == s, 20), step  # type: ignore[misc]
    # WHEN the lane goes out of service THEN the tile says why
    lane.set(LaneCause.DEVICE_FAULT, "camera: no frames", key="camera")
    assert wait_until(lambda: "device_fault" in model.tiles[device].causes, 20)
    assert not model.tiles[device].in_service and model.tiles[device].fault
    # WHEN a watchlist referral of this lane reaches the server THEN the tile raises the alarm
    seed_sample_referrals(room.kiosk_db, room.cipher, None, device)
    room.sync()
    assert wait_until(lambda: model.tiles[device].alarm, 20)
    assert model.tiles[device].referrals_waiting == 2
    assert any(event == "referral" for event, _ in events)
    # AND nothing personal is on the wall
    assert "JOSEPH" not in repr(events)


def test_remote_actions_reach_the_lane_audited_and_acknowledged(wall: Any) -> None:
    room, lane, _bus, link, booth, session, model, _events, officer = wall
    device = room.device
    assert wait_until(lambda: device in model.tiles, 20)
    # WHEN the officer holds the lane THEN the kiosk's lane is out of service for that cause
    booth.lane_action(session, device, "hold", "cleaning the lane")
    assert wait_until(lambda: lane.has(LaneCause.REMOTE_HOLD), 20)
    assert wait_until(lambda: "remote_hold" in model.tiles[device].causes, 20)
    booth.lane_action(session, device, "out_of_service")
    assert wait_until(lambda: lane.has(LaneCause.REMOTE_OUT_OF_SERVICE), 20)
    # WHEN the traveller presses Help and the officer acknowledges THEN the call is cleared on
    # the kiosk's assistance line and on the wall
    assert link.assistance_line is not None
    link.assistance_line.call("camera")
    assert wait_until(lambda: model.tiles[device].assistance, 20)
    booth.lane_action(session, device, "acknowledge_assistance")
    assert wait_until(lambda: not model.tiles[device].assistance, 20)
    assert link.assistance_line.state.acknowledged_by == "officer booth"
    # WHEN the doors are released after an emergency THEN the emergency cause clears
    lane.set(LaneCause.EMERGENCY, "doors released", key="gate")
    booth.lane_action(session, device, "release_doors")
    assert wait_until(lambda: not lane.has(LaneCause.EMERGENCY), 20)
    # WHEN it returns to service THEN the remote causes are gone and the lane is in service
    booth.lane_action(session, device, "return_to_service")
    assert wait_until(lambda: lane.in_service, 20)
    assert wait_until(lambda: model.tiles[device].in_service, 20)
    assert link.applied == [
        "hold",
        "out_of_service",
        "acknowledge_assistance",
        "release_doors",
        "return_to_service",
    ]

    # AND each action was audited and acknowledged by the kiosk
    def commands() -> list[LaneCommandRow]:
        with room.state.database.sessions() as db:
            return list(
                db.scalars(
                    select(LaneCommandRow)
                    .where(LaneCommandRow.device_name == device)
                    .order_by(LaneCommandRow.id)
                )
            )

    assert wait_until(lambda: all(c.acked_at is not None for c in commands()), 20)
    assert [c.result for c in commands()] == ["applied"] * 5
    assert all(c.issued_by == officer for c in commands())
    with room.state.database.sessions() as db:
        audited = db.scalars(
            select(ServerAuditEventRow)
            .where(
                ServerAuditEventRow.actor == officer, ServerAuditEventRow.action == "lane.action"
            )
            .order_by(ServerAuditEventRow.id)
        ).all()
    assert [a.details["lane_action"] for a in audited] == link.applied


@pytest.mark.parametrize("room", ["sqlite"], indirect=True)
def test_the_wall_refuses_strangers_and_other_sites(wall: Any) -> None:
    room, *_rest = wall
    verify = __import__("ssl").create_default_context(cafile=room.ca)
    # WHEN the stream is asked for without a token THEN 401
    assert httpx.get(f"{room.url}/v1/lanes/stream", verify=verify).status_code == 401
    # WHEN an officer of another site acts on this lane THEN 404 (no probing) and no command
    stranger = room.officer(site="ELSEWHERE")
    booth = room.booth()
    try:
        session = booth.login(stranger, PASSWORD)
        assert booth.lanes(session) == []
        response = httpx.post(
            f"{room.url}/v1/lanes/{room.device}/actions",
            json={"action": "release_doors"},
            headers={"Authorization": f"Bearer {session.token}"},
            verify=verify,
        )
        assert response.status_code == 404
        bad = httpx.post(
            f"{room.url}/v1/lanes/{room.device}/actions",
            json={"action": "open_the_doors"},
            headers={"Authorization": f"Bearer {session.token}"},
            verify=verify,
        )
        assert bad.status_code == 422
    finally:
        booth.close()


@pytest.mark.parametrize("room", ["sqlite"], indirect=True)
def test_the_kiosk_heartbeat_keeps_its_tile_in_contact(room: Any) -> None:
    # GIVEN a lane's report on the server, then a later one, then an old retry
    body = {"seq": 7, "event_at": utc_now().isoformat(), "step": "chip", "in_service": True,
            "door": "closed"}  # fmt: skip
    with ServerClient(room.kiosk_config.sync) as client:
        assert client.request("POST", f"{API}/lane", json=body)["accepted"] == 1
        first = _lane_row(room).received_at
        # WHEN the kiosk re-sends the same state (its heartbeat, nothing new)
        again = client.request("POST", f"{API}/lane", json={**body, "step": "face"})
        # THEN nothing changes on the tile but the lane is still in contact
        assert again == {"accepted": 0, "duplicates": 1}
        row = _lane_row(room)
        assert row.step == "chip" and row.received_at > first
        # AND an older report (a late retry) changes nothing at all
        old = client.request("POST", f"{API}/lane", json={**body, "seq": 3, "step": "face"})
        assert old == {"accepted": 0, "duplicates": 1}
        assert _lane_row(room).received_at == row.received_at


def _lane_row(room: Any) -> LaneStateRow:
    with room.state.database.sessions() as db:
        found = db.get(LaneStateRow, room.device)
    assert found is not None
    return found
