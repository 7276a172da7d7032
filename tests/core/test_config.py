"""GIVEN a configuration file and environment WHEN the kiosk loads it THEN ..."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.cli.main import main
from kiosk.config import load_config, masked_dump
from models.errors import ConfigError


def test_defaults_run_everything_simulated_on_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    config = load_config()
    assert config.devices.chip_reader.type == "simulated"
    assert config.devices.mrz_reader.type == "simulated"
    assert config.devices.camera.type == "simulated"
    assert config.devices.gate.type == "simulated"
    assert config.database_url.startswith("sqlite:///")


def test_toml_file_selects_driver_by_type(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        '[devices.camera]\ntype = "opencv"\nsource = 2\n[devices.chip_reader]\n'
        'type = "pcsc"\nreader_pattern = "OMNIKEY"\n'
    )
    config = load_config(path)
    assert config.devices.camera.type == "opencv"
    assert config.devices.camera.source == 2
    assert config.devices.chip_reader.type == "pcsc"


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text('kiosk_id = "from-file"\n')
    monkeypatch.setenv("KIOSK_KIOSK_ID", "from-env")
    monkeypatch.setenv("KIOSK_FACE__THRESHOLD", "0.42")
    config = load_config(path)
    assert config.kiosk_id == "from-env"
    assert config.face.threshold == pytest.approx(0.42)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[devices.camera]\ntype = "opencv"\nsorce = 1\n', "devices.camera.opencv.sorce"),
        ('[devices.gate]\ntype = "teleporter"\n', "devices.gate"),
        ("[face]\nthreshold = 7\n", "face.threshold"),
        ('kiosk_id = "has spaces"\n', "kiosk_id"),
        ("unknown_section = 1\n", "unknown_section"),
    ],
)
def test_a_bad_file_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(key)


def test_config_show_exits_2_with_one_line_on_a_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text("this is = not toml [\n")
    assert main(["--config", str(path), "config", "show"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not valid TOML" in err[0]


def test_config_show_masks_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KIOSK_STORAGE__KEY", "c2VjcmV0LWtleS1tYXRlcmlhbA==")
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    shown = json.loads(out)
    assert shown["storage"]["key"] == "********"
    assert "c2VjcmV0" not in out
    assert masked_dump(load_config())["storage"]["key"] == "********"
