"""Verifying the audit log: every entry's hash, the chain, the sequence, every checkpoint.

Finds an edited entry (its hash no longer matches), a deleted one (a gap in ``seq``, or a
checkpoint naming a hash that is gone), reordered ones (``seq`` is inside the hash, and
``prev_hash`` links each entry to the one before), a deleted checkpoint (each checkpoint
names the previous one; and no more than N entries may follow the last one), and a forged or
altered checkpoint (Ed25519 signature). It also cross-checks the log against what it must
cover (kiosk/audit/coverage.py): every recorded decision has its entry, and the log is not
shorter than the newest checkpoint put in the outbox; so an emptied log over recorded
decisions is not "intact". An entry whose time or JSON cannot be read is named
(``unreadable``), never a crash. Times going backwards are warnings (``clock_step_back``):
the clock was stepped, the order is still proven by ``seq`` and the chain. Limits: entries
appended after the newest checkpoint and removed together with it and with their decisions
leave no trace here; the copies of checkpoints sent to the server are the anchor for that.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Table
from sqlalchemy.orm import Session

from kiosk.audit.coverage import check_coverage
from kiosk.audit.entries import GENESIS_HASH, entry_hash
from kiosk.audit.log import checkpoint_message
from kiosk.audit.raw_rows import RawRow, raw_rows
from kiosk.audit.report import AuditProblem, AuditReport
from kiosk.audit.signing import key_id
from models.tables import AuditCheckpointRow, AuditEntryRow

CLOCK_STEP_TOLERANCE_S = 1.0
DECIDED_ACTION = "transaction.decided"


def verify(
    session: Session,
    public_keys: Iterable[Ed25519PublicKey] | None,
    *,
    checkpoint_every: int | None = None,
    clock_step_tolerance_s: float = CLOCK_STEP_TOLERANCE_S,
) -> AuditReport:
    """Check the whole log, and that it covers every decision this kiosk recorded.
    ``public_keys`` None skips the signatures (chain checks only); ``checkpoint_every`` None
    skips the "checkpoint overdue" rule."""
    report = AuditReport()
    checkpoints = list(
        raw_rows(session, AuditCheckpointRow.__table__, ("time",), "seq")  # type: ignore[arg-type]
    )
    wanted = {int(cp.values["seq"]) for cp in checkpoints}
    entries = _EntryCheck(report, wanted, clock_step_tolerance_s)
    for row in raw_rows(session, _ENTRIES, ("time", "subject_ids", "details"), "seq"):
        entries.check(row)
    report.last_seq = entries.expected - 1
    keys = None if public_keys is None else {key_id(k): k for k in public_keys}
    _check_checkpoints(checkpoints, entries.kept, keys, report)
    if (
        checkpoint_every is not None
        and report.last_seq - report.last_signed_seq >= checkpoint_every
    ):
        due = report.last_signed_seq + checkpoint_every
        report.problems.append(
            AuditProblem(due, "checkpoint_missing", f"no checkpoint although one was due at {due}")
        )
    check_coverage(session, report, entries.decided)
    report.problems.sort(key=lambda p: p.seq)
    return report


_ENTRIES: Table = AuditEntryRow.__table__  # type: ignore[assignment]


class _EntryCheck:
    """Walks the entries in ``seq`` order: hashes, chain, sequence, times."""

    def __init__(self, report: AuditReport, wanted: set[int], tolerance_s: float) -> None:
        self.report = report
        self.wanted = wanted
        self.tolerance = timedelta(seconds=tolerance_s)
        self.expected = 1
        self.prev_hash = GENESIS_HASH
        self.prev_time: datetime | None = None
        self.kept: dict[int, str] = {}
        self.decided: set[str] = set()

    def check(self, row: RawRow) -> None:
        report, values = self.report, row.values
        seq, stored_hash = int(values["seq"]), str(values["hash"])
        report.entries += 1
        if seq > self.expected:
            report.problems.append(
                AuditProblem(
                    self.expected, "missing", f"entries {self.expected}..{seq - 1} are missing"
                )
            )
        elif seq < self.expected:
            report.problems.append(AuditProblem(seq, "bad_seq", "sequence number below 1"))
        computed = None if row.errors else _hash_of(values)
        if row.errors or computed is None:
            message = "; ".join(row.errors) or "details or subjects have the wrong type"
            report.problems.append(AuditProblem(seq, "unreadable", message))
        elif computed != stored_hash:
            report.problems.append(AuditProblem(seq, "altered", "entry does not match its hash"))
        elif values["prev_hash"] != self.prev_hash and seq == self.expected:
            report.problems.append(
                AuditProblem(seq, "chain_broken", "entry does not follow the previous one")
            )
        self._check_time(seq, values.get("time"))
        if values.get("action") == DECIDED_ACTION and isinstance(values.get("subject_ids"), list):
            self.decided.update(str(s) for s in values["subject_ids"])
        if seq in self.wanted:
            self.kept[seq] = stored_hash
        self.prev_hash, self.expected = stored_hash, seq + 1

    def _check_time(self, seq: int, moment: object) -> None:
        if not isinstance(moment, datetime):
            return
        if self.prev_time is not None and moment < self.prev_time - self.tolerance:
            step = (self.prev_time - moment).total_seconds()
            self.report.warnings.append(
                AuditProblem(
                    seq,
                    "clock_step_back",
                    f"time goes back {step:.0f} s from the previous entry (the clock was set "
                    "back); the order of entries is kept by seq and the chain",
                )
            )
        self.prev_time = moment


def _hash_of(values: Mapping[str, Any]) -> str | None:
    details, subjects = values["details"], values["subject_ids"]
    if not isinstance(details, dict) or not isinstance(subjects, list):
        return None
    return entry_hash(
        seq=int(values["seq"]),
        time=values["time"],
        actor=values["actor"],
        action=values["action"],
        subject_ids=subjects,
        details=details,
        prev_hash=values["prev_hash"],
    )


def _check_checkpoints(
    checkpoints: Iterable[RawRow],
    hashes: Mapping[int, str],
    keys: Mapping[str, Ed25519PublicKey] | None,
    report: AuditReport,
) -> None:
    previous = 0
    for raw in checkpoints:
        cp = raw.values
        seq, prev_seq = int(cp["seq"]), int(cp["prev_checkpoint_seq"])
        report.checkpoints += 1
        if prev_seq != previous:
            report.problems.append(
                AuditProblem(
                    prev_seq if prev_seq > previous else seq,
                    "checkpoint_missing",
                    f"checkpoint {seq} follows {prev_seq}, found {previous}",
                )
            )
        if hashes.get(seq) != cp["entry_hash"]:
            report.problems.append(
                AuditProblem(seq, "checkpoint_mismatch", "signed hash differs from the entry")
            )
        if raw.errors:
            report.problems.append(AuditProblem(seq, "unreadable", "checkpoint " + raw.errors[0]))
        elif keys is not None:
            _check_signature(cp, keys, report)
        previous = seq
    report.last_signed_seq = previous


def _check_signature(
    cp: Mapping[str, Any], keys: Mapping[str, Ed25519PublicKey], report: AuditReport
) -> None:
    seq = int(cp["seq"])
    key = keys.get(cp["key_id"])
    if key is None:
        report.problems.append(
            AuditProblem(seq, "unknown_key", f"signed by unknown key {cp['key_id']}")
        )
        return
    message = checkpoint_message(
        kiosk_id=cp["kiosk_id"],
        seq=seq,
        entry_hash=cp["entry_hash"],
        prev_checkpoint_seq=int(cp["prev_checkpoint_seq"]),
        time=cp["time"],
    )
    try:
        key.verify(bytes(cp["signature"]), message)
    except InvalidSignature:
        report.problems.append(
            AuditProblem(seq, "bad_signature", "checkpoint signature is invalid")
        )


__all__ = ["AuditProblem", "AuditReport", "verify"]
