"""GIVEN the kiosk's assistance line wired as build_kiosk wires it WHEN a traveller presses
Help and an officer answers THEN both are in the audit log, the chain still verifies, and a
second press while the call is pending is not a second call."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from kiosk.app import audit_assistance
from kiosk.assistance import Assistance
from kiosk.audit import open_audit_log
from kiosk.audit.verify import verify
from kiosk.config import load_config
from kiosk.storage.database import open_database
from models.tables import AuditEntryRow


def test_help_calls_and_their_answers_are_audited(tmp_path: Path) -> None:
    config = load_config(data_dir=tmp_path)
    database = open_database(config)
    audit = open_audit_log(config)
    try:
        assistance = Assistance()
        assistance.add_listener(lambda state: audit_assistance(database, audit, state))
        assistance.call("camera")
        assistance.call("camera")  # pressed again while pending
        assistance.acknowledge("officer-7")
        with database.read() as session:
            rows = session.execute(
                select(AuditEntryRow.actor, AuditEntryRow.action, AuditEntryRow.details)
            ).all()
        assert [(r.actor, r.action) for r in rows] == [
            ("traveller", "assistance.requested"),
            ("officer-7", "assistance.acknowledged"),
        ]
        assert rows[0].details == {"screen": "camera", "calls": 1}
        with database.read() as session:
            assert verify(session, [audit.public_key]).ok
    finally:
        database.close()
