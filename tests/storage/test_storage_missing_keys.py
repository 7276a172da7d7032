"""A missing storage or audit key is a start-up error naming the file once data exists;
only ``kiosk db init-keys`` creates keys (and a first start on a never-used data directory,
which is the same thing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.app import build_kiosk
from kiosk.cli.main import main
from kiosk.config import KioskConfig
from kiosk.storage.crypto_store import load_storage_key
from kiosk.storage.database import open_database
from kiosk.storage.errors import StorageKeyError
from kiosk.storage.recorder import record_transaction
from tests.storage.conftest import make_record


def _start(config: KioskConfig) -> None:
    kiosk = build_kiosk(config)
    kiosk.close()


def _config_file(config: KioskConfig, tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(f'data_dir = "{config.data_dir}"\nkiosk_id = "{config.kiosk_id}"\n')
    return path


@pytest.mark.parametrize("key", ["storage", "audit"])
def test_a_missing_key_over_existing_data_stops_the_start(
    kiosk_config: KioskConfig, tmp_path: Path, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a kiosk set up as the package does, with a recorded transaction
    config_file = _config_file(kiosk_config, tmp_path)
    assert main(["--config", str(config_file), "db", "init-keys"]) == 0
    assert main(["--config", str(config_file), "db", "migrate"]) == 0
    with open_database(kiosk_config) as database:
        record_transaction(database, make_record())
    _start(kiosk_config)
    # WHEN one key file is lost
    path = kiosk_config.storage_key_file if key == "storage" else kiosk_config.audit_key_file
    original = path.read_bytes()
    path.unlink()
    # THEN the kiosk does not start, naming the file, and no key was made in its place
    with pytest.raises(StorageKeyError) as caught:
        _start(kiosk_config)
    assert str(path) in str(caught.value) and "holds data" in str(caught.value)
    assert not path.exists()
    # and every command that needs it says so too
    if key == "storage":
        with pytest.raises(StorageKeyError, match="does not exist"):
            load_storage_key(kiosk_config)
    else:
        capsys.readouterr()
        assert main(["--config", str(config_file), "audit", "verify"]) == 2
        assert str(path) in capsys.readouterr().err
    # WHEN the key is restored from its backup THEN the kiosk starts again
    path.write_bytes(original)
    path.chmod(0o600)
    _start(kiosk_config)


def test_data_without_the_database_marker_still_counts(kiosk_config: KioskConfig) -> None:
    # GIVEN a database of the previous release (no marker) holding a transaction, no keys
    with open_database(kiosk_config) as database:
        record_transaction(database, make_record())
    for marker in kiosk_config.data_dir.glob("*.created"):
        marker.unlink()
    # WHEN the kiosk starts THEN the missing keys are an error, not made afresh
    with pytest.raises(StorageKeyError, match="holds transactions"):
        _start(kiosk_config)
    assert not kiosk_config.storage_key_file.exists()


def test_a_never_used_data_directory_gets_its_keys_on_first_start(
    kiosk_config: KioskConfig,
) -> None:
    _start(kiosk_config)
    assert kiosk_config.storage_key_file.exists() and kiosk_config.audit_key_file.exists()
    first = kiosk_config.storage_key_file.read_bytes()
    _start(kiosk_config)
    assert kiosk_config.storage_key_file.read_bytes() == first
