"""``kiosk chip ACTION``: passport chips over PC/SC.

Each action is one entry of ``ACTIONS``: a module under ``kiosk.cli`` whose
``add_action(actions, name, help_text)`` adds the action's parser with
``set_defaults(handler=...)``. ``readers`` lives here; ``read`` is added the same way.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Any

from hardware.chip_reader import ReaderServiceUnavailableError
from hardware.config import PcscChipReaderConfig
from hardware.pcscd import SOCKET_ENV, SYSTEM_SOCKET
from kiosk.config import load_config
from models.errors import DeviceNotAvailableError

# action -> (module under kiosk.cli defining add_action, one-line help)
ACTIONS: dict[str, tuple[str, str]] = {
    "readers": ("chip_cmd", "list the PC/SC readers and whether a card is in"),
    "read": ("chip_read_cmd", "open a passport chip with the MRZ or CAN and read every file"),
}


def register(sub: Any, name: str, help_text: str) -> None:
    parser = sub.add_parser(name, help=help_text)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, (module_name, action_help) in ACTIONS.items():
        module = importlib.import_module(f"kiosk.cli.{module_name}")
        module.add_action(actions, action, action_help)


def add_action(actions: Any, name: str, help_text: str) -> None:
    """The ``readers`` action."""
    parser = actions.add_parser(name, help=help_text)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=_readers)


def _readers(args: argparse.Namespace) -> int:
    from hardware.pcsc import list_readers, match_reader

    try:
        readers = list_readers()
    except ReaderServiceUnavailableError:
        socket_path = os.environ.get(SOCKET_ENV) or str(SYSTEM_SOCKET)
        print(
            f"kiosk: pcscd is not running (no PC/SC service at {socket_path}); "
            "start it (pcscd, or the technician console) and try again",
            file=sys.stderr,
        )
        return 2
    except DeviceNotAvailableError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2
    device = load_config(args.config).devices.chip_reader
    pattern = device.reader_pattern if isinstance(device, PcscChipReaderConfig) else None
    selected = match_reader([r.name for r in readers], pattern) if pattern is not None else None
    rows: list[dict[str, Any]] = [
        {
            "name": reader.name,
            "card_present": reader.card_present,
            "atr": reader.atr.hex().upper() if reader.atr else None,
            "selected": reader.name == selected,
        }
        for reader in readers
    ]
    if args.json:
        print(json.dumps({"readers": rows}))
        return 0
    if not rows:
        print("no PC/SC readers")
        return 0
    width = max(len(row["name"]) for row in rows)
    print(f"{'READER':<{width}}  CARD   ATR")
    for row in rows:
        mark = " *" if row["selected"] else ""
        card = "yes" if row["card_present"] else "no"
        print(f"{row['name']:<{width}}  {card:<5}  {row['atr'] or '-'}{mark}")
    if selected is not None:
        print("* the reader the configuration selects")
    return 0
