"""``kiosk passport verify DIR``: Passive Authentication of chip files dumped earlier.

Trust comes from ``--trust`` files or directories (master lists, certificates, CRLs, LDIF)
and the local trust store (unless ``--no-store``). Exit 0 when the document is authentic and
revocation was checked against current CRLs, 1 when it is not (revocation not performed or
stale included), 2 when the input cannot be read (no or garbage EF.SOD, no such directory).
With ``--json`` the verdict lists under ``missing`` the data groups the SOD names that are not
among the files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from kiosk.config import load_config
from kiosk.icao.auth.anchors import TrustAnchors
from kiosk.icao.auth.document import verify_document
from kiosk.icao.auth.dump_names import lds_name
from kiosk.icao.auth.verdict import CHECKS
from kiosk.storage.database import open_database
from kiosk.trust.anchor_files import anchors_from_files
from kiosk.trust.pinning import pinned_anchors
from kiosk.trust.store import TrustStore
from models.records import CheckStatus

MAX_FILE_BYTES = 8 * 1024 * 1024
UNREADABLE = ("sod_missing", "malformed_sod")


def register(sub: Any, name: str, help_text: str) -> None:
    parser = sub.add_parser(name, help=help_text)
    actions = parser.add_subparsers(dest="action", required=True)
    verify = actions.add_parser("verify", help="verify a directory of chip files")
    verify.add_argument("directory", type=Path)
    verify.add_argument(
        "--trust",
        type=Path,
        action="append",
        default=[],
        help="master list, certificate, CRL or LDIF file, or a directory",
    )
    verify.add_argument("--no-store", action="store_true", help="do not use the trust store")
    verify.add_argument("--mrz", help='the printed MRZ, lines separated by newlines or "\\n"')
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=_verify)


def _warn(message: str) -> None:
    print(f"kiosk: {message}", file=sys.stderr)


def read_dump(directory: Path) -> dict[str, bytes] | None:
    if not directory.is_dir():
        return None
    files: dict[str, bytes] = {}
    for path in sorted(directory.iterdir()):
        name = lds_name(path.name)
        if name is None or not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            continue
        files[name] = path.read_bytes()
    return files


def _anchors(args: argparse.Namespace) -> TrustAnchors:
    config = load_config(args.config)
    pinned = pinned_anchors(config.trust_pinning)
    anchors = anchors_from_files(list(args.trust), _warn, pinned)
    if not args.no_store:
        with open_database(config) as database:
            anchors = anchors.merged(TrustStore(database, pinned).anchors())
    return anchors


def _verify(args: argparse.Namespace) -> int:
    files = read_dump(args.directory)
    if files is None:
        _warn(f"{args.directory}: not a directory")
        return 2
    if "EF_SOD" not in files:
        _warn("no EF.SOD among the files")
        return 2
    printed = args.mrz.replace("\\n", "\n") if args.mrz else None
    verdict, _ = verify_document(files, _anchors(args), printed_mrz=printed)
    readable = verdict.checks["document_readable"]
    if readable.status is CheckStatus.FAILED and readable.reason in UNREADABLE:
        _warn(f"EF.SOD unreadable ({readable.reason})")
        if args.json:
            print(json.dumps(verdict.to_json(), indent=2))
        return 2
    if args.json:
        print(json.dumps(verdict.to_json(), indent=2))
    else:
        print(f"authentic: {'yes' if verdict.authentic else 'NO'}")
        for name in CHECKS:
            check = verdict.checks[name]
            print(f"  {name:22} {check.status.value:14} {check.reason or ''}")
        for dg, status in verdict.data_groups.items():
            print(f"    {dg:6} {status}")
        if verdict.missing:
            print(f"  missing: {', '.join(verdict.missing)}")
    revoked_checked = verdict.status("revocation") is CheckStatus.PASSED
    return 0 if verdict.authentic and revoked_checked else 1
