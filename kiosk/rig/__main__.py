"""``python -m kiosk.rig [--json] [--keep DIR]`` (``make rig``): run the production rig's
cases and print a table, or with ``--json`` one JSON object as the last line:
``{"transactions", "right", "cases": [{"case", "expected", "decision"}]}``. Exit 0 when every
case reached what it should."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from kiosk.rig.harness import CaseResult, ProductionRig


def table(results: list[CaseResult]) -> str:
    rows = [("case", "expected", "decision", "reasons", "ok", "wall ms", "kiosk ms", "detail")]
    for r in results:
        rows.append(
            (
                r.case,
                r.expected,
                r.decision,
                ",".join(r.reasons) or "-",
                "yes" if r.right else "NO",
                f"{r.wall_ms:.0f}" if r.wall_ms is not None else "-",
                f"{r.timings_ms['total_before_gate']:.0f}"
                if "total_before_gate" in r.timings_ms
                else "-",
                r.detail,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    right = sum(r.right for r in results)
    lines.append(f"\n{right} of {len(results)} cases right")
    lines.append(
        "wall ms: from the chip seen in the field and the MRZ scanned to the transaction's "
        "end (gate passage included); kiosk ms: the kiosk's own time before the gate"
    )
    return "\n".join(lines)


def summary(results: list[CaseResult]) -> dict[str, object]:
    return {
        "transactions": sum(r.wall_ms is not None for r in results),
        "right": sum(r.right for r in results),
        "cases": [r.as_dict() for r in results],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.rig", description=__doc__)
    parser.add_argument("--json", action="store_true", help="one JSON object as the last line")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = parser.parse_args(argv)

    def progress(message: str) -> None:
        print(f"rig: {message}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="kiosk-rig-") as tmp:
        work = args.keep or Path(tmp)
        with ProductionRig(work, progress) as rig:
            rig.start()
            results = list(rig.run_cases())
    if args.json:
        print(json.dumps(summary(results)))
    else:
        print(table(results))
    return 0 if all(r.right for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
