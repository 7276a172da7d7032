"""The kiosk's append-only audit log: hash-chained entries and signed checkpoints.

Use :func:`open_audit_log` once at start-up (composition root) and pass the
:class:`AuditLog` to whoever records audited facts; :func:`verify` checks a database.
"""

from __future__ import annotations

from kiosk.audit.entries import AuditEntry, AuditEntryError
from kiosk.audit.log import AuditLog
from kiosk.audit.signing import load_public_key, load_signing_key
from kiosk.audit.verify import AuditProblem, AuditReport, verify
from kiosk.config import KioskConfig


def open_audit_log(config: KioskConfig) -> AuditLog:
    """The audit writer of this kiosk; its signing key file must exist (``kiosk db init-keys``)."""
    return AuditLog(
        load_signing_key(config.audit_key_file, create=False),
        kiosk_id=config.kiosk_id,
        checkpoint_every=config.storage.audit_checkpoint_every,
    )


__all__ = [
    "AuditEntry",
    "AuditEntryError",
    "AuditLog",
    "AuditProblem",
    "AuditReport",
    "load_public_key",
    "load_signing_key",
    "open_audit_log",
    "verify",
]
