"""The crash harness of the traveller transaction (issue 7, "Checked by").

A real kiosk process (``python -m kiosk.demo.crash_child``: the composition root, the session
engine, the pipeline and the recorder over simulated devices) runs complete transactions and
prints ``DECIDED <id> <decision>`` after each record is committed. The harness SIGKILLs it at
random moments, restarts it on the same data directory, and goes on until 200 decisions were
reported. Mix: every 8th traveller is a genuine one (chip, face capture with a 60 fps simulated
camera, liveness, matching, screening, gate: accept); the others present a passport whose chip
refuses the access key (refer chip_anomaly right after the chip step). Then the database must
pass ``check_integrity`` (PRAGMA integrity_check, foreign keys, one outbox row per decision,
the audit chain with its signed checkpoints), every reported decision must be stored exactly
once, as reported, with its outbox row, and ``kiosk audit verify`` must exit 0.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kiosk.audit import load_signing_key
from kiosk.config import load_config
from kiosk.storage.database import open_database
from kiosk.storage.integrity import check_integrity
from kiosk.storage.recorder import DECISION_MESSAGE
from models.tables import DecisionRow, OutboxMessageRow

REPO = Path(__file__).resolve().parents[2]
TOTAL = 200
KILLS = 6


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(PYTHONPATH=str(REPO), KIOSK_LOG_LEVEL="WARNING", KIOSK_DATA_DIR=str(home))
    return env


class ChildRun:
    """One kiosk process and the DECIDED lines it printed (read on a thread)."""

    def __init__(self, home: Path, count: int, stderr: Path) -> None:
        self.lines: list[tuple[str, str]] = []
        self.first = threading.Event()
        self.stderr = stderr
        with stderr.open("wb") as errors:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kiosk.demo.crash_child", "--data-dir", str(home)]
                + ["--count", str(count), "--genuine-every", "8", "--camera-fps", "60"],
                stdout=subprocess.PIPE,
                stderr=errors,
                env=_environment(home),
            )
        self._reader = threading.Thread(target=self._read, name="kiosk-test-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            parts = raw.decode().split()
            if len(parts) == 3 and parts[0] == "DECIDED":
                self.lines.append((parts[1], parts[2]))
                self.first.set()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)

    def finish(self, timeout_s: float) -> int:
        """Wait for the process to end and for its last line to be read; its exit code."""
        try:
            self.process.wait(timeout_s)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(10)
            self._reader.join(10)
            assert self.process.stdout is not None
            self.process.stdout.close()
        return self.process.returncode

    @property
    def errors(self) -> str:
        return self.stderr.read_text(errors="replace")[-3000:]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_killed_kiosk_keeps_every_reported_decision(tmp_path: Path) -> None:
    # GIVEN a kiosk process that is killed with SIGKILL at random moments and restarted
    home = tmp_path / "kiosk"
    rng = random.Random(int(os.environ.get("KIOSK_CRASH_SEED", "0")) or None)
    home.mkdir()
    reported: list[tuple[str, str]] = []
    kills = 0
    deadline = time.monotonic() + 240
    while len(reported) < TOTAL:
        assert time.monotonic() < deadline, f"only {len(reported)} decisions in time"
        child = ChildRun(home, TOTAL - len(reported), tmp_path / f"child-{kills}.err")
        if kills < KILLS:
            # WHEN it dies at a random point after it started deciding
            started = child.first.wait(90)
            time.sleep(rng.uniform(0.0, 1.5))
            child.kill()
            kills += 1
            code = child.finish(30)
            assert started or code == 0, child.errors
        else:
            code = child.finish(180)
            assert code == 0, child.errors
        reported += child.lines
    assert kills == KILLS

    # THEN the database is consistent and the audit chain with its checkpoints verifies
    config = load_config(None, data_dir=str(home))
    key = load_signing_key(config.audit_key_file, create=False).public_key()
    ids = [tid for tid, _ in reported]
    assert len(ids) == len(set(ids)) >= TOTAL
    with open_database(config) as database, database.read() as session:
        problems = check_integrity(
            session, [key], checkpoint_every=config.storage.audit_checkpoint_every
        )
        assert problems == []
        # AND every reported decision is stored exactly once, as reported, with its outbox row
        stored = dict(
            session.execute(select(DecisionRow.transaction_id, DecisionRow.decision)).all()
        )
        outbox = dict(
            session.execute(
                select(OutboxMessageRow.subject_id, func.count())
                .where(OutboxMessageRow.kind == DECISION_MESSAGE)
                .group_by(OutboxMessageRow.subject_id)
            ).all()
        )
    for tid, decision in reported:
        assert _value(stored.get(tid)) == decision, tid
        assert outbox.get(tid) == 1, tid
    # at most one committed-but-not-reported decision per kill
    assert len(stored) - len(reported) <= kills
    assert {"accept", "refer"} <= {decision for _, decision in reported}

    # AND the technician's command agrees
    verify = subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "audit", "verify"],
        capture_output=True,
        env=_environment(home),
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout.decode() + verify.stderr.decode()


def _value(decision: object) -> object:
    return getattr(decision, "value", decision)
