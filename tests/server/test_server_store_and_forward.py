"""GIVEN 500 transactions decided while the server is down WHEN it comes back and the relay
runs THEN all 500 arrive exactly once (real uvicorn over mutual TLS, real PostgreSQL)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kiosk.storage import outbox
from kiosk.storage.database import Database
from kiosk.storage.recorder import record_transaction
from kiosk.sync.backoff import Backoff
from kiosk.sync.client import ServerClient
from kiosk.sync.relay import OutboxRelay
from kiosk.sync.status import sync_status
from models.server_tables import ReceivedDecisionRow, ReferralQueueRow
from server.runner import ServerThread

pytestmark = pytest.mark.postgres

COUNT = 500


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_counts(setup, kiosk_id: str) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with setup.state.database.sessions() as session:
        decisions = session.scalar(
            select(func.count()).where(ReceivedDecisionRow.kiosk_id == kiosk_id)
        )
        distinct = session.scalar(
            select(func.count(func.distinct(ReceivedDecisionRow.transaction_id))).where(
                ReceivedDecisionRow.kiosk_id == kiosk_id
            )
        )
        referrals = session.scalar(
            select(func.count()).where(ReferralQueueRow.kiosk_id == kiosk_id)
        )
    return int(decisions or 0), int(distinct or 0), int(referrals or 0)


def test_outbox_of_an_offline_kiosk_arrives_exactly_once(
    server_setup, kiosk_database: Database, decided, kiosk_config_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a kiosk that decides 500 transactions while the server is stopped
    for index in range(COUNT):
        record_transaction(kiosk_database, decided(index, server_setup.device))
    port = _free_port()
    config = kiosk_config_factory(
        server_setup,
        tmp_path / "kiosk",
        f"https://127.0.0.1:{port}",
        backoff_base_s=0.01,
        timeout_s=2.0,
    )
    with ServerClient(config.sync) as client:
        relay = OutboxRelay(
            kiosk_database, client, batch_size=config.sync.batch_size, backoff=Backoff(0.01, 0.05)
        )
        offline = relay.relay_once()
        assert offline.sent == 0 and offline.failed == config.sync.batch_size
        with kiosk_database.read() as session:
            assert outbox.backlog(session) == COUNT  # the kiosk kept deciding; nothing lost
        status = sync_status(kiosk_database)
        assert status["backlog"] == COUNT and status["consecutive_failures"] == 1

        # WHEN the server starts on that port and the relay runs
        server_setup.config.port = port
        with ServerThread(server_setup.config, state=server_setup.state):
            import time

            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                relay.drain()
                with kiosk_database.read() as session:
                    if outbox.backlog(session) == 0:
                        break
                time.sleep(0.02)
            # a second full pass sends nothing more
            again = relay.drain()

    # THEN every transaction is on the server exactly once, with its referral
    assert again.sent == 0
    assert _server_counts(server_setup, server_setup.device) == (COUNT, COUNT, COUNT // 3 + 1)
    status = sync_status(kiosk_database)
    assert status["backlog"] == 0 and status["last_success_at"] is not None


def test_a_resent_batch_changes_nothing(
    server_setup,
    running_server,
    kiosk_database: Database,
    decided,
    kiosk_config_factory,
    tmp_path: Path,
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN 10 transactions already relayed
    now = datetime.now(UTC)
    for index in range(10):
        record_transaction(kiosk_database, decided(index, server_setup.device, now=now))
    config = kiosk_config_factory(server_setup, tmp_path / "k", running_server.url)
    with ServerClient(config.sync) as client:
        relay = OutboxRelay(kiosk_database, client, batch_size=50, backoff=Backoff())
        assert relay.drain().sent == 10
        payloads = [decided(i, server_setup.device, now=now) for i in range(10)]
        from kiosk.storage.recorder import decision_payload

        # WHEN the same batch is posted again
        answer = client.post_batch("decisions", [decision_payload(p) for p in payloads])
    # THEN every item is a duplicate and nothing is stored twice
    assert answer["accepted"] == 0 and answer["duplicates"] == 10
    assert {item["outcome"] for item in answer["items"]} == {"duplicate"}
    assert _server_counts(server_setup, server_setup.device) == (10, 10, 4)
