"""Appending to the audit log, and signing a checkpoint every N entries.

Appends happen inside the caller's database transaction, so an audited fact and its entry
commit together or not at all. Two writers cannot fork the chain: ``seq`` is the primary key,
SQLite writers hold the write lock (``Database.write``), and on PostgreSQL a transaction-scoped
advisory lock serialises appenders. Each checkpoint is also put in the outbox (kind
``audit_checkpoint``) so the server holds an anchor the kiosk cannot rewrite.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from kiosk.audit.entries import (
    GENESIS_HASH,
    AuditEntry,
    canonical_json,
    check_details,
    check_subjects,
    check_token,
    entry_hash,
    format_time,
)
from kiosk.audit.signing import key_id, public_key_pem
from kiosk.storage import outbox
from models.base import utc_now
from models.tables import AuditCheckpointRow, AuditEntryRow

log = logging.getLogger(__name__)

_PG_ADVISORY_LOCK = 0x6B696F736B  # "kiosk"


def checkpoint_message(
    *, kiosk_id: str, seq: int, entry_hash: str, prev_checkpoint_seq: int, time: datetime
) -> bytes:
    """The bytes a checkpoint signature covers."""
    return canonical_json(
        {
            "kiosk_id": kiosk_id,
            "seq": seq,
            "entry_hash": entry_hash,
            "prev_checkpoint_seq": prev_checkpoint_seq,
            "time": format_time(time),
        }
    )


class AuditLog:
    """The writer of the audit log of one kiosk."""

    def __init__(
        self,
        signing_key: Ed25519PrivateKey,
        *,
        kiosk_id: str,
        checkpoint_every: int = 100,
        clock: Callable[[], datetime] = utc_now,
        send_checkpoints: bool = True,
    ) -> None:
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be at least 1")
        self._key = signing_key
        self.public_key = signing_key.public_key()
        self.key_id = key_id(self.public_key)
        self.kiosk_id = kiosk_id
        self.checkpoint_every = checkpoint_every
        self._clock = clock
        self._send_checkpoints = send_checkpoints

    def append(
        self,
        session: Session,
        *,
        actor: str,
        action: str,
        subject_ids: Sequence[str] = (),
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Add one entry (and a checkpoint when due) to ``session``'s transaction."""
        check_token("actor", actor)
        check_token("action", action)
        subjects = check_subjects(subject_ids)
        plain = check_details(details or {})
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_ADVISORY_LOCK})
        last = session.execute(
            select(AuditEntryRow.seq, AuditEntryRow.hash)
            .order_by(AuditEntryRow.seq.desc())
            .limit(1)
        ).first()
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        moment = self._clock()
        digest = entry_hash(
            seq=seq,
            time=moment,
            actor=actor,
            action=action,
            subject_ids=subjects,
            details=plain,
            prev_hash=prev_hash,
        )
        session.add(
            AuditEntryRow(
                seq=seq,
                time=moment,
                actor=actor,
                action=action,
                subject_ids=list(subjects),
                details=plain,
                prev_hash=prev_hash,
                hash=digest,
            )
        )
        last_checkpoint = session.scalar(select(func.max(AuditCheckpointRow.seq))) or 0
        if seq - last_checkpoint >= self.checkpoint_every:
            self._checkpoint(session, seq, digest, last_checkpoint, moment)
        return AuditEntry(seq, moment, actor, action, subjects, plain, prev_hash, digest)

    def _checkpoint(
        self, session: Session, seq: int, digest: str, prev_seq: int, moment: datetime
    ) -> None:
        message = checkpoint_message(
            kiosk_id=self.kiosk_id,
            seq=seq,
            entry_hash=digest,
            prev_checkpoint_seq=prev_seq,
            time=moment,
        )
        signature = self._key.sign(message)
        session.add(
            AuditCheckpointRow(
                seq=seq,
                entry_hash=digest,
                prev_checkpoint_seq=prev_seq,
                kiosk_id=self.kiosk_id,
                time=moment,
                key_id=self.key_id,
                signature=signature,
            )
        )
        if self._send_checkpoints:
            outbox.enqueue(
                session,
                "audit_checkpoint",
                {
                    "kiosk_id": self.kiosk_id,
                    "seq": seq,
                    "entry_hash": digest,
                    "prev_checkpoint_seq": prev_seq,
                    "time": format_time(moment),
                    "key_id": self.key_id,
                    "signature": signature.hex(),
                    "public_key_pem": public_key_pem(self.public_key),
                },
                subject_id=f"{self.kiosk_id}:{seq}",
            )
        log.info("audit checkpoint signed at seq %d", seq)
