"""GIVEN a running kiosk (KioskRuntime over simulated devices) configured with a server WHEN a
traveller is decided THEN the decision reaches the server through the runtime's own background
sync (real uvicorn over mutual TLS, real PostgreSQL), and stopping the kiosk stops the sync."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.demo.kiosk_loop import CHIP_REFUSED, DemoKioskLoop
from models.server_tables import ReceivedDecisionRow

pytestmark = pytest.mark.postgres


def _received(setup, transaction_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    with setup.state.database.sessions() as session:
        rows = session.scalars(
            select(ReceivedDecisionRow.decision).where(
                ReceivedDecisionRow.transaction_id == transaction_id
            )
        ).all()
    return [getattr(row, "value", row) for row in rows]


def test_a_running_kiosk_relays_its_decision_to_the_server(
    server_setup, running_server, kiosk_config_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a kiosk runtime whose configuration names the server
    config = kiosk_config_factory(
        server_setup, tmp_path / "kiosk", running_server.url, interval_s=0.2
    )
    with DemoKioskLoop(config, travellers=(CHIP_REFUSED,)) as kiosk:
        assert kiosk.runtime.sync is not None
        assert any(t.name == "kiosk-sync" for t in threading.enumerate())
        # WHEN a traveller is decided
        result = kiosk.transact(CHIP_REFUSED)
        transaction_id = result.outcome.transaction_id
        assert result.outcome.decision is not None
        # THEN the decision arrives at the server, once, without anyone running `kiosk sync`
        deadline = time.monotonic() + 30
        while not _received(server_setup, transaction_id) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _received(server_setup, transaction_id) == [result.outcome.decision.value]
    # AND stopping the kiosk stopped its sync thread
    assert not any(t.name == "kiosk-sync" and t.is_alive() for t in threading.enumerate())
