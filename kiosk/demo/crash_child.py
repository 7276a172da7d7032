"""A kiosk process for the crash harness: complete transactions, one after another.

    python -m kiosk.demo.crash_child --data-dir DIR --count N [--genuine-every K]

One kiosk is built by the real composition root (``kiosk.app.build_kiosk``) over the demo's
simulated devices and driven through :class:`kiosk.app.KioskRuntime`, exactly as the demo does:
the chip goes on the reader, the MRZ reader presents the printed MRZ, the engine runs the
transaction through the real pipeline, policy and recorder. Every ``genuine-every``-th traveller
is a genuine one (chip, face capture, liveness, matching, screening, gate); the others present a
passport whose chip refuses the access key (refer ``chip_anomaly`` right after the chip step),
so that hundreds of transactions fit in a test.

After each decision the process prints one line ``DECIDED <transaction id> <decision>``. The
engine publishes :class:`kiosk.session.events.Decided` only after the recorder has committed
the decision with its outbox row and audit entry, so a printed line is a promise that the
record exists; the harness kills this process at random points and checks that promise.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from kiosk.config import load_config
from kiosk.demo.kiosk_loop import CHIP_REFUSED, GENUINE, DemoKioskLoop
from kiosk.session.events import Decided, SessionEvent

log = logging.getLogger(__name__)


def _print_decided(event: SessionEvent) -> None:
    if isinstance(event, Decided):
        print(f"DECIDED {event.transaction_id} {event.decision}", flush=True)


def run_transactions(
    data_dir: Path, count: int, *, genuine_every: int, camera_fps: float, timeout_s: float
) -> int:
    """Run ``count`` transactions; the number that reached a decision."""
    config = load_config(None, data_dir=str(data_dir))
    with DemoKioskLoop(config, camera_fps=camera_fps, listener=_print_decided) as kiosk:
        for index in range(count):
            genuine = genuine_every > 0 and index % genuine_every == 0
            kiosk.transact(GENUINE if genuine else CHIP_REFUSED, timeout_s)
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.demo.crash_child")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument(
        "--genuine-every", type=int, default=8, help="every K-th traveller is a genuine one"
    )
    parser.add_argument("--camera-fps", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=60.0, help="per transaction, seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    done = run_transactions(
        args.data_dir,
        args.count,
        genuine_every=args.genuine_every,
        camera_fps=args.camera_fps,
        timeout_s=args.timeout,
    )
    return 0 if done == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
