"""The audit log: hash chain, signed checkpoints, and detection of every kind of tampering."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from kiosk.audit import AuditEntryError, AuditLog, load_signing_key, verify
from kiosk.cli.main import main
from kiosk.config import KioskConfig, load_config
from kiosk.storage.database import Database, open_database
from kiosk.storage.errors import KeyFilePermissionError
from kiosk.storage.integrity import check_integrity
from models.tables import AuditCheckpointRow, OutboxMessageRow

EVERY = 5
ENTRIES = 23  # checkpoints at 5, 10, 15, 20


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KioskConfig:
    for name in list(os.environ):
        if name.startswith("KIOSK_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(
        f'kiosk_id = "kiosk-audit"\ndata_dir = "{home}"\n'
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


@pytest.fixture
def audit(config: KioskConfig) -> AuditLog:
    clock = iter(datetime(2025, 5, 1, tzinfo=UTC) + timedelta(seconds=i) for i in range(1000))
    return AuditLog(
        load_signing_key(config.audit_key_file, create=True),
        kiosk_id=config.kiosk_id,
        checkpoint_every=EVERY,
        clock=lambda: next(clock),
    )


@pytest.fixture
def filled(database: Database, audit: AuditLog) -> Database:
    for i in range(1, ENTRIES + 1):
        with database.write() as session:
            audit.append(
                session,
                actor="session",
                action="transaction.decided",
                subject_ids=[f"txn-{i:03d}"],
                details={"decision": "accept", "n": i, "checks": {"face": "passed"}},
            )
    return database


def _report(db: Database, audit: AuditLog) -> dict[str, object]:
    with db.read() as session:
        return verify(session, [audit.public_key], checkpoint_every=EVERY).as_dict()


def _attacker(config: KioskConfig) -> sqlite3.Connection:
    """Someone with the database file, who first removes the append-only triggers."""
    connection = sqlite3.connect(config.data_dir / "kiosk.db")
    for name in ("entries_no_update", "entries_no_delete", "checkpoints_no_update"):
        connection.execute(f"DROP TRIGGER IF EXISTS audit_{name}")
    connection.execute("DROP TRIGGER IF EXISTS audit_checkpoints_no_delete")
    return connection


def test_an_untouched_log_verifies(filled: Database, audit: AuditLog) -> None:
    # GIVEN 23 entries with a checkpoint every 5 WHEN verified
    report = _report(filled, audit)
    # THEN all is well and four checkpoints were signed and queued for the server
    assert report["ok"] is True and report["first_bad_seq"] is None
    assert (report["entries"], report["checkpoints"], report["last_signed_seq"]) == (23, 4, 20)
    with filled.read() as session:
        sent = session.scalars(
            select(OutboxMessageRow.subject_id)
            .where(OutboxMessageRow.kind == "audit_checkpoint")
            .order_by(OutboxMessageRow.id)
        ).all()
        assert sent == [f"kiosk-audit:{n}" for n in (5, 10, 15, 20)]
        assert check_integrity(session, [audit.public_key], checkpoint_every=EVERY) == []


def test_the_database_refuses_updates_and_deletes(filled: Database) -> None:
    # GIVEN the log WHEN a row is updated or deleted through the application THEN it is refused
    for statement in (
        "UPDATE audit_entries SET actor = 'x' WHERE seq = 3",
        "DELETE FROM audit_entries WHERE seq = 23",
        "DELETE FROM audit_checkpoints WHERE seq = 20",
    ):
        with pytest.raises(DBAPIError, match="append-only"), filled.write() as session:
            session.execute(text(statement))


@pytest.mark.parametrize(
    ("tamper", "first_bad", "kind"),
    [
        (
            'UPDATE audit_entries SET details = \'{"decision": "reject"}\' WHERE seq = 7',
            7,
            "altered",
        ),
        (
            "UPDATE audit_entries SET time = '2025-05-01 00:00:09.000000' WHERE seq = 12",
            12,
            "altered",
        ),
        ("DELETE FROM audit_entries WHERE seq = 9", 9, "missing"),
        ("DELETE FROM audit_entries WHERE seq = 20", 20, "missing"),
        ("UPDATE audit_entries SET seq = seq + 100 WHERE seq IN (13, 14)", 13, "missing"),
        ("DELETE FROM audit_checkpoints WHERE seq = 10", 10, "checkpoint_missing"),
        ("DELETE FROM audit_checkpoints WHERE seq = 20", 20, "checkpoint_missing"),
    ],
)
def test_each_kind_of_tampering_is_found(
    filled: Database, audit: AuditLog, config: KioskConfig, tamper: str, first_bad: int, kind: str
) -> None:
    # GIVEN an attacker who edits the database file directly
    with _attacker(config) as connection:
        connection.execute(tamper)
    # WHEN the log is verified
    report = _report(filled, audit)
    # THEN it is reported tampered, at the first bad sequence number
    assert report["ok"] is False
    assert report["first_bad_seq"] == first_bad
    problems = report["problems"]
    assert isinstance(problems, list) and problems[0]["kind"] == kind


def test_reordered_entries_are_found(
    filled: Database, audit: AuditLog, config: KioskConfig
) -> None:
    # GIVEN entries 13 and 14 swapped (each takes the other's sequence number)
    with _attacker(config) as connection:
        connection.execute("UPDATE audit_entries SET seq = -1 WHERE seq = 13")
        connection.execute("UPDATE audit_entries SET seq = 13 WHERE seq = 14")
        connection.execute("UPDATE audit_entries SET seq = 14 WHERE seq = -1")
    # WHEN verified THEN the first swapped entry is reported
    report = _report(filled, audit)
    assert report["ok"] is False and report["first_bad_seq"] == 13


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_chain_or_a_checkpoint(
    filled: Database, audit: AuditLog, config: KioskConfig
) -> None:
    # GIVEN an attacker who edits entry 8 and recomputes its hash consistently
    from kiosk.audit.entries import entry_hash

    with filled.read() as session:
        row = session.execute(text("SELECT * FROM audit_entries WHERE seq = 8")).mappings().one()
    forged = entry_hash(
        seq=8,
        time=datetime.fromisoformat(row["time"]).replace(tzinfo=UTC),
        actor=row["actor"],
        action=row["action"],
        subject_ids=json.loads(row["subject_ids"]),
        details={"decision": "reject"},
        prev_hash=row["prev_hash"],
    )
    with _attacker(config) as connection:
        connection.execute(
            "UPDATE audit_entries SET details = ?, hash = ? WHERE seq = 8",
            ('{"decision": "reject"}', forged),
        )
    # WHEN verified THEN the next entry no longer follows it
    report = _report(filled, audit)
    assert report["first_bad_seq"] == 9
    assert report["problems"][0]["kind"] == "chain_broken"  # type: ignore[index]


def test_a_forged_checkpoint_is_found(
    filled: Database, audit: AuditLog, config: KioskConfig
) -> None:
    # GIVEN checkpoint 15 re-signed by someone else's key under the kiosk's key id
    from kiosk.audit.log import checkpoint_message

    with filled.read() as session:
        cp = session.get(AuditCheckpointRow, 15)
        assert cp is not None
        message = checkpoint_message(
            kiosk_id=cp.kiosk_id,
            seq=cp.seq,
            entry_hash="f" * 64,
            prev_checkpoint_seq=cp.prev_checkpoint_seq,
            time=cp.time,
        )
    forged = Ed25519PrivateKey.generate().sign(message)
    with _attacker(config) as connection:
        connection.execute(
            "UPDATE audit_checkpoints SET signature = ?, entry_hash = ? WHERE seq = 15",
            (forged, "f" * 64),
        )
    # WHEN verified THEN the checkpoint's signature and hash are both reported
    report = _report(filled, audit)
    kinds = {p["kind"] for p in report["problems"]}  # type: ignore[attr-defined]
    assert report["first_bad_seq"] == 15
    assert kinds == {"bad_signature", "checkpoint_mismatch"}


def test_personal_data_and_floats_are_refused(database: Database, audit: AuditLog) -> None:
    # GIVEN details naming personal data, or holding a float WHEN appended THEN refused, typed
    for details in ({"surname": "X"}, {"traveller": {"document_number": "1"}}, {"score": 0.4}):
        with pytest.raises(AuditEntryError), database.write() as session:
            audit.append(session, actor="session", action="x", details=details)


def test_the_signing_key_is_private(config: KioskConfig) -> None:
    # GIVEN a signing key created by init-keys
    load_signing_key(config.audit_key_file, create=True)
    assert stat.S_IMODE(config.audit_key_file.stat().st_mode) == 0o600
    # WHEN its file becomes group-readable THEN it is refused
    config.audit_key_file.chmod(0o640)
    with pytest.raises(KeyFilePermissionError):
        load_signing_key(config.audit_key_file)


def test_cli_verify_exit_codes(
    filled: Database, config: KioskConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an intact log WHEN `kiosk audit verify --json` runs THEN exit 0 and ok
    assert main(["audit", "verify", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    # GIVEN an edited entry WHEN verified THEN exit 1 and the first bad seq is named
    with _attacker(config) as connection:
        connection.execute("UPDATE audit_entries SET actor = 'officer' WHERE seq = 4")
    assert main(["audit", "verify"]) == 1
    assert "first bad seq 4" in capsys.readouterr().out
