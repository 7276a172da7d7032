"""``kiosk bench booth``: the time from a kiosk's event to the officer's wall tile changing.

The real server (``kiosk server run`` in its own process, TLS; SQLite by default or
``--db``), a kiosk's lane link (:class:`kiosk.sync.lane_link.LaneLink`, mutual TLS) and the
booth's wall reader (:class:`kiosk.officer.wall.WallStream`, server-sent events, an officer's
token). For each of ``--events`` session steps published on the kiosk's event bus, the clock
runs from the publish to the moment the booth's tile model shows that step (on the booth's
stream thread, where the window's Qt signal is emitted). Events are sent one after another,
each once the previous one has arrived, with a short pause so none is folded into the next.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from kiosk.bench.region import free_port, wait_until

STEPS = (
    ("document", "DOCUMENT"),
    ("chip", "CHIP"),
    ("face", "FACE_CAPTURE"),
    ("decision", "DECISION"),
    ("passage", "GATE"),
    ("waiting", "WAITING"),
)
PASSWORD = "bench-officer-password"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", type=int, default=200, help="kiosk events to time")
    parser.add_argument(
        "--db", default=None, help="server database URL (default SQLite; PostgreSQL: a schema)"
    )
    parser.add_argument("--gap-ms", type=float, default=20.0, help="pause between events")


def _wait_healthy(url: str, context: Any, process: subprocess.Popen[bytes]) -> None:
    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/healthz", verify=context, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(healthy, "the server", process, limit_s=60)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(args: argparse.Namespace) -> dict[str, Any]:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per lane report otherwise
    work = Path(tempfile.mkdtemp(prefix="kiosk-bench-booth-"))
    port = free_port()
    db = args.db or f"sqlite:///{work / 'server.db'}"
    schema = None
    env = dict(os.environ)
    if db.startswith("postgresql"):  # a private schema, dropped after
        schema = f"kiosk_bench_booth_{uuid.uuid4().hex[:10]}"
        admin = create_engine(db)
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        env["KIOSK_SERVER_DATABASE_SCHEMA"] = schema
    try:
        return _run(args, work, port, db, schema, env)
    finally:
        if schema is not None:
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            admin.dispose()


def _run(
    args: argparse.Namespace,
    work: Path,
    port: int,
    db: str,
    schema: str | None,
    env: dict[str, str],
) -> dict[str, Any]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.audit.signing import public_key_pem
    from kiosk.config import load_config
    from kiosk.lane import Lane
    from kiosk.officer.remote import HttpReferralSource
    from kiosk.officer.wall import WallModel, WallStream, wait_until
    from kiosk.session.events import EventBus, State, StateEntered
    from kiosk.sync.client import ssl_context
    from kiosk.sync.lane_link import LaneLink
    from server.accounts import add_user, enrol_device, write_device_credentials
    from server.app import build_state
    from server.config import ServerConfig
    from server.security.tokens import Role

    config = ServerConfig(
        data_dir=work / "server", database_url=db, database_schema=schema, port=port
    )
    state = build_state(config)
    audit_key = public_key_pem(Ed25519PrivateKey.generate().public_key())
    enrolled = enrol_device(
        state.database,
        state.ca,
        "bench-lane-1",
        days=2,
        audit_public_key_pem=audit_key,
        site="BENCH",
    )
    write_device_credentials(enrolled, work / "kiosk", "")
    add_user(state.database, "bench-officer", Role.OFFICER, PASSWORD, site="BENCH")
    state.database.close()
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli.main", "--log-level", "WARNING", "server",
         "--data-dir", str(config.data_dir), "--db", db, "run", "--port", str(port)],
        env=env,
    )  # fmt: skip
    url = f"https://127.0.0.1:{port}"
    kiosk = load_config(
        data_dir=work / "kiosk-home",
        kiosk_id="bench-lane-1",
        site="BENCH",
        sync={
            "server_url": url,
            "client_cert": str(work / "kiosk" / "kiosk.pem"),
            "client_key": str(work / "kiosk" / "kiosk.key"),
            "ca_cert": str(work / "kiosk" / "ca.pem"),
        },
        wall={"heartbeat_s": 60, "commands_wait_s": 1},
    )
    latencies: list[float] = []
    link = stream = booth = None
    try:
        _wait_healthy(url, ssl_context(kiosk.sync), process)
        ca = str(work / "kiosk" / "ca.pem")
        booth = HttpReferralSource(url, verify=ca)
        session = booth.login("bench-officer", PASSWORD)
        model = WallModel()
        arrived: dict[int, float] = {}
        lock = threading.Lock()
        expected: list[tuple[int, str]] = []

        def on_event(event: str, data: dict[str, Any]) -> None:
            changed = model.apply(event, data)
            now = time.perf_counter()
            with lock:
                if expected and "bench-lane-1" in changed:
                    index, step = expected[-1]
                    if model.tiles["bench-lane-1"].step == step and index not in arrived:
                        arrived[index] = now

        stream = WallStream(url, lambda: session.token, on_event, verify=ca).start()
        lane, bus = Lane(), EventBus()
        link = LaneLink(kiosk, lane).start(bus.subscribe)
        if not wait_until(lambda: "bench-lane-1" in model.tiles, 30):
            raise RuntimeError("the lane never reached the wall")
        began = time.perf_counter()
        for index in range(args.events):
            step, state_name = STEPS[index % len(STEPS)]
            with lock:
                expected.append((index, step))
            sent = time.perf_counter()
            bus.publish(StateEntered("bench", State[state_name]))
            if not wait_until(lambda i=index: i in arrived, 10):  # type: ignore[misc]
                raise RuntimeError(f"event {index} never reached the wall")
            latencies.append((arrived[index] - sent) * 1000)
            time.sleep(args.gap_ms / 1000)
        elapsed = time.perf_counter() - began
    finally:
        if link is not None:
            link.close()
        if stream is not None:
            stream.close()
        if booth is not None:
            booth.close()
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return {
        "event_to_tile_ms_median": round(statistics.median(latencies), 2),
        "event_to_tile_ms_p95": round(_percentile(latencies, 0.95), 2),
        "event_to_tile_ms_max": round(max(latencies), 2),
        "events": len(latencies),
        "target_p95_ms": 1000,
        "database": "postgresql" if schema else "sqlite",
        "transport": "kiosk mutual TLS -> server -> booth server-sent events (TLS, token)",
        "seconds": round(elapsed, 2),
    }
