"""``kiosk server``: run the central server, enrol devices, manage users, purge personal data,
show the change-signing public key the kiosks pin.

The server reads the ``[server]`` table of ``--config`` and ``KIOSK_SERVER_...`` variables."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

ROLES = ("officer", "supervisor", "technician", "administrator", "analyst", "gateway")
UVICORN_LEVELS = ("critical", "error", "warning", "info", "debug")


def register(sub: Any, name: str, help_text: str) -> None:
    parser = sub.add_parser(name, help=help_text)
    parser.add_argument("--data-dir", type=Path, help="server data directory (CA, database)")
    parser.add_argument("--db", help="SQLAlchemy database URL (default SQLite in the data dir)")
    parser.set_defaults(handler=_run)
    actions = parser.add_subparsers(dest="action")
    run = actions.add_parser("run", help="serve the API (default)")
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    run.add_argument("--no-tls", action="store_true", help="plain HTTP (behind a TLS proxy)")
    run.set_defaults(handler=_run)
    enrol = actions.add_parser("enrol-device", help="issue a kiosk's key and certificate")
    enrol.add_argument("device", metavar="NAME")
    enrol.add_argument("--out", type=Path, required=True, help="directory for the credentials")
    enrol.add_argument("--server-url", help="URL written into the config snippet")
    enrol.add_argument("--site", help="the site (airport, port) the kiosk stands at")
    enrol.add_argument(
        "--audit-public-key",
        type=Path,
        required=True,
        help="the kiosk's audit checkpoint public key (PEM, or the kiosk's key file): "
        "required, the server never trusts a first checkpoint on its word",
    )
    enrol.set_defaults(handler=_enrol)
    revoke = actions.add_parser("revoke-device", help="refuse a device from now on")
    revoke.add_argument("device", metavar="NAME")
    revoke.set_defaults(handler=_revoke)
    user = actions.add_parser("add-user", help="add a person (password from stdin or prompt)")
    user.add_argument("user", metavar="NAME")
    user.add_argument("--role", choices=ROLES, required=True)
    user.add_argument("--site", help="the site whose lanes and referrals the person sees")
    user.set_defaults(handler=_add_user)
    api = actions.add_parser("api", help="advance passenger information and PNR messages")
    api_actions = api.add_subparsers(dest="api_action", required=True)
    api_import = api_actions.add_parser("import", help="ingest PAXLST/PNRGOV files and vet")
    api_import.add_argument("files", nargs="+", type=Path, metavar="FILE")
    api_import.add_argument("--json", action="store_true", help="last line: one JSON object")
    api_import.set_defaults(handler=_api_import)
    for action, help_text in (
        ("disable-user", "refuse a person's logins and end its tokens"),
        ("enable-user", "let a disabled person log in again"),
        ("reset-password", "a new password (stdin or prompt); older tokens stop working"),
        ("remove-user", "delete an account (never one of the last two administrators)"),
    ):
        managed = actions.add_parser(action, help=help_text)
        managed.add_argument("user", metavar="NAME")
        managed.set_defaults(handler=_manage_user, account_action=action)
    key = actions.add_parser("signing-key", help="print the change-signing public key (PEM)")
    key.set_defaults(handler=_signing_key, key_file="change_signing_key_file")
    list_key = actions.add_parser(
        "list-signing-key", help="print the list-signing public key (PEM) kiosks pin"
    )
    list_key.set_defaults(handler=_signing_key, key_file="list_signing_key_file")
    sign_lists = actions.add_parser(
        "sign-lists",
        help="sign stored lost/stolen, watchlist and manifest versions (upgrade, key rotation)",
    )
    sign_lists.add_argument(
        "--unsigned", action="store_true", help="also sign versions that carry no signature"
    )
    sign_lists.add_argument(
        "--previous-key",
        type=Path,
        metavar="PEM",
        help="re-sign the versions whose signature verifies with this old public key",
    )
    sign_lists.set_defaults(handler=_sign_lists)
    purge = actions.add_parser("purge", help="purge personal data older than retention_hours")
    purge.set_defaults(handler=_purge)


def _config(args: argparse.Namespace, **extra: Any) -> Any:
    from server.config import load_server_config

    return load_server_config(
        args.config,
        data_dir=getattr(args, "data_dir", None),
        database_url=getattr(args, "db", None),
        **extra,
    )


def _run(args: argparse.Namespace) -> int:
    from server.runner import run_server

    tls = False if getattr(args, "no_tls", False) else None
    config = _config(
        args, host=getattr(args, "host", None), port=getattr(args, "port", None), tls=tls
    )
    # the level of `kiosk --log-level` (as main resolved it) applies to uvicorn's logs too
    level = (getattr(args, "log_level", None) or os.environ.get("KIOSK_LOG_LEVEL", "")).lower()
    run_server(config, log_level=level if level in UVICORN_LEVELS else "info")
    return 0


def _enrol(args: argparse.Namespace) -> int:
    from server.accounts import enrol_device, write_device_credentials
    from server.app import build_state

    config = _config(args)
    from kiosk.audit.signing import load_public_key, public_key_pem
    from models.errors import KioskError

    try:
        audit_key = public_key_pem(load_public_key(args.audit_public_key))
    except KioskError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2
    state = build_state(config)
    try:
        enrolled = enrol_device(
            state.database,
            state.ca,
            args.device,
            days=config.device_cert_days,
            audit_public_key_pem=audit_key,
            site=args.site,
        )
    finally:
        state.close()
    url = args.server_url or f"https://{config.server_names[0]}:{config.port}"
    snippet = write_device_credentials(enrolled, args.out, url)
    print(f"device {args.device} enrolled; credentials in {args.out}; config: {snippet}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from server.accounts import revoke_device
    from server.app import build_state

    state = build_state(_config(args))
    try:
        found = revoke_device(state.database, args.device, actor="cli")
    finally:
        state.close()
    if not found:
        print(f"kiosk: no device {args.device}", file=sys.stderr)
        return 1
    print(f"device {args.device} revoked")
    return 0


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("kiosk: the passwords differ")
    return first


def _add_user(args: argparse.Namespace) -> int:
    from server.accounts import add_user
    from server.app import build_state
    from server.security.tokens import Role

    password = _read_password()
    state = build_state(_config(args))
    try:
        add_user(state.database, args.user, Role(args.role), password, site=args.site)
    finally:
        state.close()
    print(f"user {args.user} added ({args.role})")
    return 0


def _api_import(args: argparse.Namespace) -> int:
    from server.vetting.cli import import_files

    return import_files(_config(args), args.files, as_json=args.json, actor="cli")


def _manage_user(args: argparse.Namespace) -> int:
    from server import accounts
    from server.app import build_state

    password = _read_password() if args.account_action == "reset-password" else ""
    state = build_state(_config(args))
    action: str = args.account_action
    try:
        if action == "reset-password":
            accounts.reset_password(state.database, args.user, password, actor="cli")
        elif action == "disable-user":
            accounts.disable_user(state.database, args.user, actor="cli")
        elif action == "enable-user":
            accounts.enable_user(state.database, args.user, actor="cli")
        else:
            accounts.remove_user(state.database, args.user, actor="cli")
    except accounts.AccountError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 1
    finally:
        state.close()
    print(f"{args.account_action}: {args.user} done")
    return 0


def _signing_key(args: argparse.Namespace) -> int:
    from server.security.change_signing import ChangeSigner

    signer = ChangeSigner.open(getattr(_config(args), args.key_file))
    print(signer.public_key_pem, end="")
    return 0


def _sign_lists(args: argparse.Namespace) -> int:
    from kiosk.audit.signing import load_public_key
    from server.app import build_state
    from server.list_resign import sign_stored_versions

    previous = load_public_key(args.previous_key) if args.previous_key else None
    state = build_state(_config(args))
    try:
        report = sign_stored_versions(
            state.database, state.list_signer, unsigned=args.unsigned, previous=previous
        )
    finally:
        state.close()
    print(
        f"signed {report.signed} unsigned, re-signed {report.resigned}, "
        f"kept {report.current} current; left {len(report.left)}"
        + "".join(f"\n  left {item}" for item in report.left[:20])
    )
    return 0 if not report.left else 1


def _purge(args: argparse.Namespace) -> int:
    from server.app import build_state
    from server.retention import purge

    config = _config(args)
    state = build_state(config)
    try:
        report = purge(state.database, config.retention_hours)
    finally:
        state.close()
    print(f"purged: {report.referrals} referrals, {report.documents} document summaries")
    return 0
