"""``kiosk bench session``: the wall time of an accepted transaction on zero-latency devices.

One demo kiosk (``kiosk.demo.kiosk_loop``: the real composition root, engine, pipeline,
policy, screening and recorder) runs the genuine traveller again and again over simulated
devices without latency: the chip answers at once, the camera plays the traveller at
``--fps`` frames per second, the gate's traveller walks through in no time. Each run is timed
from the MRZ presented to the engine back to waiting, and every step's time is taken from the
engine's own timings. The first ``--warmup`` runs (model loading) are not counted. Every
counted run must be accepted: a refused one is reported, not hidden.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

from kiosk.config import load_config
from kiosk.demo.kiosk_loop import GENUINE, DemoKioskLoop
from kiosk.session.steps import Outcome


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=10, help="accepted transactions timed")
    parser.add_argument("--warmup", type=int, default=1, help="runs not counted")
    parser.add_argument("--fps", type=float, default=60.0, help="simulated camera frame rate")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="kiosk data directory (default: temporary)"
    )


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _step_name(name: str) -> str:
    """face_capture_1 -> face_capture: attempts are summed per step."""
    head, _, tail = name.rpartition("_")
    return head if tail.isdigit() else name


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-session-") as scratch:
        data_dir = args.data_dir or Path(scratch)
        config = load_config(getattr(args, "config", None), data_dir=str(data_dir))
        return measure(config, runs=args.runs, warmup=args.warmup, fps=args.fps)


def measure(config: Any, *, runs: int, warmup: int, fps: float) -> dict[str, Any]:
    walls: list[float] = []
    steps: dict[str, list[float]] = {}
    refused: list[str] = []
    attempts: list[int] = []
    with DemoKioskLoop(config, camera_fps=fps, travellers=(GENUINE,)) as kiosk:
        for index in range(warmup + runs):
            result = kiosk.transact(GENUINE)
            if index < warmup:
                continue
            outcome = result.outcome
            if outcome.outcome is not Outcome.ACCEPTED:
                refused.append(",".join(outcome.reasons) or outcome.outcome)
                continue
            walls.append(result.wall_s * 1000)
            per_step: dict[str, float] = {}
            for name, ms in outcome.timings_ms.items():
                if not name.startswith("total"):
                    per_step[_step_name(name)] = per_step.get(_step_name(name), 0.0) + ms
            attempts.append(sum(1 for name in outcome.timings_ms if name.startswith("face_cap")))
            for name, ms in per_step.items():
                steps.setdefault(name, []).append(ms)
    figures: dict[str, Any] = {
        "accepted_ms_median": round(statistics.median(walls), 1) if walls else None,
        "accepted_ms_p95": round(_percentile(walls, 0.95), 1) if walls else None,
        "runs": runs,
        "accepted_runs": len(walls),
        "refused_runs": len(refused),
        "refused_reasons": sorted(set(refused)),
        "camera_fps": fps,
        "face_attempts_max": max(attempts, default=0),
        "steps_ms": {name: round(statistics.median(v), 1) for name, v in steps.items()},
        "limit_ms": 1000.0,
    }
    figures["within_limit"] = bool(walls) and figures["accepted_ms_median"] <= 1000.0
    return figures
