"""GIVEN a kiosk database that has talked to a server WHEN the technician's health figures are
read THEN they carry the sync status and the trust-list time (rows read inside the session)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from kiosk.config import load_config
from kiosk.diagnostics.health import sync_health, trust_health
from kiosk.storage.database import open_database
from models.tables import ListVersionRow, SyncStatusRow


def test_health_reads_the_sync_status_and_the_trust_list_version(tmp_path: Path) -> None:
    database = open_database(load_config(data_dir=tmp_path, kiosk_id="kiosk-health"))
    contact = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    try:
        with database.write() as session:
            session.add(
                SyncStatusRow(
                    peer="server",
                    last_contact_at=contact,
                    last_success_at=contact,
                    consecutive_failures=2,
                    last_error="timeout",
                )
            )
            session.add(ListVersionRow(name="trust", version=3, updated_at=contact))
        sync = sync_health(database)
        trust = trust_health(database)
    finally:
        database.close()
    assert sync.backlog == 0 and sync.last_contact_at == contact
    assert sync.consecutive_failures == 2 and sync.last_error == "timeout"
    assert trust.state == "unknown" and trust.updated_at == contact
