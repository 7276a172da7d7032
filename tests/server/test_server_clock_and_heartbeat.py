"""Clock steps and the sync: the outbox keeps its order whatever the wall clock did, and the
heartbeat carries the kiosk's real status (real uvicorn over mutual TLS, real PostgreSQL)."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from kiosk.storage import outbox
from kiosk.storage.database import Database
from kiosk.storage.recorder import record_transaction
from kiosk.sync.backoff import Backoff
from kiosk.sync.client import ServerClient
from kiosk.sync.relay import OutboxRelay
from kiosk.sync.service import SyncService
from models.base import utc_now
from models.server_tables import HeartbeatRow
from models.tables import OutboxMessageRow
from server.runner import ServerThread

pytestmark = pytest.mark.postgres

COUNT = 40
BATCH = 20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_clock_step_back_neither_holds_back_nor_reorders_the_outbox(
    server_setup: Any,
    kiosk_database: Database,
    decided: Any,
    kiosk_config_factory: Any,
    tmp_path: Path,
) -> None:
    # GIVEN 40 decisions, and a relay whose first batch (the 20 oldest) failed: server down
    for index in range(COUNT):
        record_transaction(kiosk_database, decided(index, server_setup.device))
    port = _free_port()
    config = kiosk_config_factory(
        server_setup, tmp_path / "kiosk", f"https://127.0.0.1:{port}", timeout_s=2.0
    )
    clock = FakeMonotonic()
    with ServerClient(config.sync) as client:
        posted: list[str] = []
        original = client.post_batch

        def recording(kind_path: str, items: list[dict[str, Any]]) -> Any:
            answer = original(kind_path, items)
            posted.extend(str(item["transaction_id"]) for item in items)
            return answer

        client.post_batch = recording  # type: ignore[method-assign]
        relay = OutboxRelay(
            kiosk_database, client, batch_size=BATCH, backoff=Backoff(1.0, 5.0), monotonic=clock
        )
        assert relay.relay_once().failed == BATCH
        # AND the wall clock then stepped back ten minutes: the failed messages' wall-clock
        # retry time now lies ten minutes ahead (the fault that held them back before)
        with kiosk_database.write() as session:
            session.execute(
                update(OutboxMessageRow)
                .where(OutboxMessageRow.attempts > 0)
                .values(next_attempt_at=utc_now() + timedelta(minutes=10))
            )
        with kiosk_database.read() as session:
            ahead = session.scalars(
                select(OutboxMessageRow.next_attempt_at).where(OutboxMessageRow.attempts > 0)
            ).all()
        assert len(ahead) == BATCH and min(ahead) > utc_now() + timedelta(minutes=9)
        # WHEN the server is back: within the backoff nothing is sent, not even newer ones ...
        server_setup.config.port = port
        with ServerThread(server_setup.config, state=server_setup.state):
            assert relay.relay_once().sent == 0 and posted == []
            # ... and once the (monotonic) backoff is over, the relay drains oldest first
            clock.now += 10.0
            report = relay.drain()
    assert report.sent == COUNT and report.failed == 0
    expected = [decided(index, server_setup.device).transaction_id for index in range(COUNT)]
    assert posted == expected  # every message once, in the order decided
    with kiosk_database.read() as session:
        assert outbox.backlog(session) == 0


def test_the_heartbeat_sends_the_real_status(
    server_setup: Any,
    running_server: ServerThread,
    kiosk_database: Database,
    kiosk_config_factory: Any,
    tmp_path: Path,
) -> None:
    config = kiosk_config_factory(server_setup, tmp_path / "kiosk", running_server.url)
    status = ("fault", {"lane": "clock:wall_clock", "clock": "wall clock stepped back 600 s"})
    with ServerClient(config.sync) as client:
        service = SyncService(config, kiosk_database, client, status=lambda: status)
        assert service.run_once().ok
    with server_setup.state.database.sessions() as session:
        row = session.get(HeartbeatRow, server_setup.device)
        assert row is not None
        assert row.status == "fault" and row.devices == status[1]
