"""Crash safety: a writer killed with SIGKILL mid-stream leaves a consistent database.

The pattern for the transaction-level crash harness: a child process records transactions
(with audit entries and outbox rows) as fast as it can and prints each id after commit; the
parent kills it, then checks the database with ``check_integrity`` and that every id the child
reported as committed is there exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from kiosk.audit import load_signing_key
from kiosk.config import load_config
from kiosk.storage.database import open_database
from kiosk.storage.integrity import check_integrity
from models.tables import DecisionRow, OutboxMessageRow

REPO = Path(__file__).resolve().parents[2]

CHILD = """
import sys
from pathlib import Path
sys.path.insert(0, str(Path(sys.argv[2]) / "tests" / "storage"))
from conftest import make_record
from kiosk.audit import open_audit_log
from kiosk.config import load_config
from kiosk.storage import recorder
from kiosk.storage.crypto_store import BlobCipher, load_storage_key
from kiosk.storage.database import open_database
from kiosk.storage.key_setup import init_keys

config = load_config(data_dir=sys.argv[1], storage={"audit_checkpoint_every": 7})
db = open_database(config)
init_keys(config)
audit = open_audit_log(config)
cipher = BlobCipher(load_storage_key(config))
for i in range(100000):
    tid = f"txn-{i:06d}"
    recorder.record_transaction(db, make_record(tid, cipher=cipher), cipher=cipher, audit=audit)
    print(tid, flush=True)
"""


def test_a_killed_writer_leaves_a_consistent_database(tmp_path: Path) -> None:
    # GIVEN a child process recording transactions as fast as it can
    home = tmp_path / "home"
    env = dict(os.environ, PYTHONPATH=str(REPO), KIOSK_LOG_LEVEL="WARNING")
    env.pop("KIOSK_STORAGE__KEY", None)
    env.pop("KIOSK_DATABASE__URL", None)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(home), str(REPO)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stdout is not None
    try:
        reported: list[str] = []
        deadline = time.monotonic() + 60
        while len(reported) < 15 and time.monotonic() < deadline:
            line = child.stdout.readline().decode().strip()
            if not line:
                break
            reported.append(line)
        # WHEN it is killed without warning in the middle of its work
        child.send_signal(signal.SIGKILL)
        rest, errors = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
    reported += rest.decode().split()
    assert len(reported) >= 15, errors.decode()[-2000:]
    # THEN the database passes every integrity check and holds each reported decision once
    config = load_config(data_dir=home, storage={"audit_checkpoint_every": 7})
    key = load_signing_key(config.audit_key_file, create=False).public_key()
    with open_database(config) as db, db.read() as session:
        assert check_integrity(session, [key], checkpoint_every=7) == []
        stored = set(session.scalars(select(DecisionRow.transaction_id)).all())
        assert set(reported) <= stored
        assert len(stored) - len(reported) <= 1  # at most the one committed as it died
        messages = session.scalar(
            select(func.count())
            .select_from(OutboxMessageRow)
            .where(OutboxMessageRow.kind == "decision")
        )
        assert messages == len(stored)
