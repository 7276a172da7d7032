"""Disk full, corrupt pages and an emptied database: the lane goes out of service with the
cause named, no traveller starts a transaction that cannot be kept, the start check fails.

Every fault is real SQLite behaviour, not a mock of our code: ``PRAGMA max_page_count`` makes
SQLite itself answer SQLITE_FULL ("database or disk is full") exactly as on a full disk, and a
corrupt page is garbage written over a table's root page in the database file. Each test
checks that its fault fired before it checks the kiosk's answer.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from hardware.sim.mrz_reader import SimulatedMrzReader
from kiosk.cli.main import main
from kiosk.config import KioskConfig, load_config
from kiosk.demo.kiosk_loop import GENUINE, DemoKioskLoop
from kiosk.lane import Lane, LaneCause
from kiosk.session.events import SessionEvent, State, StateEntered
from kiosk.storage.crypto_store import generate_key
from kiosk.storage.database import Database, open_database
from kiosk.storage.errors import StorageCorruptError, StorageFullError
from kiosk.storage.file_checks import marker_of
from kiosk.storage.health import StorageHealth
from kiosk.storage.key_setup import init_keys
from kiosk.storage.keyfiles import create_private_file
from kiosk.storage.recorder import record_transaction
from models.tables import DecisionRow, TransactionRow
from tests.storage.conftest import face_sample, make_record

WAIT_S = 60.0


def _limit_pages(database: Database, extra_pages: int) -> Any:
    """Every new connection may grow the file by ``extra_pages`` pages only (SQLITE_FULL);
    the free pages are vacuumed away first, so the limit is the room there is."""
    database.engine.dispose()
    with database.engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute("VACUUM")
        pages = int(driver.execute("PRAGMA page_count").fetchone()[0])
        assert int(driver.execute("PRAGMA freelist_count").fetchone()[0]) == 0

    def limit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count={pages + extra_pages}")

    database.engine.dispose()
    event.listen(database.engine, "connect", limit)
    return limit


def _unlimit(database: Database, limit: Any) -> None:
    event.remove(database.engine, "connect", limit)
    database.engine.dispose()


def _corrupt_table(db_file: Path, table: str) -> int:
    """Overwrite the root page of ``table`` with garbage; returns the page number."""
    connection = sqlite3.connect(db_file)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        root = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()[0]
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    finally:
        connection.close()
    with db_file.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(bytes([0x5A, 0xA5]) * (page_size // 2))
    return int(root)


# --- the recorder and the start check ----------------------------------------------------


def test_a_full_disk_is_named_storage_full(database: Database, cipher: Any) -> None:
    # GIVEN a database that cannot grow (SQLite's own SQLITE_FULL)
    limit = _limit_pages(database, 2)
    record = make_record(cipher=cipher, samples=(face_sample(b"x" * 200_000),))
    # WHEN a transaction with a face image is recorded THEN the cause is "disk full"
    with pytest.raises(StorageFullError, match="disk full") as caught:
        record_transaction(database, record, cipher=cipher)
    assert "database or disk is full" in str(caught.value)  # the fault fired
    assert caught.value.code == "storage_full"
    _unlimit(database, limit)
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(TransactionRow)) == 0


def test_storage_health_takes_the_lane_out_and_back(database: Database) -> None:
    lane = Lane()
    health = StorageHealth(database, lane, min_free_mb=0)
    assert health.check() and lane.in_service
    limit = _limit_pages(database, 4)  # the 64 KiB probe does not fit
    assert not health.check()
    assert lane.has(LaneCause.STORAGE_FULL)
    assert "database or disk is full" in lane.status().faults[0].detail
    _unlimit(database, limit)  # space freed
    assert health.check() and lane.in_service


def test_too_little_free_space_is_full_before_any_write(database: Database) -> None:
    lane = Lane()
    health = StorageHealth(database, lane, min_free_mb=10**9)  # a petabyte: never there
    assert not health.check()
    (fault,) = lane.status().faults
    assert fault.cause is LaneCause.STORAGE_FULL and "KiB free" in fault.detail


def test_db_migrate_fails_on_a_corrupt_outbox_page(
    kiosk_config: KioskConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a kiosk database with decisions in the outbox
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(f'data_dir = "{kiosk_config.data_dir}"\n')
    with open_database(kiosk_config) as database:
        for n in range(5):
            record_transaction(database, make_record(f"txn-{n}"))
    assert main(["--config", str(config_file), "db", "migrate"]) == 0
    capsys.readouterr()
    # WHEN a page of the outbox table is garbage
    db_file = kiosk_config.data_dir / "kiosk.db"
    assert _corrupt_table(db_file, "outbox") > 1
    # THEN the unit's start check fails and says the database is corrupt
    assert main(["--config", str(config_file), "db", "migrate"]) == 2
    err = capsys.readouterr().err
    assert "storage_corrupt" in err and "integrity check failed" in err, err


def test_audit_verify_names_a_corrupt_audit_table(
    kiosk_config: KioskConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiosk.audit import open_audit_log

    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(f'data_dir = "{kiosk_config.data_dir}"\n')
    init_keys(kiosk_config)
    audit = open_audit_log(kiosk_config)
    with open_database(kiosk_config) as database:
        for n in range(5):
            record_transaction(database, make_record(f"txn-{n}"), audit=audit)
    _corrupt_table(kiosk_config.data_dir / "kiosk.db", "audit_entries")
    code = main(["--config", str(config_file), "audit", "verify"])
    err = capsys.readouterr().err
    assert code == 2 and "storage_corrupt" in err and "Traceback" not in err, err


def test_an_emptied_database_is_an_error_not_a_fresh_start(
    kiosk_config: KioskConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a kiosk that recorded a transaction
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(f'data_dir = "{kiosk_config.data_dir}"\n')
    assert main(["--config", str(config_file), "db", "init-keys"]) == 0
    assert main(["--config", str(config_file), "db", "migrate"]) == 0
    db_file = kiosk_config.data_dir / "kiosk.db"
    assert marker_of(db_file).exists()
    # WHEN its database file is cut to zero bytes
    db_file.write_bytes(b"")
    for suffix in ("-wal", "-shm"):
        db_file.with_name(db_file.name + suffix).unlink(missing_ok=True)
    capsys.readouterr()
    # THEN the start check refuses it and the kiosk does not open it
    assert main(["--config", str(config_file), "db", "migrate"]) == 2
    assert "is empty (0 bytes)" in capsys.readouterr().err
    with pytest.raises(StorageCorruptError):
        open_database(kiosk_config)
    assert db_file.stat().st_size == 0  # nothing was created over it
    # and a missing file where one was created before is refused too
    db_file.unlink()
    with pytest.raises(StorageCorruptError, match="is missing"):
        open_database(kiosk_config)


def test_a_zero_length_file_beside_keys_is_refused_without_a_marker(
    kiosk_config: KioskConfig,
) -> None:
    kiosk_config.data_dir.mkdir(parents=True)
    create_private_file(kiosk_config.storage_key_file, generate_key())
    (kiosk_config.data_dir / "kiosk.db").write_bytes(b"")
    with pytest.raises(StorageCorruptError, match="storage.key"):
        open_database(kiosk_config)


# --- through the running kiosk -----------------------------------------------------------


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[DemoKioskLoop]:
    with DemoKioskLoop(load_config(None, data_dir=str(tmp_path / "kiosk"))) as running:
        yield running


def _decisions(loop: DemoKioskLoop) -> int:
    with loop.kiosk.database.read() as session:
        return int(session.scalar(select(func.count()).select_from(DecisionRow)) or 0)


def _present_expecting_refusal(loop: DemoKioskLoop, refused_before: int) -> list[State]:
    states: list[State] = []
    seen = threading.Lock()

    def note(event: SessionEvent) -> None:
        if isinstance(event, StateEntered):
            with seen:
                states.append(event.state)

    unsubscribe = loop.kiosk.bus.subscribe(note)
    mrz = loop.devices.mrz_reader
    assert isinstance(mrz, SimulatedMrzReader)
    try:
        mrz.present(loop._travellers[GENUINE][1])
        assert loop.runtime.wait_refused(refused_before + 1, WAIT_S)
    finally:
        mrz.remove()
        unsubscribe()
    return states


def test_a_full_disk_stops_the_lane_before_a_traveller_starts(loop: DemoKioskLoop) -> None:
    # GIVEN a running kiosk whose database cannot grow any more
    before = _decisions(loop)
    limit = _limit_pages(loop.kiosk.database, 4)
    try:
        # WHEN a traveller presents a passport
        states = _present_expecting_refusal(loop, 0)
        # THEN no transaction started, the lane is out of service with the cause named
        assert states == [] and loop.kiosk.engine.state is State.WAITING
        lane = loop.kiosk.lane
        assert lane.has(LaneCause.STORAGE_FULL)
        assert "database or disk is full" in lane.status().faults[0].detail  # the fault fired
    finally:
        _unlimit(loop.kiosk.database, limit)
    # WHEN space is back THEN the next traveller is decided and recorded as usual
    # (accepted on a quiet machine; a starved camera may refer it, which is recorded too)
    result = loop.transact(GENUINE, timeout_s=WAIT_S)
    assert result.outcome.outcome in ("accepted", "referred"), result.outcome
    assert loop.kiosk.lane.in_service and _decisions(loop) == before + 1


def test_a_corrupt_outbox_page_takes_the_lane_out_of_service(loop: DemoKioskLoop) -> None:
    # GIVEN a running kiosk that has recorded one traveller
    loop.transact(GENUINE, timeout_s=WAIT_S)
    assert _decisions(loop) == 1
    database = loop.kiosk.database
    database.engine.dispose()
    root = _corrupt_table(Path(database.engine.url.database or ""), "outbox")
    database.engine.dispose()
    # WHEN the next traveller's record reaches the damaged page
    result = loop.transact(GENUINE, timeout_s=WAIT_S)
    # THEN the fault fired (nothing recorded), the traveller was not let through ...
    assert root > 1
    assert loop.kiosk.storage is not None and loop.kiosk.storage.failures == 1
    assert result.outcome.outcome == "referred"
    assert "system_malfunction" in result.outcome.reasons
    gate = loop.devices.gate
    assert not gate.exit_door_open  # type: ignore[attr-defined]
    # ... the lane is out of service as corrupt (not "unavailable") ...
    lane = loop.kiosk.lane
    assert lane.has(LaneCause.STORAGE_CORRUPT)
    assert "corrupt" in lane.status().faults[0].detail
    # ... and the next traveller does not start a transaction that could not be kept
    states = _present_expecting_refusal(loop, 0)
    assert states == [] and loop.kiosk.engine.state is State.WAITING
