"""``kiosk bench NAME [--json]``: benchmarks that print a table, or one JSON object.

Each benchmark module under ``kiosk.bench`` defines ``add_arguments(parser)`` and
``run(args) -> dict``; the figures it returns are printed as they are, so the table and the
JSON always show the same numbers.
"""

from __future__ import annotations

import argparse
import importlib
import json
from typing import Any

BENCHES: dict[str, tuple[str, str]] = {
    "chip": ("kiosk.bench.chip", "read a passport through secure messaging; PACE CPU time"),
    "auth": ("kiosk.bench.auth", "passive, active and chip authentication; trust-list import"),
    "face": ("kiosk.bench.face", "verification against the face_recognition recipe; live loop"),
    "face-eval": ("kiosk.bench.face_eval", "kiosk face eval after enrolment, 50 million pairs"),
    "session": ("kiosk.bench.session", "a whole accepted transaction on simulated devices"),
    "screening": ("kiosk.bench.screening", "watchlist and lost/stolen lookups at scale"),
    "server": ("kiosk.bench.server", "a region under mixed load and attack: 200 kiosks, 20 booths"),
    "vetting": ("kiosk.bench.vetting", "PAXLST ingested and vetted on PostgreSQL at scale"),
    "booth": ("kiosk.bench.booth", "a kiosk's event to the officer's wall tile changing"),
}


def register(sub: Any, name: str, help_text: str) -> None:
    parser = sub.add_parser(name, help=help_text)
    benches = parser.add_subparsers(dest="bench", required=True, metavar="BENCH")
    for bench, (module_name, bench_help) in BENCHES.items():
        # The benchmark's own options are parsed in _run, from its module, so that listing
        # the benchmarks does not import the heavy dependencies of each.
        bench_parser = benches.add_parser(bench, help=bench_help, add_help=False)
        bench_parser.set_defaults(handler=_run, bench_module=module_name, accepts_extra_args=True)


def _run(args: argparse.Namespace) -> int:
    module = importlib.import_module(args.bench_module)
    parser = argparse.ArgumentParser(prog=f"kiosk bench {args.bench}")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    module.add_arguments(parser)
    bench_args = parser.parse_args(args.extra_args)
    bench_args.config = args.config
    bench_args.bench = args.bench
    figures: dict[str, Any] = module.run(bench_args)
    if bench_args.json:
        print(json.dumps(figures, sort_keys=False))
    else:
        print(render_table(args.bench, figures))
    return 0


def _flatten(prefix: str, value: Any, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, rows)
    elif isinstance(value, float):
        rows.append((prefix, f"{value:,.3f}"))
    else:
        rows.append((prefix, str(value)))


def render_table(title: str, figures: dict[str, Any]) -> str:
    rows: list[tuple[str, str]] = []
    _flatten("", figures, rows)
    width = max([len(k) for k, _ in rows] + [6])
    value_width = max([len(v) for _, v in rows] + [5])
    lines = [f"kiosk bench {title}", f"{'figure':<{width}}  {'value':>{value_width}}"]
    lines.append("-" * (width + value_width + 2))
    lines += [f"{k:<{width}}  {v:>{value_width}}" for k, v in rows]
    return "\n".join(lines)
