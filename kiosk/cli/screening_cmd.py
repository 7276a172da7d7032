"""``kiosk screening``: import the lists into the kiosk database, and query them.

``kiosk screening import {lost-stolen,watchlist,manifest} FILE [--json] [--allow-shrink]``
replaces the list with the file's good rows in one database transaction, shows progress on
stderr and prints a summary (rejected rows by number and reason). A file with no valid row, or
one that would shrink the list by more than ``list_import.max_shrink_share`` (without
``--allow-shrink``), is refused (exit 1) and an unreadable one (exit 2): the live list is kept.
``kiosk screening check ...`` screens one made-up traveller and prints the results as JSON:
a tool for technicians, it prints what the lists hold about that person.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Any

from kiosk.config import load_config
from kiosk.screening.import_guard import ImportRefusedError, ReplaceGuard
from kiosk.screening.importers import ImportSummary, ListKind, read_list
from kiosk.screening.matching import PartialDate
from kiosk.screening.screening import Screener, ScreeningLists, Traveller, weights_of
from kiosk.screening.store import ScreeningStore
from kiosk.screening.watchlist import WatchlistHit
from kiosk.storage.database import open_database

_KINDS = {
    "lost-stolen": ListKind.LOST_STOLEN,
    "watchlist": ListKind.WATCHLIST,
    "manifest": ListKind.MANIFEST,
}


def register(sub: Any, name: str, help_text: str) -> None:
    parser = sub.add_parser(name, help=help_text)
    actions = parser.add_subparsers(dest="action", required=True)
    imp = actions.add_parser("import", help="replace a list with the rows of a CSV or JSON file")
    imp.add_argument("kind", choices=sorted(_KINDS))
    imp.add_argument("file", type=Path)
    imp.add_argument("--json", action="store_true", help="the file is JSON (default: by suffix)")
    imp.add_argument("--list-name", default="watchlist", help="watchlist rows without list_name")
    imp.add_argument(
        "--allow-shrink",
        action="store_true",
        help="allow the import to remove more of the live list than list_import.max_shrink_share",
    )
    imp.set_defaults(handler=_import)
    check = actions.add_parser("check", help="screen one traveller and print the results")
    check.add_argument("--surname", required=True)
    check.add_argument("--given-names", default="")
    check.add_argument("--dob", type=dt.date.fromisoformat, help="YYYY-MM-DD")
    check.add_argument("--nationality", default="")
    check.add_argument("--document-number", default="")
    check.add_argument("--issuer", default="")
    check.add_argument("--doc-type", default="P")
    check.set_defaults(handler=_check)


def _import(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    kind = _KINDS[args.kind]
    summary = ImportSummary(kind)

    def progress(rows: int) -> None:
        print(f"\r{kind.value}: {rows} rows read", end="", file=sys.stderr, flush=True)

    json_format = True if args.json else None
    guard = ReplaceGuard(config.list_import.max_shrink_share, allow_shrink=args.allow_shrink)
    with open_database(config) as database:
        store = ScreeningStore(database)
        batches = read_list(
            kind,
            args.file,
            summary,
            json_format=json_format,
            progress=progress,
            default_list=args.list_name,
        )
        try:
            info = store.replace(kind, batches, guard=guard, summary=summary)
        except ImportRefusedError as exc:
            print(file=sys.stderr)
            kept = store.info(kind)
            live = {"version": kept.version, "entries": kept.entries} if kept else None
            print(json.dumps(summary.as_dict() | {"refused": str(exc), "live": live}, indent=2))
            print(f"kiosk: {exc.code}: {exc}", file=sys.stderr)
            return 1
    print(file=sys.stderr)
    report = summary.as_dict() | {"version": info.version, "entries": info.entries}
    print(json.dumps(report, indent=2))
    return 0


def _check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    with open_database(config) as database:
        store = ScreeningStore(database)
        lists = ScreeningLists(
            lost_stolen=store.load_lost_stolen(),
            lost_stolen_info=store.info(ListKind.LOST_STOLEN),
            watchlist=store.load_watchlist(weights_of(config.screening)),
            watchlist_info=store.info(ListKind.WATCHLIST),
            manifest=store.load_manifest(),
            manifest_info=store.info(ListKind.MANIFEST),
        )
    traveller = Traveller(
        surname=args.surname,
        given_names=args.given_names,
        birth_date=args.dob,
        nationality=args.nationality,
        document_number=args.document_number,
        issuer=args.issuer,
        doc_type=args.doc_type,
    )
    result = Screener(config.screening, lists).screen(traveller)
    print(json.dumps(_plain(result), indent=2))
    return 0


def _plain(value: Any) -> Any:
    if isinstance(value, PartialDate):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, WatchlistHit):
            out["matched_fields"] = list(value.matched_fields)
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
