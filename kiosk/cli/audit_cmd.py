"""``kiosk audit verify [--json]``: check the audit log; exit 0 intact, 1 tampered.

Tampered includes a log that no longer covers the recorded decisions (an emptied log) and an
entry that cannot even be read (named by its seq); times going backwards are warnings."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.exc import SQLAlchemyError

from kiosk.audit import load_public_key, load_signing_key, verify
from kiosk.config import load_config
from kiosk.storage.database import connect_database
from kiosk.storage.failures import classify


def register(sub: Any, name: str, help_text: str) -> None:
    parser = sub.add_parser(name, help=help_text)
    actions = parser.add_subparsers(dest="action", required=True)
    check = actions.add_parser("verify", help="verify every entry and signed checkpoint")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.add_argument(
        "--public-key",
        type=Path,
        action="append",
        default=None,
        help="verify checkpoints with this Ed25519 public key (PEM; repeatable); "
        "default: the kiosk's own audit key",
    )
    check.set_defaults(handler=_verify)


def _verify(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    keys: list[Ed25519PublicKey]
    if args.public_key:
        keys = [load_public_key(path) for path in args.public_key]
    else:
        keys = [load_signing_key(config.audit_key_file, create=False).public_key()]
    try:
        with connect_database(config) as database, database.read() as session:
            report = verify(session, keys, checkpoint_every=config.storage.audit_checkpoint_every)
    except SQLAlchemyError as exc:
        raise classify(exc, "the audit log cannot be read") from exc
    if args.json:
        print(json.dumps(report.as_dict()))
    elif report.ok:
        print(
            f"audit log intact: {report.entries} entries, {report.checkpoints} signed "
            f"checkpoints (last signed seq {report.last_signed_seq})"
        )
    else:
        print(f"audit log TAMPERED: first bad seq {report.first_bad_seq}")
        for problem in report.problems[:20]:
            print(f"  seq {problem.seq}: {problem.kind}: {problem.message}")
    if not args.json:
        for warning in report.warnings[:20]:
            print(f"  warning: seq {warning.seq}: {warning.kind}: {warning.message}")
    return 0 if report.ok else 1
