"""``python -m ui bench-gui [--json]``: how long the traveller window's Qt event loop stalls
while real transactions run.

The real traveller window (:class:`ui.traveller.window.TravellerWindow`, offscreen when there
is no display) follows a demo kiosk built by the composition root (``kiosk.demo.kiosk_loop``:
the real engine, pipeline with chip authentication, face capture in the worker processes as the
launcher configures it, liveness, matching, screening and recorder) on simulated devices. A
worker thread runs the genuine traveller ``--transactions`` times; meanwhile a ``QTimer`` ticks
every ``--interval-ms`` on the GUI thread and each tick's lateness (the time since the previous
tick beyond the interval) is recorded with the screen then shown. The first ``--warmup``
transactions are run before the timer starts (models warming up in the workers).

This lives in ``ui`` because it drives Qt, and only ``ui`` may import PySide6 (the
import-linter contracts in pyproject.toml); ``kiosk bench`` cannot reach it for the same reason.
The figures are printed as measured: a table (``kiosk bench``'s layout), or one JSON object with
``event_loop_stall_ms_max``, ``event_loop_stall_ms_p95``, ``event_loop_stall_ms_median``,
``transactions``, ``accepted``, ``ticks``, ``worst_screen`` and ``transaction_ms_median``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BOUND_S = 120.0  # one transaction; a hung one is reported, never waited for without end


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ui bench-gui", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--transactions", type=int, default=5, help="measured transactions")
    parser.add_argument("--warmup", type=int, default=1, help="transactions before measuring")
    parser.add_argument("--interval-ms", type=int, default=10, help="the probe timer's interval")
    parser.add_argument("--fps", type=float, default=15.0, help="simulated camera frame rate")
    parser.add_argument("--config", type=Path, default=None, help="kiosk TOML configuration")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="kiosk data directory (default: temporary)"
    )
    return parser


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def measure(
    config: Any, *, transactions: int, warmup: int, interval_ms: int, fps: float
) -> dict[str, Any]:
    """Run the transactions under the window and return the figures."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from kiosk.demo.kiosk_loop import GENUINE, DemoKioskLoop
    from kiosk.face.dlib_models import dlib_models
    from kiosk.session.steps import Outcome
    from ui.traveller.window import TravellerWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    # as ui.launch starts the GUI kiosk: dlib in worker processes, never on the GUI's GIL
    face = config.face.model_copy(update={"matcher_process": True})
    config = config.model_copy(update={"face": face})
    lateness: list[tuple[float, str]] = []
    walls: list[float] = []
    outcomes: list[str] = []
    errors: list[BaseException] = []
    measuring = threading.Event()
    with DemoKioskLoop(config, camera_fps=fps, travellers=(GENUINE,)) as loop:
        kiosk = loop.kiosk
        for worker in (
            kiosk.pipeline.new_verification().matcher,
            getattr(kiosk.pipeline.face_detector, "__self__", None),
        ):
            getattr(worker, "wait_ready", lambda: None)()
        dlib_models()  # the tracker's landmark model, loaded at start as the launcher does
        window = TravellerWindow(
            kiosk.bus,
            kiosk.devices.camera,
            officer_directions=kiosk.config.traveller.officer_directions,
            assistance=kiosk.assistance,
        )
        window.follow_lane(kiosk.lane)
        window.resize(1280, 800)
        window.show()
        proceed = [0]

        def shown(_index: int) -> None:
            if measuring.is_set() and window.current_screen == "proceed":
                proceed[0] += 1

        window.stack.currentChanged.connect(shown)

        def drive() -> None:
            try:
                for index in range(warmup + transactions):
                    if index == warmup:
                        measuring.set()
                    result = loop.transact(GENUINE, timeout_s=BOUND_S)
                    if index >= warmup:
                        walls.append(result.wall_s * 1000)
                        outcomes.append(result.outcome.outcome)
            except BaseException as exc:  # reported after the loop, not lost on the thread
                errors.append(exc)

        last = [0.0]

        def tick() -> None:
            now = time.perf_counter()
            if last[0]:
                late = max(0.0, (now - last[0]) * 1000 - interval_ms)
                lateness.append((late, window.current_screen))
            last[0] = now

        probe = QTimer()
        probe.setInterval(interval_ms)
        probe.timeout.connect(tick)
        event_loop = QEventLoop()
        driver = threading.Thread(target=drive, name="bench-gui-traveller", daemon=True)

        def watch() -> None:
            if measuring.is_set() and not probe.isActive():
                last[0] = 0.0
                probe.start()
            if not driver.is_alive():
                event_loop.quit()

        watcher = QTimer()
        watcher.setInterval(50)
        watcher.timeout.connect(watch)
        watcher.start()
        driver.start()
        try:
            event_loop.exec()
        finally:
            probe.stop()
            watcher.stop()
            driver.join(BOUND_S)
            window.shutdown()
            window.close()
            app.processEvents()
    if errors:
        raise errors[0]
    stalls = [late for late, _ in lateness]
    worst = max(lateness, default=(0.0, ""))
    return {
        "event_loop_stall_ms_max": round(worst[0], 1),
        "event_loop_stall_ms_p95": round(_percentile(stalls, 0.95), 1) if stalls else None,
        "event_loop_stall_ms_median": round(statistics.median(stalls), 1) if stalls else None,
        "worst_screen": worst[1],
        "ticks": len(stalls),
        "timer_interval_ms": interval_ms,
        "transactions": len(walls),
        "accepted": sum(1 for o in outcomes if o == Outcome.ACCEPTED),
        "proceed_screens": proceed[0],
        "transaction_ms_median": round(statistics.median(walls), 1) if walls else None,
    }


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from kiosk.cli.bench_cmd import render_table
    from kiosk.config import load_config

    with tempfile.TemporaryDirectory(prefix="ui-bench-gui-") as scratch:
        config = load_config(args.config, data_dir=str(args.data_dir or Path(scratch)))
        figures = measure(
            config,
            transactions=args.transactions,
            warmup=args.warmup,
            interval_ms=args.interval_ms,
            fps=args.fps,
        )
    print(
        json.dumps(figures) if args.json else render_table("gui (python -m ui bench-gui)", figures)
    )
    return 0
