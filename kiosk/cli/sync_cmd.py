"""``kiosk sync``: store-and-forward sync with the central server (status, run), and the
audit public key the server needs to enrol this kiosk (``audit-key``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from kiosk.config import load_config
from kiosk.storage.database import open_database


def register(sub: Any, name: str, help_text: str) -> None:
    parser = sub.add_parser(name, help=help_text)
    actions = parser.add_subparsers(dest="action", required=True)
    status = actions.add_parser(
        "status", help="backlog, last contact, list versions, refused versions and content"
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(handler=_status)
    run = actions.add_parser("run", help="relay the outbox and pull lists")
    run.add_argument("--once", action="store_true", help="one cycle, then exit")
    run.set_defaults(handler=_run)
    key = actions.add_parser(
        "audit-key", help="print this kiosk's audit public key (PEM) for its enrolment"
    )
    key.set_defaults(handler=_audit_key)


def _audit_key(args: argparse.Namespace) -> int:
    from kiosk.audit.signing import load_signing_key, public_key_pem

    config = load_config(args.config)
    print(public_key_pem(load_signing_key(config.audit_key_file).public_key()), end="")
    return 0


def _status(args: argparse.Namespace) -> int:
    from kiosk.sync.central_config import central_config_status
    from kiosk.sync.status import sync_status

    config = load_config(args.config)
    with open_database(config) as database:
        status = sync_status(database)
    status["server_url"] = config.sync.server_url
    status["central_config"] = central_config_status(config.data_dir)
    if args.json:
        print(json.dumps(status))
        return 0
    print(f"server          {config.sync.server_url or '(not configured)'}")
    print(f"backlog         {status['backlog']}")
    print(f"oldest unsent   {status['oldest_unsent_at'] or '-'}")
    print(f"last contact    {status['last_contact_at'] or 'never'}")
    print(f"last success    {status['last_success_at'] or 'never'}")
    print(f"failures        {status['consecutive_failures']}")
    for name, info in status["lists"].items():
        print(f"list {name:<10} version {info['version']} ({info['changes']} changes)")
    central = status["central_config"]
    if central["version"] is not None:
        print(f"central config  version {central['version']}: {', '.join(central['sections'])}")
    for refused in central["rejected"]:
        print(f"  refused v{refused.get('version')}: {refused.get('reason')}")
    _print_refusals(status["refusals"])
    return 0


def _print_refusals(refusals: dict[str, Any]) -> None:
    """The versions and trust content this kiosk refused, the latest first."""
    unreported = refusals["unreported"]
    waiting = f" ({unreported} not yet reported to the server)" if unreported else ""
    print(f"refused         {refusals['count']}{waiting}")
    for item in refusals["latest"]:
        version = f"v{item['version']}" if item["version"] is not None else "v?"
        pending = "" if item["reported"] else "  (not yet reported)"
        print(f"  {item['refused_at']}  {item['list_name']} {version}: {item['reason']}{pending}")


def _run(args: argparse.Namespace) -> int:
    import threading

    from kiosk.storage.crypto_store import BlobCipher, load_storage_key
    from kiosk.sync.client import ServerClient
    from kiosk.sync.service import SyncService

    config = load_config(args.config)
    cipher = BlobCipher(load_storage_key(config))
    with open_database(config) as database, ServerClient(config.sync) as client:
        service = SyncService(config, database, client, cipher=cipher)
        if args.once:
            report = service.run_once()
            print(
                f"sent {report.relay.sent} ({report.relay.duplicates} duplicates), "
                f"failed {report.relay.failed}, resolutions {report.resolutions}, "
                f"list changes {report.list_changes}"
                + (f", error: {report.error}" if report.error else "")
            )
            return 0 if report.ok else 1
        service.start()
        try:
            threading.Event().wait()
        finally:
            service.close()
    return 0
