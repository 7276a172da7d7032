"""``kiosk chip readers`` and ``run_sim_card`` against our pcscd."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hardware.config import PcscChipReaderConfig
from hardware.pcsc import PcscChipReader, list_readers
from hardware.pcscd import PcscDaemon
from hardware.sim.vpcd import VpcdCardLink
from kiosk.cli.main import main
from kiosk.sim_card import run_sim_card

REPO = Path(__file__).resolve().parents[2]
READER = "Virtual PCD 00 00"


@pytest.fixture(autouse=True)
def _drop_cli_log_handlers() -> Iterator[None]:
    """main() installs a stderr log handler; capsys closes that stream after the test."""
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_kiosk", False):
            root.removeHandler(handler)


@pytest.mark.pcsc
def test_chip_readers_json_lists_vpcd_with_card(
    vpcd_card: VpcdCardLink, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # GIVEN a configuration that selects the vpcd reader and a card in it
    config = tmp_path / "kiosk.toml"
    config.write_text('[devices.chip_reader]\ntype = "pcsc"\nreader_pattern = "Virtual PCD"\n')
    # WHEN the readers are listed as JSON
    code = main(["--config", str(config), "chip", "readers", "--json"])
    # THEN both vpcd slots are listed, the first with the card and marked as selected
    assert code == 0
    readers = {r["name"]: r for r in json.loads(capsys.readouterr().out)["readers"]}
    assert readers[READER] == {
        "name": READER,
        "card_present": True,
        "atr": vpcd_card.card.atr.hex().upper(),
        "selected": True,
    }
    assert readers["Virtual PCD 00 01"]["card_present"] is False
    assert readers["Virtual PCD 00 01"]["selected"] is False


@pytest.mark.pcsc
def test_chip_readers_table(vpcd_card: VpcdCardLink, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chip", "readers"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("READER")
    assert any(line.startswith(READER) and " yes " in line for line in lines)


def test_chip_readers_without_pcscd_exits_2(tmp_path: Path) -> None:
    # GIVEN no pcscd behind the client socket (a separate process: the client library
    # remembers its socket path for the life of a process)
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "none.comm")}
    env["PYTHONPATH"] = str(REPO)
    # WHEN the readers are listed
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "chip", "readers", "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # THEN a clear message and exit code 2
    assert result.returncode == 2
    assert "pcscd is not running" in result.stderr
    assert result.stdout == ""


def _card_in(present: bool, timeout_s: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(r.name == READER and r.card_present == present for r in list_readers()):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.pcsc
def test_run_sim_card_serves_until_stopped(pcscd: PcscDaemon, test_card: Any) -> None:
    # GIVEN `kiosk sim card` running in the background with a card
    stop = threading.Event()
    said: list[str] = []
    result: list[int] = []
    worker = threading.Thread(
        target=lambda: result.append(
            run_sim_card(test_card, "127.0.0.1", pcscd.vpcd_port, stop, say=said.append)
        ),
        name="kiosk-test-sim-card",
    )
    worker.start()
    try:
        # THEN pcscd sees the card, and a reader reads it
        assert _card_in(True)
        with PcscChipReader(PcscChipReaderConfig(reader_pattern=READER)) as reader:
            assert reader.connect() == test_card.atr
            assert reader.transmit(bytes.fromhex("00A4040C00")) == b"\x90\x00"
    finally:
        stop.set()
        worker.join(5)
    # WHEN stopped, the card is gone and the exit code is 0
    assert result == [0]
    assert _card_in(False)
    assert said and "inserted" in said[0]


@pytest.mark.pcsc
def test_run_sim_card_commands(pcscd: PcscDaemon, test_card: Any) -> None:
    said: list[str] = []
    commands = ["status", "remove", "status", "insert", "bogus", "quit", "never read"]
    code = run_sim_card(
        test_card,
        "127.0.0.1",
        pcscd.vpcd_port,
        threading.Event(),
        commands=commands,
        say=said.append,
    )
    assert code == 0
    assert said[1].startswith("card inserted;") and said[2] == "card removed"
    assert said[3].startswith("card removed;") and said[4] == "card inserted"
    assert "unknown command" in said[5] and len(said) == 6


def test_run_sim_card_without_vpcd_exits_2(test_card: Any) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    said: list[str] = []
    code = run_sim_card(
        test_card, "127.0.0.1", port, threading.Event(), say=said.append, connect_timeout_s=0.3
    )
    assert code == 2
    assert "does not listen" in said[-1]
