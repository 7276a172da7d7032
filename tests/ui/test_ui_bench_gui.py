"""GIVEN ``python -m ui bench-gui`` (the event-loop stall benchmark: the real traveller window
over a demo kiosk on simulated devices) WHEN it runs one transaction THEN it reports its figures:
``--json`` prints one JSON object with the stall keys and the transaction counted, and the table
names the same figures. What the figures are is not asserted (they are durations of a busy
machine); that the window followed the transaction to "proceed" and the loop ticked is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]

KEYS = {
    "event_loop_stall_ms_max",
    "event_loop_stall_ms_p95",
    "event_loop_stall_ms_median",
    "worst_screen",
    "ticks",
    "timer_interval_ms",
    "transactions",
    "accepted",
    "proceed_screens",
    "transaction_ms_median",
}


def _bench(tmp_path: Path, *extra: str) -> str:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ui",
            "bench-gui",
            "--transactions",
            "1",
            "--warmup",
            "0",
            "--data-dir",
            str(tmp_path),
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_bench_gui_reports_the_stall_figures_as_one_json_object(tmp_path: Path) -> None:
    figures = json.loads(_bench(tmp_path / "json", "--json").strip().splitlines()[-1])
    assert set(figures) >= KEYS, figures
    assert figures["transactions"] == 1 and figures["accepted"] == 1
    assert figures["proceed_screens"] >= 1 and figures["ticks"] > 0
    assert isinstance(figures["event_loop_stall_ms_max"], float)
    assert figures["event_loop_stall_ms_max"] >= figures["event_loop_stall_ms_p95"] >= 0


def test_bench_gui_prints_a_table_by_default(tmp_path: Path) -> None:
    table = _bench(tmp_path / "table")
    assert "python -m ui bench-gui" in table
    for key in ("event_loop_stall_ms_max", "event_loop_stall_ms_p95", "transactions"):
        assert key in table
