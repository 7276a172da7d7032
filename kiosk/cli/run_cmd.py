"""``kiosk run [--events]``: the headless lane service, the production kiosk without a screen
(the Debian package's ``kiosk-lane.service`` starts it). Runs until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kiosk.config import load_config


def register(sub: Any, name: str, help_text: str) -> None:
    parser = sub.add_parser(name, help=help_text)
    parser.add_argument(
        "--events",
        action="store_true",
        help="print one JSON line per lane change and decision on stdout (no personal data)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from kiosk.lane_service import LaneService

    config = load_config(args.config)
    service = LaneService(config, events=sys.stdout if args.events else None)
    service.install_signal_handlers()
    return service.run()
