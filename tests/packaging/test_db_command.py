"""``kiosk db init-keys`` and ``kiosk db migrate``: what the package's postinst runs."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from kiosk.cli.main import main
from models import migrations


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [name for name in os.environ if name.startswith("KIOSK_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "kiosk.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        "[storage]\n"
        f'key_file = "{tmp_path / "keys" / "storage.key"}"\n'
        f'audit_key_file = "{tmp_path / "keys" / "audit.pem"}"\n',
        encoding="utf-8",
    )
    return path


def test_init_keys_creates_private_keys_once(config_file: Path) -> None:
    keys = config_file.parent / "keys"
    # GIVEN no keys WHEN init-keys runs twice
    assert main(["--config", str(config_file), "db", "init-keys"]) == 0
    first = {path.name: path.read_bytes() for path in keys.iterdir()}
    assert main(["--config", str(config_file), "db", "init-keys"]) == 0
    # THEN both keys exist, mode 0600, and the second run kept them
    assert sorted(first) == ["audit.pem", "storage.key"]
    assert {path.name: path.read_bytes() for path in keys.iterdir()} == first
    for path in keys.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_init_keys_refuses_a_key_others_can_read(config_file: Path) -> None:
    key = config_file.parent / "keys" / "storage.key"
    key.parent.mkdir()
    key.write_bytes(b"not a key\n")
    key.chmod(0o644)
    assert main(["--config", str(config_file), "db", "init-keys"]) == 2
    assert key.read_bytes() == b"not a key\n"


def test_migrate_brings_the_database_to_head_and_keeps_rows(config_file: Path) -> None:
    database = config_file.parent / "data" / "kiosk.db"
    # GIVEN a migrated database with a row of our own
    assert main(["--config", str(config_file), "db", "migrate"]) == 0
    with sqlite3.connect(database) as connection:
        connection.execute("create table kept (value text)")
        connection.execute("insert into kept values ('before the upgrade')")
    # WHEN it is migrated again (an upgrade)
    assert main(["--config", str(config_file), "db", "migrate"]) == 0
    # THEN the schema is at head and the row is still there
    with sqlite3.connect(database) as connection:
        version = connection.execute("select version_num from alembic_version").fetchone()[0]
        kept = connection.execute("select value from kept").fetchall()
    assert version == migrations.head_revision()
    assert kept == [("before the upgrade",)]
