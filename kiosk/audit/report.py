"""What a verification of the audit log found: problems (tampering) and warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    decisions: int = 0
    problems: list[AuditProblem] = field(default_factory=list)
    warnings: list[AuditProblem] = field(default_factory=list)  # not tampering: clock steps

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
            "decisions": self.decisions,
            "problems": [
                {"seq": p.seq, "kind": p.kind, "message": p.message} for p in self.problems
            ],
            "warnings": [
                {"seq": p.seq, "kind": p.kind, "message": p.message} for p in self.warnings
            ],
        }
