"""GIVEN a kiosk configuration without a server WHEN the runtime's background sync is asked
for THEN nothing starts (no client, no kiosk-sync thread): the kiosk works offline."""

from __future__ import annotations

import threading
from pathlib import Path

from kiosk.config import load_config
from kiosk.storage.database import open_database
from kiosk.sync.background import start_background_sync


def test_no_server_url_starts_no_sync(tmp_path: Path) -> None:
    config = load_config(None, data_dir=str(tmp_path))
    assert config.sync.server_url is None
    with open_database(config) as database:
        assert start_background_sync(config, database) is None
    assert not any(t.name == "kiosk-sync" for t in threading.enumerate())


def test_a_server_url_starts_and_stops_the_sync_thread(tmp_path: Path) -> None:
    # GIVEN a configured server that is not there (the loop keeps trying, with backoff)
    config = load_config(
        None, data_dir=str(tmp_path), sync={"server_url": "http://127.0.0.1:9", "interval_s": 0.1}
    )
    with open_database(config) as database:
        sync = start_background_sync(config, database)
        assert sync is not None
        try:
            assert any(t.name == "kiosk-sync" for t in threading.enumerate())
        finally:
            sync.close()
    assert not any(t.name == "kiosk-sync" and t.is_alive() for t in threading.enumerate())
