"""``kiosk trust``: import CSCA master lists, certificates, CRLs and ICAO PKD LDIF files into
the local trust store, list what it holds and report its freshness.

    kiosk trust import FILE... [--json]     progress on stderr, then a summary
    kiosk trust list [--country C] [--json]
    kiosk trust freshness [--days N] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from kiosk.config import load_config
from kiosk.storage.database import open_database
from kiosk.trust.importer import import_files
from kiosk.trust.pinning import pinned_anchors
from kiosk.trust.store import TrustStore

DEFAULT_EXPIRY_DAYS = 90


def register(sub: Any, name: str, help_text: str) -> None:
    parser = sub.add_parser(name, help=help_text)
    actions = parser.add_subparsers(dest="action", required=True)
    imp = actions.add_parser("import", help="import master lists, certificates, CRLs, LDIF")
    imp.add_argument("files", nargs="+", type=Path)
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(handler=_import)
    listing = actions.add_parser("list", help="list the certificates of the trust store")
    listing.add_argument("--country", help="ISO 3166 alpha-2 country (C= of the certificate)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)
    fresh = actions.add_parser("freshness", help="CRL next updates, certificates near expiry")
    fresh.add_argument(
        "--days",
        type=int,
        default=DEFAULT_EXPIRY_DAYS,
        help=f"near expiry = within this many days (default {DEFAULT_EXPIRY_DAYS})",
    )
    fresh.add_argument("--json", action="store_true")
    fresh.set_defaults(handler=_freshness)


def _store(args: argparse.Namespace) -> Any:
    return open_database(load_config(args.config))


def _import(args: argparse.Namespace) -> int:
    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    config = load_config(args.config)
    pinned = pinned_anchors(config.trust_pinning)
    if pinned.empty:
        progress("no [trust_pinning] anchors configured: every master list will be refused")
    with open_database(config) as database:
        summary = import_files(list(args.files), TrustStore(database, pinned), progress)
    if args.json:
        print(json.dumps(summary.to_json(), indent=2))
    else:
        print(
            f"added {summary.added}, duplicates {summary.duplicates}, "
            f"rejected {len(summary.rejected)}"
        )
        for item in summary.master_lists:
            print(
                f"  master list {item['file']}: {item['certificates']} certificates, "
                f"signer {item['signer']}"
            )
        for rejected in summary.rejected:
            print(f"  rejected {rejected['file']}: {rejected['reason']}")
    return 1 if summary.rejected and not summary.added and not summary.duplicates else 0


def _list(args: argparse.Namespace) -> int:
    with _store(args) as database:
        entries = TrustStore(database).certificates(args.country)
    if args.json:
        print(json.dumps([e.to_json() for e in entries], indent=2))
        return 0
    for e in entries:
        print(f"{e.country or '--':3} {e.kind:18} {e.not_after.date()}  {e.subject}")
    print(f"{len(entries)} certificates")
    return 0


def _freshness(args: argparse.Namespace) -> int:
    with _store(args) as database:
        report = TrustStore(database).freshness(dt.datetime.now(dt.UTC), args.days)
    data = report.to_json()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"CRLs: {report.crl_count}; oldest next update: {data['oldest_crl_next_update'] or '-'}")
    for crl in report.stale_crls:
        print(f"  past next update: {crl['issuer']} ({crl['next_update']})")
    print(
        f"CSCA/link certificates expiring within {args.days} days: "
        f"{len(report.expiring_certificates)}"
    )
    for cert in report.expiring_certificates:
        print(f"  {cert['country']:3} {cert['not_after'][:10]} {cert['subject']}")
    return 0
