"""``kiosk db``: bring the local database to the newest schema; create missing key files.

``kiosk db migrate`` is also the unit's start check: it refuses a database file that was
emptied or removed after this kiosk created it, and runs SQLite's integrity check (exit 2
naming ``storage_corrupt`` or ``storage_full`` and what was found). ``kiosk db purge
[--json]`` runs the retention purge now (the running kiosk also runs it on a schedule).

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
    purge = actions.add_parser(
        "purge", help="purge face data and referral names older than storage.retention_hours"
    )
    purge.add_argument("--json", action="store_true", help="print one JSON object")
    purge.set_defaults(handler=_purge)


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
    from kiosk.storage.key_setup import init_keys

    config = load_config(args.config)
    for path, created in init_keys(config).items():
        what = "storage key" if path == config.storage_key_file else "audit signing key"
        print(f"{what} {path}: {'created' if created else 'kept'}")
    return 0


def _purge(args: argparse.Namespace) -> int:
    import json

    from kiosk.audit import open_audit_log
    from kiosk.storage.database import open_database
    from kiosk.storage.purge import run_purge

    config = load_config(args.config)
    retention = config.storage.retention_hours
    with open_database(config) as database:
        result = run_purge(database, retention_hours=retention, audit=open_audit_log(config))
    counts = {"blobs": result.blobs, "referrals": result.referrals, "messages": result.messages}
    if args.json:
        print(json.dumps(counts | {"retention_hours": retention}))
    else:
        print(
            f"purged (older than {retention:g} h): {result.blobs} face images and templates, "
            f"names on {result.referrals} referrals, {result.messages} sent messages"
        )
    return 0
