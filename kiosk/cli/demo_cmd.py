"""``kiosk demo --headless [--scenario NAME | --all] [--json]``: complete transactions on
simulated devices, each decided by the real pipeline, policy and engine.

Prints a table of expected and actual decision and reasons per scenario (or, with --json, a
list of objects); exits 0 when every scenario reached what it should, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from kiosk.config import load_config


def register(sub: Any, name: str, help_text: str) -> None:
    parser = sub.add_parser(name, help=help_text)
    parser.add_argument(
        "--headless",
        action="store_true",
        help="run the scenarios without windows (the only mode of this command)",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--scenario", action="append", metavar="NAME", help="run this scenario (repeatable)"
    )
    which.add_argument("--all", action="store_true", help="run every scenario (the default)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="where the demo keeps its database and simulated PKI (default <data_dir>/demo)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from kiosk.demo.scenarios import all_scenarios

    scenarios = all_scenarios()
    if args.list:
        for item in scenarios:
            print(f"{item.name:28} {item.expected_decision:7} {item.description}")
        return 0
    if args.scenario:
        known = {s.name: s for s in scenarios}
        unknown = [n for n in args.scenario if n not in known]
        if unknown:
            print(
                f"kiosk demo: unknown scenario(s): {', '.join(unknown)} (see kiosk demo --list)",
                file=sys.stderr,
            )
            return 2
        scenarios = [known[n] for n in args.scenario]
    base = load_config(args.config)
    data_dir = args.data_dir or base.data_dir / "demo"
    config = load_config(args.config, data_dir=str(data_dir))
    from kiosk.demo.world import DemoWorld

    world = DemoWorld(config)
    results = []
    for item in scenarios:
        if not args.json:
            print(f"  running {item.name} ...", file=sys.stderr, flush=True)
        results.append(world.run(item))
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=1))
    else:
        print(_table(results))
    return 0 if all(r.as_expected for r in results) else 1


def _table(results: list[Any]) -> str:
    rows = [("scenario", "expected", "decision", "reasons", "outcome", "ok", "ms")]
    for r in results:
        expected = r.expected + (f" ({','.join(r.expected_reasons)})" if r.expected_reasons else "")
        total = r.timings_ms.get("total_before_gate")
        rows.append(
            (
                r.scenario,
                expected,
                str(r.decision or "none"),
                ",".join(r.reasons) or "-",
                str(r.outcome or "-"),
                "yes" if r.as_expected else "NO",
                f"{total:.0f}" if total else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    ok = sum(r.as_expected for r in results)
    lines.append(f"\n{ok} of {len(results)} scenarios reached the expected decision")
    return "\n".join(lines)
