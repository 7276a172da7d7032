"""``kiosk trust``: import CSCA master lists, certificates, CRLs and ICAO PKD LDIF files into
the local trust store, list what it holds and report its freshness.

    kiosk trust import FILE... [--json]     progress on stderr, then a summary
    kiosk trust list [--country C] [--json]
    kiosk trust freshness [--days N] [--json]
    kiosk trust coverage [--json]           per state of the policy: CSCAs, CRL freshness
    kiosk trust master-list build --signer-cert C --signer-key K --out FILE CERT|DIR...
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

from kiosk.config import load_config
from kiosk.storage.database import open_database
from kiosk.trust.coverage import state_coverage
from kiosk.trust.errors import TrustFileError
from kiosk.trust.files import trust_items
from kiosk.trust.importer import import_files
from kiosk.trust.master_list import parse_master_list
from kiosk.trust.master_list_build import build_master_list, load_private_key
from kiosk.trust.pinning import PinnedAnchors, pinned_anchors
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
    coverage = actions.add_parser(
        "coverage", help="per state of the policy: CSCAs, CRLs and their freshness"
    )
    coverage.add_argument("--json", action="store_true")
    coverage.set_defaults(handler=_coverage)
    ml = actions.add_parser("master-list", help="compile and sign a CSCA master list")
    ml_actions = ml.add_subparsers(dest="ml_action", required=True)
    build = ml_actions.add_parser(
        "build", help="CSCAs collected bilaterally -> an ICAO master list signed by the agency"
    )
    build.add_argument("certificates", nargs="+", type=Path, help="CSCA/link files or folders")
    build.add_argument("--signer-cert", type=Path, required=True)
    build.add_argument("--signer-key", type=Path, required=True, help="PEM or DER private key")
    build.add_argument(
        "--signer-key-password-env",
        metavar="VAR",
        help="environment variable holding the key's password",
    )
    build.add_argument("--digest", default="sha256", choices=("sha256", "sha384", "sha512"))
    build.add_argument("--out", type=Path, required=True)
    build.add_argument("--json", action="store_true")
    build.set_defaults(handler=_build_master_list)


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


def _coverage(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    with open_database(config) as database:
        states = state_coverage(TrustStore(database), list(config.policy.eligible_issuers))
    if args.json:
        print(json.dumps({"states": [s.to_json() for s in states]}, indent=2))
    else:
        print(f"{'state':6} {'status':12} {'CSCAs':>5}  CRL next update")
        for state in states:
            update = state.crl_next_update.isoformat()[:16] if state.crl_next_update else "-"
            flag = (
                "  <- refers chipped passports"
                if state.status != "ok"
                else "  <- CRL due within 48 h"
                if state.crl_due()
                else ""
            )
            print(f"{state.code:6} {state.status:12} {len(state.cscas):>5}  {update}{flag}")
    return 0


def _certificate_files(paths: list[Path]) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            for index, item in enumerate(trust_items(file.read_bytes())):
                if item.kind != "certificate":
                    raise TrustFileError(f"{file.name}: holds a {item.kind}, not a certificate")
                out.append((file.name if index == 0 else f"{file.name}#{index + 1}", item.der))
    return out


def _build_master_list(args: argparse.Namespace) -> int:
    password = None
    if args.signer_key_password_env:
        password = os.environ.get(args.signer_key_password_env, "").encode() or None
    try:
        certificates = _certificate_files(list(args.certificates))
        signer = _certificate_files([args.signer_cert])[0][1]
        key = load_private_key(args.signer_key.read_bytes(), password)
        built = build_master_list(certificates, signer, key, digest=args.digest)
        check = parse_master_list(built.der, PinnedAnchors((signer,)))
        if not check.signer_verified:
            raise TrustFileError(f"the list does not verify ({check.signer_status})")
        args.out.write_bytes(built.der)
    except (OSError, TrustFileError) as exc:
        print(f"kiosk: master list not built: {exc}", file=sys.stderr)
        return 1
    summary = {
        "out": str(args.out),
        "certificates": built.certificates,
        "countries": list(built.countries),
        "duplicates_skipped": list(built.skipped),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"master list {args.out}: {built.certificates} certificates of "
            f"{', '.join(built.countries)}; pin its signer in [trust_pinning] master_list_signers"
        )
    return 0
