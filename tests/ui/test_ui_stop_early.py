"""Stopping the e-gate (SIGTERM, as systemd does) during start-up or just after exits
cleanly: exit 0, every process closed, no native abort (exit 134)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WAIT_S = 180.0


@pytest.mark.parametrize(
    "moment",
    [
        "database ready",  # mid-start: the kiosk is being built
        "started",  # the runtime has just started; the face workers are still loading
    ],
)
def test_a_stop_during_start_up_exits_cleanly(tmp_path: Path, moment: str) -> None:
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO),
        QT_QPA_PLATFORM="offscreen",
        KIOSK_DATA_DIR=str(tmp_path / "kiosk"),
        KIOSK_LOG_LEVEL="INFO",
    )
    env.pop("KIOSK_CONFIG", None)
    child = subprocess.Popen(
        [sys.executable, "-m", "ui", "traveller"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=env,
        cwd=REPO,
    )
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []

    def read() -> None:
        assert child.stderr is not None
        for raw in child.stderr:
            lines.put(raw.decode("utf-8", "replace"))

    reader = threading.Thread(target=read, name="child-stderr")
    reader.start()
    try:
        # WHEN the stop comes at that moment of start-up
        while True:
            line = lines.get(timeout=WAIT_S)
            seen.append(line)
            if moment in line:
                break
        child.send_signal(signal.SIGTERM)
        code = child.wait(WAIT_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(WAIT_S)
        reader.join(WAIT_S)
    while not lines.empty():
        seen.append(lines.get())
    output = "".join(seen)
    # THEN the process closed everything and exited 0
    assert "terminate called" not in output and "Traceback" not in output, output[-3000:]
    assert code == 0, output[-3000:]
    assert "stop requested (SIGTERM)" in output
