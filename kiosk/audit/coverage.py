"""The log must cover what the kiosk did: every decision has its audit entry, and the log
is not shorter than the checkpoints already sent to the server.

An empty log, or one whose every entry and checkpoint was deleted (with the append-only
triggers dropped), is internally consistent: only what lies outside it can show it is
incomplete. Two witnesses are kept in the same database: the decisions (each is audited in
the same database transaction as ``transaction.decided``) and the outbox copies of the signed
checkpoints (whose ``seq`` says how long the log was when they were made).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.audit.report import AuditProblem, AuditReport
from models.tables import DecisionRow, OutboxMessageRow

MAX_NAMED = 5
CHECKPOINT_MESSAGE = "audit_checkpoint"


def check_coverage(session: Session, report: AuditReport, decided: set[str]) -> None:
    """Add problems for decisions without their entry and for a log cut short."""
    report.decisions = int(session.scalar(select(func.count()).select_from(DecisionRow)) or 0)
    if report.decisions > len(decided):
        missing = [
            tid
            for tid in session.scalars(
                select(DecisionRow.transaction_id).order_by(DecisionRow.decided_at)
            )
            if tid not in decided
        ]
        named = ", ".join(missing[:MAX_NAMED]) + (" ..." if len(missing) > MAX_NAMED else "")
        where = "the audit log is empty" if report.entries == 0 else "entries are missing"
        report.problems.append(
            AuditProblem(
                report.last_seq + 1,
                "decisions_not_audited",
                f"{len(missing)} of {report.decisions} recorded decisions have no audit entry "
                f"({where}): {named}",
            )
        )
    sent = [
        payload.get("seq")
        for payload in session.scalars(
            select(OutboxMessageRow.payload).where(OutboxMessageRow.kind == CHECKPOINT_MESSAGE)
        )
        if isinstance(payload, dict)
    ]
    longest = max((seq for seq in sent if isinstance(seq, int)), default=0)
    if longest > report.last_seq:
        report.problems.append(
            AuditProblem(
                report.last_seq + 1,
                "log_truncated",
                f"a checkpoint at seq {longest} was made (it is in the outbox for the server) "
                f"but the log ends at seq {report.last_seq}",
            )
        )
