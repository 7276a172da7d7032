"""Entry point of the ``kiosk`` command.

Each sub-command lives in its own module of this package with a ``register(subparsers)``
function; the explicit list below is the only registry. Modules are imported only when their
command runs, so ``kiosk mrz check`` does not pay for loading OpenCV or dlib.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from kiosk import __version__
from kiosk.logs import LEVELS, setup_logging
from models.errors import ConfigError, KioskError

# command name -> (module under kiosk.cli, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "config": ("config_cmd", "show the effective configuration"),
    "mrz": ("mrz_cmd", "parse and validate machine readable zones"),
    "demo": ("demo_cmd", "run transactions on simulated devices"),
    "sim": ("sim_cmd", "simulated passports, PKI and cards"),
    "face": ("face_cmd", "face verification and evaluation"),
    "bench": ("bench_cmd", "benchmarks: a table, or one JSON object with --json"),
    "chip": ("chip_cmd", "read passport chips over PC/SC"),
    "audit": ("audit_cmd", "verify the audit log"),
    "screening": ("screening_cmd", "import and query lost/stolen, watchlist and manifest lists"),
    "server": ("server_cmd", "the central server: run, enrol devices, users"),
    "sync": ("sync_cmd", "store-and-forward sync with the central server"),
    "trust": ("trust_cmd", "import and list CSCA certificates, CRLs and master lists"),
    "passport": ("passport_cmd", "verify passport chip files offline"),
    "db": ("db_cmd", "database migrations and key files"),
    "run": ("run_cmd", "run the lane headless: the production kiosk without a screen"),
}

Handler = Callable[[argparse.Namespace], int]


def _build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Open e-gate kiosk")
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    parser.add_argument("--config", type=Path, help="TOML configuration file (or KIOSK_CONFIG)")
    parser.add_argument(
        "--log-level",
        choices=LEVELS,
        type=str.upper,
        default=None,
        help="log level (or KIOSK_LOG_LEVEL; default INFO)",
    )
    parser.add_argument("--log-json", action="store_true", help="log JSON lines")
    parser.add_argument("--log-file", type=Path, help="also log to this rotating file")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Only the module of the command being run is imported; the others get a stub entry so
    # that `kiosk --help` lists them all.
    wanted = next((a for a in argv if a in COMMANDS), None)
    for name, (module_name, help_text) in COMMANDS.items():
        if name == wanted:
            module = importlib.import_module(f"kiosk.cli.{module_name}")
            module.register(sub, name, help_text)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser(args_list)
    args, extra = parser.parse_known_args(args_list)
    if extra and not getattr(args, "accepts_extra_args", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra_args = extra
    level = args.log_level or os.environ.get("KIOSK_LOG_LEVEL", "INFO").upper()
    if level not in LEVELS:
        level = "INFO"
    setup_logging(level, json_lines=args.log_json, file=args.log_file)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"kiosk: configuration error: {exc}", file=sys.stderr)
        return 2
    except KioskError as exc:
        print(f"kiosk: {exc.code}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
