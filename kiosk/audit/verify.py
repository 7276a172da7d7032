"""Verifying the audit log: every entry's hash, the chain, the sequence, every checkpoint.

Finds an edited entry (its hash no longer matches), a deleted one (a gap in ``seq``, or a
checkpoint naming a hash that is gone), reordered ones (``seq`` is inside the hash, and
``prev_hash`` links each entry to the one before), a deleted checkpoint (each checkpoint
names the previous one; and no more than N entries may follow the last one), and a forged or
altered checkpoint (Ed25519 signature). Limits: entries appended after the newest checkpoint
and then removed together with it leave no trace here; the copies of checkpoints sent to the
server are the anchor for that.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.audit.entries import GENESIS_HASH, entry_hash
from kiosk.audit.log import checkpoint_message
from kiosk.audit.signing import key_id
from models.tables import AuditCheckpointRow, AuditEntryRow


@dataclass(frozen=True, slots=True)
class AuditProblem:
    seq: int
    kind: str
    message: str


@dataclass(slots=True)
class AuditReport:
    entries: int = 0
    checkpoints: int = 0
    last_seq: int = 0
    last_signed_seq: int = 0
    problems: list[AuditProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        return min((p.seq for p in self.problems), default=None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "last_seq": self.last_seq,
            "last_signed_seq": self.last_signed_seq,
            "first_bad_seq": self.first_bad_seq,
            "problems": [
                {"seq": p.seq, "kind": p.kind, "message": p.message} for p in self.problems
            ],
        }


def verify(
    session: Session,
    public_keys: Iterable[Ed25519PublicKey] | None,
    *,
    checkpoint_every: int | None = None,
) -> AuditReport:
    """Check the whole log. ``public_keys`` None skips the signatures (chain checks only);
    ``checkpoint_every`` None skips the "checkpoint overdue" rule."""
    report = AuditReport()
    checkpoints = session.scalars(select(AuditCheckpointRow).order_by(AuditCheckpointRow.seq)).all()
    wanted = {cp.seq for cp in checkpoints}
    hashes_at_checkpoints = _check_entries(session, report, wanted)
    keys = None if public_keys is None else {key_id(k): k for k in public_keys}
    _check_checkpoints(checkpoints, hashes_at_checkpoints, keys, report)
    if (
        checkpoint_every is not None
        and report.last_seq - report.last_signed_seq >= checkpoint_every
    ):
        due = report.last_signed_seq + checkpoint_every
        report.problems.append(
            AuditProblem(due, "checkpoint_missing", f"no checkpoint although one was due at {due}")
        )
    report.problems.sort(key=lambda p: p.seq)
    return report


def _check_entries(session: Session, report: AuditReport, wanted: set[int]) -> dict[int, str]:
    expected, prev_hash = 1, GENESIS_HASH
    kept: dict[int, str] = {}
    rows = session.execute(
        select(AuditEntryRow).order_by(AuditEntryRow.seq).execution_options(yield_per=1000)
    )
    for row in rows.scalars():
        report.entries += 1
        if row.seq > expected:
            report.problems.append(
                AuditProblem(expected, "missing", f"entries {expected}..{row.seq - 1} are missing")
            )
        elif row.seq < expected:
            report.problems.append(AuditProblem(row.seq, "bad_seq", "sequence number below 1"))
        computed = entry_hash(
            seq=row.seq,
            time=row.time,
            actor=row.actor,
            action=row.action,
            subject_ids=row.subject_ids,
            details=row.details,
            prev_hash=row.prev_hash,
        )
        if computed != row.hash:
            report.problems.append(
                AuditProblem(row.seq, "altered", "entry does not match its hash")
            )
        elif row.prev_hash != prev_hash and row.seq == expected:
            report.problems.append(
                AuditProblem(row.seq, "chain_broken", "entry does not follow the previous one")
            )
        if row.seq in wanted:
            kept[row.seq] = row.hash
        prev_hash, expected = row.hash, row.seq + 1
    report.last_seq = expected - 1
    return kept


def _check_checkpoints(
    checkpoints: Iterable[AuditCheckpointRow],
    hashes: Mapping[int, str],
    keys: Mapping[str, Ed25519PublicKey] | None,
    report: AuditReport,
) -> None:
    previous = 0
    for cp in checkpoints:
        report.checkpoints += 1
        if cp.prev_checkpoint_seq != previous:
            report.problems.append(
                AuditProblem(
                    cp.prev_checkpoint_seq if cp.prev_checkpoint_seq > previous else cp.seq,
                    "checkpoint_missing",
                    f"checkpoint {cp.seq} follows {cp.prev_checkpoint_seq}, found {previous}",
                )
            )
        if hashes.get(cp.seq) != cp.entry_hash:
            report.problems.append(
                AuditProblem(cp.seq, "checkpoint_mismatch", "signed hash differs from the entry")
            )
        if keys is not None:
            _check_signature(cp, keys, report)
        previous = cp.seq
    report.last_signed_seq = previous


def _check_signature(
    cp: AuditCheckpointRow, keys: Mapping[str, Ed25519PublicKey], report: AuditReport
) -> None:
    key = keys.get(cp.key_id)
    if key is None:
        report.problems.append(
            AuditProblem(cp.seq, "unknown_key", f"signed by unknown key {cp.key_id}")
        )
        return
    message = checkpoint_message(
        kiosk_id=cp.kiosk_id,
        seq=cp.seq,
        entry_hash=cp.entry_hash,
        prev_checkpoint_seq=cp.prev_checkpoint_seq,
        time=cp.time,
    )
    try:
        key.verify(cp.signature, message)
    except InvalidSignature:
        report.problems.append(
            AuditProblem(cp.seq, "bad_signature", "checkpoint signature is invalid")
        )
