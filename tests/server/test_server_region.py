"""A region: two server processes behind HAProxy (TCP mode, TLS passed through) on one
PostgreSQL. Kiosks sync through the balancer with no duplicate and no loss, the booth works
the queue through it, live updates cross processes through LISTEN/NOTIFY, and kiosks ride
through a server process restart."""

from __future__ import annotations

import ssl
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from kiosk.bench.region import ServerProcess
from kiosk.officer.remote import HttpReferralSource
from kiosk.storage.recorder import record_transaction
from kiosk.sync.backoff import Backoff
from kiosk.sync.client import ServerClient
from kiosk.sync.relay import OutboxRelay
from kiosk.sync.resolutions import pull_resolutions
from models.records import ReferralOutcome
from models.server_tables import ReceivedDecisionRow, ReferralQueueRow
from server.notify import Subscriber
from server.security.tokens import Role
from tests.server.referral_photos import send_referral_photos

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery staple"


def _served(server: ServerProcess, ca: Path) -> float:
    """Decisions one process stored, from its own /metrics (loopback reads them)."""
    context = ssl.create_default_context(cafile=str(ca))
    text = httpx.get(f"https://127.0.0.1:{server.port}/metrics", verify=context).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith('kiosk_server_items_total{kind="decision",outcome="accepted"}'):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _counts(setup: Any) -> tuple[int, int, int]:
    with setup.state.database.sessions() as session:
        where = ReceivedDecisionRow.kiosk_id == setup.device
        stored = session.scalar(select(func.count()).where(where))
        distinct = session.scalar(
            select(func.count(func.distinct(ReceivedDecisionRow.transaction_id))).where(where)
        )
        referrals = session.scalar(
            select(func.count()).where(ReferralQueueRow.kiosk_id == setup.device)
        )
    return int(stored or 0), int(distinct or 0), int(referrals or 0)


def test_two_processes_behind_haproxy_serve_kiosks_and_booths(
    server_setup, region, kiosk_database, decided, kiosk_config_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ca = server_setup.credentials / "ca.pem"
    config = kiosk_config_factory(server_setup, tmp_path / "k", region.balancer.url)
    notes: list[Any] = []
    listening = threading.Event()
    done = threading.Event()

    def listen() -> None:
        with Subscriber(server_setup.state.database, ["referrals"]) as live:
            listening.set()
            while not done.is_set():
                notes.extend(live.notifications(timeout_s=0.5))

    listener = threading.Thread(target=listen)
    listener.start()
    listening.wait(30)
    try:
        # GIVEN 120 decisions (every third referred) at a kiosk, relayed through HAProxy
        # on four successive connections (TCP balancing is per connection)
        for index in range(120):
            record_transaction(kiosk_database, decided(index, server_setup.device))
        for _ in range(4):
            with ServerClient(config.sync) as client:
                OutboxRelay(kiosk_database, client, batch_size=30, backoff=Backoff()).relay_once()
        # THEN all arrived exactly once, and both processes stored some
        assert _counts(server_setup) == (120, 120, 40)
        assert all(_served(server, ca) > 0 for server in region.servers)
        # AND a listener on PostgreSQL heard of every referral, whichever process stored it
        done.set()
        listener.join(30)
        heard = {n.payload["transaction_id"] for n in notes if n.payload.get("event") == "new"}
        assert len(heard) == 40

        # WHEN an officer works the queue through the balancer (each call may reach either)
        officer = server_setup.user(Role.OFFICER)
        booth = HttpReferralSource(region.balancer.url, verify=str(ca))
        session = booth.login(officer, PASSWORD)
        queue = [r for r in booth.open_referrals(session) if r.kiosk_id == server_setup.device]
        first = queue[0].transaction_id
        booth.referral(session, first)
        send_referral_photos(config, first)  # a face mismatch is admitted only once seen
        assert all(booth.photos(session, first))
        booth.resolve(session, first, ReferralOutcome.ADMITTED, "passport checked")
        # THEN the kiosk gets the resolution through the balancer
        with ServerClient(config.sync) as client:
            assert pull_resolutions(kiosk_database, client) == 1
        assert len(queue) == 40
    finally:
        done.set()
        listener.join(30)


def test_kiosks_ride_through_a_server_process_restart(
    server_setup, region, kiosk_database, decided, kiosk_config_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a kiosk relaying 300 decisions through HAProxy in small batches
    config = kiosk_config_factory(server_setup, tmp_path / "k", region.balancer.url,
                                  backoff_base_s=0.05, backoff_cap_s=0.5)  # fmt: skip
    for index in range(300):
        record_transaction(kiosk_database, decided(index, server_setup.device))
    halfway = threading.Event()

    def relay() -> None:
        sent = 0
        while sent < 300:
            with ServerClient(config.sync) as client:
                report = OutboxRelay(
                    kiosk_database, client, batch_size=10, backoff=Backoff(0.05, 0.5)
                ).relay_once()
            sent += report.sent
            if sent >= 100:
                halfway.set()
            if report.errors:
                threading.Event().wait(0.6)  # the backoff the relay asked for

    sender = threading.Thread(target=relay)
    sender.start()
    # WHEN one server process is stopped and started again while it relays
    halfway.wait(120)
    region.servers[0].stop()
    region.servers[0].start()
    sender.join(180)
    # THEN every decision arrived exactly once
    assert not sender.is_alive()
    assert _counts(server_setup)[:2] == (300, 300)
