"""Checks a crash must never break (used by the crash harness and by technicians).

``check_integrity`` returns a list of problems, empty when all is well: the SQLite file's own
integrity and foreign keys, exactly one decision message in the outbox for every decision and
none without one, and the audit chain (signatures too when public keys are given).
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from kiosk.audit.verify import verify
from kiosk.storage.recorder import DECISION_MESSAGE
from models.tables import DecisionRow, OutboxMessageRow

MAX_LISTED = 20


def check_integrity(
    session: Session,
    public_keys: Iterable[Ed25519PublicKey] | None = None,
    *,
    checkpoint_every: int | None = None,
) -> list[str]:
    problems: list[str] = []
    if session.get_bind().dialect.name == "sqlite":
        problems += _sqlite_checks(session)
    problems += _outbox_checks(session)
    report = verify(session, public_keys, checkpoint_every=checkpoint_every)
    problems += [f"audit seq {p.seq}: {p.kind}: {p.message}" for p in report.problems[:MAX_LISTED]]
    return problems


def _sqlite_checks(session: Session) -> list[str]:
    problems: list[str] = []
    result = [row[0] for row in session.execute(text("PRAGMA integrity_check")).all()]
    if result != ["ok"]:
        problems += [f"sqlite integrity: {line}" for line in result[:MAX_LISTED]]
    for row in session.execute(text("PRAGMA foreign_key_check")).all()[:MAX_LISTED]:
        problems.append(f"sqlite foreign key: table {row[0]} row {row[1]} -> {row[2]}")
    return problems


def _outbox_checks(session: Session) -> list[str]:
    problems: list[str] = []
    counts = (
        select(OutboxMessageRow.subject_id, func.count().label("n"))
        .where(OutboxMessageRow.kind == DECISION_MESSAGE)
        .group_by(OutboxMessageRow.subject_id)
        .subquery()
    )
    without = session.scalars(
        select(DecisionRow.transaction_id)
        .outerjoin(counts, counts.c.subject_id == DecisionRow.transaction_id)
        .where(func.coalesce(counts.c.n, 0) != 1)
        .limit(MAX_LISTED)
    ).all()
    problems += [f"decision {tid}: not exactly one outbox message" for tid in without]
    orphans = session.scalars(
        select(OutboxMessageRow.subject_id)
        .outerjoin(DecisionRow, DecisionRow.transaction_id == OutboxMessageRow.subject_id)
        .where(OutboxMessageRow.kind == DECISION_MESSAGE)
        .where(DecisionRow.transaction_id.is_(None))
        .limit(MAX_LISTED)
    ).all()
    problems += [f"outbox message for {tid}: no such decision" for tid in orphans]
    return problems
