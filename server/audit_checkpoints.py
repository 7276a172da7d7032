"""Checking the audit checkpoints kiosks send before they are stored.

Every checkpoint must be signed (Ed25519) by the audit key registered for its kiosk: the key
given at enrolment (``kiosk server enrol-device --audit-public-key``) or, when none was given,
the key of the kiosk's first checkpoint received over mutual TLS (trust on first use, audited).
A checkpoint signed by another key, with a signature that does not verify, or resent with a
different entry hash for a sequence number already held, is refused and recorded as an
anomaly for the supervisors (``GET /v1/audit/anomalies``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from kiosk.audit.log import checkpoint_message
from kiosk.audit.signing import key_id as key_id_of
from models.base import utc_now
from models.errors import KioskError
from models.server_tables import (
    AuditAnomalyRow,
    DeviceAuditKeyRow,
    ReceivedCheckpointRow,
    ServerAuditEventRow,
)
from server.api.schemas import CheckpointIn
from server.ingest import insert_new

log = logging.getLogger(__name__)

ANOMALIES: Table = AuditAnomalyRow.__table__  # type: ignore[assignment]
KEYS: Table = DeviceAuditKeyRow.__table__  # type: ignore[assignment]

BAD_SIGNATURE = "bad_signature"
KEY_CHANGED = "key_changed"
NO_KEY = "no_key"
HISTORY_REWRITTEN = "history_rewritten"


class AuditKeyError(KioskError):
    code = "server_audit_key"
    user_message = "The audit public key is not usable."


@dataclass(frozen=True)
class Anomaly:
    seq: int
    kind: str
    detail: str
    key_id: str | None


@dataclass(frozen=True)
class RegisteredKey:
    key_id: str
    public_key: Ed25519PublicKey
    source: str


def parse_public_key(pem: str) -> tuple[str, Ed25519PublicKey]:
    """The key id and Ed25519 key of a PEM public key; :class:`AuditKeyError` otherwise."""
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError, UnsupportedAlgorithm) as exc:
        raise AuditKeyError("the audit public key is not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise AuditKeyError("the audit public key is not an Ed25519 key")
    return key_id_of(key), key


def registered_key(session: Session, device: str) -> RegisteredKey | None:
    row = session.get(DeviceAuditKeyRow, device)
    if row is None:
        return None
    _, key = parse_public_key(row.public_key_pem)
    return RegisteredKey(row.key_id, key, row.source)


def register_key(
    session: Session, device: str, pem: str, *, source: str, actor: str
) -> RegisteredKey:
    """Record ``pem`` as ``device``'s audit key unless one is held; the key now held."""
    key_id, _ = parse_public_key(pem)
    now = utc_now()
    row = {
        "device_name": device,
        "key_id": key_id,
        "public_key_pem": pem,
        "source": source,
        "registered_at": now,
    }
    if insert_new(session, KEYS, [row], ["device_name"], "device_name"):
        session.add(
            ServerAuditEventRow(
                actor=actor,
                action="device.audit_key",
                subject=device,
                details={"key_id": key_id, "source": source},
                time=now,
            )
        )
        log.info("device %s: audit key %s registered (%s)", device, key_id, source)
    held = registered_key(session, device)
    assert held is not None
    return held


def _check_one(item: CheckpointIn, key: RegisteredKey) -> Anomaly | None:
    if item.key_id != key.key_id:
        return Anomaly(
            item.seq,
            KEY_CHANGED,
            f"signed by key {item.key_id}, the device's audit key is {key.key_id}",
            item.key_id,
        )
    message = checkpoint_message(
        kiosk_id=item.kiosk_id,
        seq=item.seq,
        entry_hash=item.entry_hash,
        prev_checkpoint_seq=item.prev_checkpoint_seq,
        time=item.time,
    )
    try:
        key.public_key.verify(bytes.fromhex(item.signature), message)
    except (InvalidSignature, ValueError):
        return Anomaly(item.seq, BAD_SIGNATURE, "the signature does not verify", item.key_id)
    return None


def _rewritten(session: Session, device: str, items: Sequence[CheckpointIn]) -> list[Anomaly]:
    held = dict(
        session.execute(
            select(ReceivedCheckpointRow.seq, ReceivedCheckpointRow.entry_hash).where(
                ReceivedCheckpointRow.kiosk_id == device,
                ReceivedCheckpointRow.seq.in_({item.seq for item in items}),
            )
        ).all()
    )
    return [
        Anomaly(
            item.seq,
            HISTORY_REWRITTEN,
            "a checkpoint with this sequence number and another entry hash is held",
            item.key_id,
        )
        for item in items
        if item.seq in held and held[item.seq] != item.entry_hash
    ]


def check_checkpoints(
    session: Session, device: str, items: Sequence[CheckpointIn]
) -> list[Anomaly]:
    """The anomalies of ``items`` (empty: all may be stored). Registers the key of the
    first checkpoint when the device has none yet (trust on first use)."""
    key = registered_key(session, device)
    if key is None:
        first = items[0]
        if first.public_key_pem is None:
            return [Anomaly(first.seq, NO_KEY, "no audit key registered or sent", first.key_id)]
        try:
            key = register_key(
                session, device, first.public_key_pem, source="first_use", actor=device
            )
        except AuditKeyError as exc:
            return [Anomaly(first.seq, NO_KEY, str(exc), first.key_id)]
    found = [anomaly for item in items if (anomaly := _check_one(item, key)) is not None]
    return found or _rewritten(session, device, items)


def record_anomalies(session: Session, device: str, anomalies: Sequence[Anomaly]) -> int:
    """Keep ``anomalies`` for the supervisors (each once); how many were new."""
    now = utc_now()
    rows = [
        {
            "kiosk_id": device,
            "seq": anomaly.seq,
            "kind": anomaly.kind,
            "detail": anomaly.detail[:300],
            "key_id": anomaly.key_id,
            "detected_at": now,
        }
        for anomaly in anomalies
    ]
    new = insert_new(session, ANOMALIES, rows, ["kiosk_id", "seq", "kind"], "id")
    for anomaly in anomalies:
        log.warning(
            "device %s: audit checkpoint %d refused (%s)", device, anomaly.seq, anomaly.kind
        )
    return len(new)


def set_enrolled_key(session: Session, device: str, pem: str, *, actor: str) -> str:
    """Record ``pem`` as ``device``'s audit key, replacing any held one (an administrator's
    deliberate act at enrolment, audited); its key id."""
    key_id, _ = parse_public_key(pem)
    held = session.get(DeviceAuditKeyRow, device)
    if held is not None:
        session.delete(held)
        session.flush()
    register_key(session, device, pem, source="enrolment", actor=actor)
    return key_id
