"""Who may create the kiosk's keys, and when a missing key stops the kiosk.

The storage key decrypts every stored face image and template; the audit signing key signs
the checkpoints the server holds. A key silently regenerated at start-up would leave the old
blobs undecryptable and the old checkpoints unverifiable, so:

* :func:`init_keys` (``kiosk db init-keys``, run by the package) is the one place that
  creates keys, and only those that are absent; an existing key is never replaced.
* :func:`require_keys` (the kiosk's start) refuses to start when a key file is missing and the
  kiosk holds data (its database was created before, or holds transactions, audit entries or
  blobs), naming the file. On a data directory that never held anything (a first start
  without the package, the demo) it runs :func:`init_keys` itself and says so in the log.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import func, select

from kiosk.audit.signing import load_signing_key, write_new_signing_key
from kiosk.config import KioskConfig
from kiosk.storage.crypto_store import decode_key, generate_key
from kiosk.storage.database import Database
from kiosk.storage.errors import StorageKeyError
from kiosk.storage.keyfiles import create_private_file, read_private_file
from models.tables import AuditEntryRow, BiometricBlobRow, TransactionRow

log = logging.getLogger(__name__)


def key_files(config: KioskConfig) -> list[Path]:
    """The key files this configuration needs (none for a storage key given as a value)."""
    files = [] if config.storage.key is not None else [config.storage_key_file]
    return [*files, config.audit_key_file]


def init_keys(config: KioskConfig) -> dict[Path, bool]:
    """Create the absent key files (0600); check the existing ones. ``{path: created}``."""
    created: dict[Path, bool] = {}
    if config.storage.key is None:
        path = config.storage_key_file
        created[path] = create_private_file(path, generate_key())
        decode_key(read_private_file(path))  # an existing key must still be a valid one
    audit_path = config.audit_key_file
    created[audit_path] = write_new_signing_key(audit_path)
    load_signing_key(audit_path)
    return created


def data_evidence(database: Database, *, database_existed: bool) -> str | None:
    """Why this kiosk is known to hold data, or None for a data directory never used."""
    if database_existed:
        return "its database was created before"
    with database.read() as session:
        for table, what in (
            (TransactionRow, "transactions"),
            (AuditEntryRow, "audit entries"),
            (BiometricBlobRow, "encrypted face data"),
        ):
            if session.scalar(select(func.count()).select_from(table)):
                return f"the database holds {what}"
    return None


def require_keys(config: KioskConfig, database: Database, *, database_existed: bool) -> None:
    """Raise :class:`StorageKeyError` naming a missing key file when data exists."""
    missing = [path for path in key_files(config) if not path.exists()]
    if not missing:
        return
    evidence = data_evidence(database, database_existed=database_existed)
    if evidence is not None:
        raise StorageKeyError(
            f"key file {missing[0]} is missing and this kiosk holds data ({evidence}): restore "
            "the key from its backup. A new key could not decrypt the stored face data or "
            "continue the signed audit log; only `kiosk db init-keys` creates keys"
        )
    init_keys(config)
    log.warning("first start on an empty data directory: key files created (kiosk db init-keys)")
