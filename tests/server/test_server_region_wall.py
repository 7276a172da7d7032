"""GIVEN two server processes behind HAProxy on one PostgreSQL WHEN a kiosk's lane report is
stored by one process and the officer's wall is streamed by the other, or a remote action is
stored by one while the kiosk's long poll waits on the other THEN LISTEN/NOTIFY carries it
across: the wall's tile changes and the kiosk applies the action."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kiosk.lane import Lane, LaneCause
from kiosk.officer.remote import HttpReferralSource
from kiosk.officer.wall import WallModel, WallStream, wait_until
from kiosk.sync.client import API, ServerClient
from kiosk.sync.lane_link import LaneLink
from models.base import utc_now
from server.security.tokens import Role
from tests.server.region import Region, metric

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery staple"
LANE_ROUTE = 'route="/v1/kiosk/lane"'
ACTION_ROUTE = 'route="/v1/lanes/{lane}/actions"'


def _holding(region: Region, ca: Path, kind: str) -> int:
    """The index of the one process holding a live wait of ``kind`` (wall / commands)."""
    holders = [
        index
        for index, server in enumerate(region.servers)
        if metric(server, ca, "kiosk_server_live_waits", f'kind="{kind}"') >= 1
    ]
    assert len(holders) <= 1
    return holders[0] if holders else -1


def _served(region: Region, ca: Path, route: str) -> list[float]:
    return [metric(s, ca, "kiosk_server_requests_total", route) for s in region.servers]


def _heard(region: Region, ca: Path) -> list[float]:
    return [metric(s, ca, "kiosk_server_control_room_received_total") for s in region.servers]


def test_a_lane_report_stored_by_one_process_reaches_a_wall_on_the_other(
    server_setup, region, kiosk_config_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ca = server_setup.credentials / "ca.pem"
    config = kiosk_config_factory(server_setup, tmp_path / "k", region.balancer.url)
    booth = HttpReferralSource(region.balancer.url, verify=str(ca))
    session = booth.login(server_setup.user(Role.OFFICER), PASSWORD)
    model = WallModel()
    stream = WallStream(region.balancer.url, lambda: session.token,
                        lambda e, d: model.apply(e, d), verify=str(ca)).start()  # fmt: skip
    try:
        # GIVEN the wall streamed (snapshot received) by one process
        assert stream.connected.wait(30)
        assert wait_until(lambda: _holding(region, ca, "wall") >= 0, 20)
        wall_on = _holding(region, ca, "wall")
        # WHEN lane reports go through the balancer, one per connection, until one was stored
        # by the other process
        crossed = None
        for seq in range(1, 7):
            before = _served(region, ca, LANE_ROUTE)
            body = {"seq": seq, "event_at": utc_now().isoformat(), "step": "chip",
                    "in_service": True, "door": "closed"}  # fmt: skip
            with ServerClient(config.sync) as client:
                client.request("POST", f"{API}/lane", json=body)
            after = _served(region, ca, LANE_ROUTE)
            if after[1 - wall_on] > before[1 - wall_on]:
                crossed = seq
                break
        assert crossed is not None, "the balancer never chose the other process"
        # THEN the wall shows that very report, which only LISTEN/NOTIFY could have carried
        device = server_setup.device
        assert wait_until(lambda: device in model.tiles and model.tiles[device].step == "chip"
                          and _heard(region, ca)[wall_on] >= 1, 20)  # fmt: skip
        assert _holding(region, ca, "wall") == wall_on  # the same stream, not a reconnection
    finally:
        stream.close()
        booth.close()


def test_a_remote_action_stored_by_one_process_reaches_a_kiosk_waiting_on_the_other(
    server_setup, region, kiosk_config_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ca = server_setup.credentials / "ca.pem"
    config = kiosk_config_factory(server_setup, tmp_path / "k", region.balancer.url)
    # a poll that only the action can end within the test's wait (closing waits for it)
    wall = config.wall.model_copy(update={"commands_wait_s": 20})
    config = config.model_copy(update={"wall": wall})
    lane = Lane()
    link: Any = LaneLink(config, lane).start()
    try:
        device = server_setup.device
        officer = server_setup.user(Role.OFFICER)
        login = HttpReferralSource(region.balancer.url, verify=str(ca))
        session = login.login(officer, PASSWORD)
        # GIVEN the lane on the wall and the kiosk's long poll waiting on one process
        assert wait_until(lambda: link.sent >= 1, 20)
        assert wait_until(lambda: _holding(region, ca, "commands") >= 0, 20)
        poll_on = _holding(region, ca, "commands")
        # WHEN the officer holds the lane, through the balancer on fresh connections, until
        # the action was stored by the other process
        actions = iter(["hold", "out_of_service", "hold", "out_of_service", "hold"])
        crossed = None
        for action in actions:
            booth = HttpReferralSource(region.balancer.url, verify=str(ca))
            before = _served(region, ca, ACTION_ROUTE)
            booth.lane_action(session, device, action)
            booth.close()
            if _served(region, ca, ACTION_ROUTE)[1 - poll_on] > before[1 - poll_on]:
                crossed = action
                break
        assert crossed is not None, "the balancer never chose the other process"
        # THEN the waiting poll was woken by the other process's notification and the kiosk
        # applied the action
        cause = LaneCause.REMOTE_HOLD if crossed == "hold" else LaneCause.REMOTE_OUT_OF_SERVICE
        assert wait_until(lambda: lane.has(cause) and crossed in link.applied, 15)
        assert _heard(region, ca)[poll_on] >= 1
        login.close()
    finally:
        link.close()
