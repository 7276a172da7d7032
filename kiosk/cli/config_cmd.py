"""``kiosk config show``: the effective configuration, secrets masked."""

from __future__ import annotations

import argparse
import json
from typing import Any

from kiosk.config import load_config, masked_dump


def register(sub: Any, name: str, help_text: str) -> None:
    parser = sub.add_parser(name, help=help_text)
    actions = parser.add_subparsers(dest="action", required=True)
    show = actions.add_parser("show", help="print the effective configuration as JSON")
    show.set_defaults(handler=_show)


def _show(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    print(json.dumps(masked_dump(config), indent=2, sort_keys=False))
    return 0
