"""``kiosk audit verify`` on damaged and emptied logs: the bad entry is named, never a
traceback; a log that no longer covers the decisions is not "intact"; clock steps are flagged.

Each test builds the damage with the database file itself (the append-only triggers dropped
first, as an attacker or a broken disk would), checks the damage is there, then runs the
real command."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.audit import AuditLog, load_signing_key
from kiosk.cli.main import main
from kiosk.config import KioskConfig, load_config
from kiosk.storage.database import Database, open_database
from kiosk.storage.recorder import record_transaction
from tests.storage.conftest import make_record

EVERY = 5


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KioskConfig:
    for name in list(os.environ):
        if name.startswith("KIOSK_"):
            monkeypatch.delenv(name)
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(
        f'kiosk_id = "kiosk-audit"\ndata_dir = "{tmp_path / "home"}"\n'
        f"[storage]\naudit_checkpoint_every = {EVERY}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("KIOSK_CONFIG", str(config_file))
    return load_config(config_file)


@pytest.fixture
def database(config: KioskConfig) -> Iterator[Database]:
    db = open_database(config)
    yield db
    db.close()


def _audit(config: KioskConfig, times: list[datetime]) -> AuditLog:
    moments = iter(times)
    return AuditLog(
        load_signing_key(config.audit_key_file, create=True),
        kiosk_id=config.kiosk_id,
        checkpoint_every=EVERY,
        clock=lambda: next(moments),
    )


def _record(database: Database, audit: AuditLog, count: int) -> None:
    for n in range(count):
        record_transaction(database, make_record(f"txn-{n:03d}"), audit=audit)


def _attacker(config: KioskConfig) -> sqlite3.Connection:
    connection = sqlite3.connect(config.data_dir / "kiosk.db")
    for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
        connection.execute(f'DROP TRIGGER "{name}"')
    return connection


def _verify(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object], str]:
    capsys.readouterr()
    code = main(["audit", "verify", "--json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, json.loads(out), err


T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
STEADY = [T0 + timedelta(seconds=n) for n in range(100)]


@pytest.mark.parametrize(
    ("column", "garbage", "words"),
    [
        ("details", "{not json", "details are not valid JSON"),
        ("details", "[1, 2]", "wrong type"),
        ("time", "the day after tomorrow", "time is not readable"),
        ("subject_ids", "}{", "subject_ids is not readable"),
    ],
)
def test_an_unreadable_entry_is_named_not_a_crash(
    config: KioskConfig,
    database: Database,
    capsys: pytest.CaptureFixture[str],
    column: str,
    garbage: str,
    words: str,
) -> None:
    # GIVEN a log of 8 entries whose 4th holds garbage in one column
    _record(database, _audit(config, STEADY), 8)
    with _attacker(config) as connection:
        connection.execute(f"UPDATE audit_entries SET {column} = ? WHERE seq = 4", (garbage,))
        stored = connection.execute(f"SELECT {column} FROM audit_entries WHERE seq = 4").fetchone()
    assert stored == (garbage,)  # the damage is there
    # WHEN verified THEN exit 1, and the report names entry 4 and what is wrong with it
    code, report, _ = _verify(capsys)
    assert code == 1 and report["ok"] is False
    assert report["first_bad_seq"] == 4
    problems = report["problems"]
    assert isinstance(problems, list)
    assert any(p["seq"] == 4 and words in p["message"] for p in problems), problems
    assert report["entries"] == 8  # the rest was still checked


def test_an_emptied_log_over_recorded_decisions_is_not_intact(
    config: KioskConfig, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN 7 recorded decisions, then every audit entry and checkpoint deleted
    _record(database, _audit(config, STEADY), 7)
    with _attacker(config) as connection:
        connection.execute("DELETE FROM audit_entries")
        connection.execute("DELETE FROM audit_checkpoints")
        left = connection.execute("SELECT count(*) FROM audit_entries").fetchone()[0]
    assert left == 0
    # WHEN verified THEN not intact: the decisions have no entries, the log was cut short
    code, report, _ = _verify(capsys)
    assert code == 1 and report["entries"] == 0 and report["decisions"] == 7
    kinds = {p["kind"] for p in report["problems"]}  # type: ignore[union-attr]
    assert kinds == {"decisions_not_audited", "log_truncated"}
    # and the text output says so too
    assert main(["audit", "verify"]) == 1
    assert "TAMPERED" in capsys.readouterr().out


def test_a_log_cut_back_to_a_checkpoint_is_not_intact(
    config: KioskConfig, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN 9 decisions (a checkpoint at 5), and entries 6..9 deleted with their decisions
    _record(database, _audit(config, STEADY), 9)
    with _attacker(config) as connection:
        connection.execute("DELETE FROM audit_entries WHERE seq > 5")
        connection.execute("PRAGMA foreign_keys = OFF")
        connection.execute("DELETE FROM decisions WHERE transaction_id > 'txn-004'")
    code, report, _ = _verify(capsys)
    # THEN only what the checkpoint proves is left, and the log ends where it signed: intact,
    # which is the documented limit (the server holds the checkpoints as the anchor)
    assert report["last_seq"] == 5 and report["decisions"] == 5
    assert code == 0


def test_an_empty_kiosk_verifies(
    config: KioskConfig, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    load_signing_key(config.audit_key_file, create=True)
    code, report, _ = _verify(capsys)
    assert code == 0 and report["entries"] == 0 and report["decisions"] == 0


def test_times_going_backwards_are_flagged(
    config: KioskConfig, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a clock stepped back ten minutes after the 3rd entry
    times = STEADY[:3] + [
        STEADY[2] - timedelta(minutes=10) + timedelta(seconds=n) for n in range(9)
    ]
    _record(database, _audit(config, times), 6)
    # WHEN verified THEN the chain is intact but the step is flagged at entry 4
    code, report, _ = _verify(capsys)
    assert code == 0 and report["ok"] is True
    (warning,) = report["warnings"]  # type: ignore[misc]
    assert warning["seq"] == 4 and warning["kind"] == "clock_step_back"
    assert "back 600 s" in warning["message"]
    assert main(["audit", "verify"]) == 0
    assert "clock_step_back" in capsys.readouterr().out
