"""``kiosk db``: bring the local database to the newest schema; create missing key files.

``kiosk db migrate`` is also the unit's start check: it refuses a database file that was
emptied or removed after this kiosk created it, and runs SQLite's integrity check (exit 2
naming ``storage_corrupt`` or ``storage_full`` and what was found).

The Debian package's postinst runs ``kiosk db init-keys`` then ``kiosk db migrate`` as the
kiosk's system user, so an upgrade migrates the data in place and never replaces a key.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from kiosk.config import load_config

log = logging.getLogger(__name__)


def register(sub: Any, name: str, help_text: str) -> None:
    parser = sub.add_parser(name, help=help_text)
    actions = parser.add_subparsers(dest="action", required=True)
    migrate = actions.add_parser("migrate", help="migrate the configured database to the head")
    migrate.set_defaults(handler=_migrate)
    keys = actions.add_parser(
        "init-keys", help="create the storage and audit signing keys if they are absent (0600)"
    )
    keys.set_defaults(handler=_init_keys)


def _migrate(args: argparse.Namespace) -> int:
    from kiosk.storage.database import open_database
    from kiosk.storage.file_checks import integrity_check
    from models import migrations

    config = load_config(args.config)
    with open_database(config) as database:
        integrity_check(database)
    print(f"database migrated to {migrations.head_revision()}, integrity check passed")
    return 0


def _init_keys(args: argparse.Namespace) -> int:
    from kiosk.audit.signing import load_signing_key
    from kiosk.storage.crypto_store import decode_key, generate_key
    from kiosk.storage.keyfiles import create_private_file, read_private_file

    config = load_config(args.config)
    storage_key = config.storage_key_file
    if config.storage.key is None:
        created = create_private_file(storage_key, generate_key())
        decode_key(read_private_file(storage_key))  # an existing key must still be a valid one
        print(f"storage key {storage_key}: {'created' if created else 'kept'}")
    audit_key = config.audit_key_file
    existed = audit_key.exists()
    load_signing_key(audit_key, create=True)
    print(f"audit signing key {audit_key}: {'kept' if existed else 'created'}")
    return 0
