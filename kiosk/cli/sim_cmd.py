"""``kiosk sim``: simulated passports, their test PKI and (later) simulated cards.

Sub-commands are listed in ``ACTIONS``: name -> (function adding its arguments, handler, help).
Adding one (``sim card``) means writing those two functions and one line in ``ACTIONS``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from models.errors import ConfigError

Handler = Callable[[argparse.Namespace], int]


def _add_pki_init(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", type=Path, help="where to write the PKI")
    parser.add_argument(
        "--countries",
        default="LCA,JAM,TTO,BRB,GUY",
        help="comma-separated ICAO country codes (default: LCA,JAM,TTO,BRB,GUY)",
    )
    parser.add_argument("--key-dir", type=Path, help="key cache directory (default DIRECTORY/keys)")


def _pki_init(args: argparse.Namespace) -> int:
    from hardware.sim.pki.test_pki import TestPki

    countries = [c.strip().upper() for c in args.countries.split(",") if c.strip()]
    if not countries:
        raise ConfigError("--countries names no country")
    pki = TestPki.build(args.directory, countries, args.key_dir)
    print(f"test PKI for {', '.join(pki.countries)} in {pki.directory}")
    print(f"  trust anchors (CSCA + link): {len(pki.trust_anchor_paths())} files in csca/")
    print(f"  CRLs: {len(pki.crl_paths())} files in crl/")
    print(f"  master list: {pki.master_list_path}")
    print(
        f"  its signer, to pin in [trust_pinning] master_list_signers: "
        f"{pki.master_list_signer_path}"
    )
    return 0


def _add_profiles(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON array")


def _profiles(args: argparse.Namespace) -> int:
    from hardware.sim.passports import profile_listing

    listing = profile_listing()
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    print(f"{'profile':28} {'genuine':8} {'access':9} expected")
    for item in listing:
        access = "+".join(k.upper() for k, v in item["access"].items() if v)
        exp = item["expected"]
        verdict = "authentic" if exp["authentic"] else f"{exp['failed_check']}: {exp['reason']}"
        print(f"{item['name']:28} {('yes' if item['genuine'] else 'no'):8} {access:9} {verdict}")
    return 0


def _add_card(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile", required=True, help="passport profile (see 'kiosk sim profiles')"
    )
    parser.add_argument(
        "--vpcd", default="localhost:35963", metavar="HOST:PORT", help="where vpcd listens"
    )
    parser.add_argument(
        "--cache-dir", type=Path, help="test PKI and chip image cache (default <data_dir>/sim)"
    )


def _card(args: argparse.Namespace) -> int:
    import signal
    import sys
    import threading

    from hardware.sim.chip import PassportChip
    from hardware.sim.passports import PassportFactory
    from hardware.sim.vpcd import parse_vpcd_address
    from kiosk.config import load_config
    from kiosk.sim_card import run_sim_card

    host, port = parse_vpcd_address(args.vpcd)
    cache_dir = args.cache_dir or load_config(args.config).data_dir / "sim"
    chip = PassportChip(PassportFactory(cache_dir).chip_image(args.profile))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # At a terminal the card can be taken away and put back; otherwise it stays until stopped.
    commands = sys.stdin if sys.stdin.isatty() else None
    return run_sim_card(chip, host, port, stop, commands=commands)


# "pki init" is nested one level: (group, action) pairs.
ACTIONS: dict[tuple[str, ...], tuple[Callable[[argparse.ArgumentParser], None], Handler, str]] = {
    ("pki", "init"): (_add_pki_init, _pki_init, "create a test PKI (CSCAs, DS, CRLs, master list)"),
    ("profiles",): (_add_profiles, _profiles, "list the simulated passport profiles"),
    ("card",): (_add_card, _card, "put a simulated passport on vpcd (the real PC/SC path)"),
}


def register(sub: Any, name: str, help_text: str) -> None:
    parser = sub.add_parser(name, help=help_text)
    actions = parser.add_subparsers(dest="sim_action", required=True, metavar="ACTION")
    groups: dict[str, Any] = {}
    for path, (add_arguments, handler, action_help) in ACTIONS.items():
        container = actions
        for group in path[:-1]:
            if group not in groups:
                group_parser = actions.add_parser(group, help=f"{group} commands")
                groups[group] = group_parser.add_subparsers(dest=f"sim_{group}", required=True)
            container = groups[group]
        action = container.add_parser(path[-1], help=action_help)
        add_arguments(action)
        action.set_defaults(handler=handler)
