"""``kiosk bench server``: decisions ingested per second into PostgreSQL by the real server
(``kiosk server run`` in its own process, mutual TLS) from concurrent kiosk clients posting
batches, with the 99th-percentile request latency. Uses a private schema, dropped after."""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, func, select, text

from kiosk.audit.signing import public_key_pem
from kiosk.config import SyncConfig
from kiosk.sync.client import ssl_context

DEFAULT_DB = os.environ.get(
    "KIOSK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=DEFAULT_DB, help="PostgreSQL URL (a schema is created)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent kiosks")
    parser.add_argument("--batch", type=int, default=50, help="decisions per request")
    parser.add_argument("--requests", type=int, default=60, help="requests per kiosk")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _payload(kiosk: str, index: int, now: datetime) -> dict[str, Any]:
    refer = index % 5 == 0
    return {
        "v": 1,
        "transaction_id": f"{kiosk}-{index:08d}",
        "kiosk_id": kiosk,
        "started_at": (now - timedelta(seconds=9)).isoformat(),
        "decided_at": now.isoformat(),
        "decision": "refer" if refer else "accept",
        "reasons": ["biometric_mismatch"] if refer else [],
        "policy": "caricom",
        "document": {
            "doc_type": "P",
            "issuer": "UTO",
            "nationality": "UTO",
            "expiry_date": "2031-01-01",
            "number_token": "ab" * 32,
            "chip_read": True,
        },
        "checks": [
            {"name": "sod_signature", "status": "passed", "reason": None, "message": ""},
            {"name": "face_match", "status": "passed", "reason": None, "message": ""},
        ],
        "referral": {"status": "open", "surname": "X", "given_names": "Y", "birth_date": None}
        if refer
        else None,
        "timings_ms": {"chip": 800.0, "face": 1200.0},
    }


def _wait_healthy(url: str, context: Any, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server process exited")
        try:
            if httpx.get(f"{url}/healthz", verify=context, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not become healthy")


def _client(
    url: str,
    sync: SyncConfig,
    batches: list[list[dict[str, Any]]],
    latencies: list[float],
    errors: list[str],
    start: threading.Barrier,
) -> None:
    with httpx.Client(base_url=url, verify=ssl_context(sync), timeout=30) as client:
        start.wait()
        for batch in batches:
            began = time.perf_counter()
            answer = client.post("/v1/kiosk/decisions", json={"items": batch})
            latencies.append(time.perf_counter() - began)
            if answer.status_code != 200:
                errors.append(f"HTTP {answer.status_code}")


def run(args: argparse.Namespace) -> dict[str, Any]:
    from models.server_tables import ReceivedDecisionRow
    from server.accounts import enrol_device, write_device_credentials
    from server.app import build_state
    from server.config import ServerConfig

    schema = f"kiosk_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.db)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    work = Path(tempfile.mkdtemp(prefix="kiosk-bench-server-"))
    port = _free_port()
    process: subprocess.Popen[bytes] | None = None
    try:
        config = ServerConfig(
            data_dir=work / "server", database_url=args.db, database_schema=schema, port=port
        )
        state = build_state(config)
        kiosks: list[tuple[str, SyncConfig]] = []
        for number in range(args.clients):
            name = f"bench-kiosk-{number}"
            audit_key = public_key_pem(Ed25519PrivateKey.generate().public_key())
            enrolled = enrol_device(
                state.database, state.ca, name, days=2, audit_public_key_pem=audit_key
            )
            out = work / name
            write_device_credentials(enrolled, out, "")
            kiosks.append(
                (
                    name,
                    SyncConfig(
                        client_cert=out / "kiosk.pem",
                        client_key=out / "kiosk.key",
                        ca_cert=out / "ca.pem",
                    ),
                )
            )
        env = {**os.environ, "KIOSK_SERVER_DATABASE_SCHEMA": schema}
        process = subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli.main", "--log-level", "WARNING", "server",
             "--data-dir", str(config.data_dir), "--db", args.db, "run", "--port", str(port)],
            env=env,
        )  # fmt: skip
        url = f"https://127.0.0.1:{port}"
        _wait_healthy(url, ssl_context(kiosks[0][1]), process)
        now = datetime.now(UTC) - timedelta(minutes=1)
        latencies: list[float] = []
        errors: list[str] = []
        barrier = threading.Barrier(args.clients + 1)
        threads = []
        for name, sync in kiosks:
            payloads = [_payload(name, i, now) for i in range(args.requests * args.batch)]
            batches = [payloads[i : i + args.batch] for i in range(0, len(payloads), args.batch)]
            thread = threading.Thread(
                target=_client,
                args=(url, sync, batches, latencies, errors, barrier),
                name=f"kiosk-bench-{name}",
            )
            thread.start()
            threads.append(thread)
        barrier.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        with state.database.sessions() as session:
            stored = int(session.scalar(select(func.count()).select_from(ReceivedDecisionRow)) or 0)
        state.database.close()
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else 0.0
    return {
        "decisions_per_s": round(stored / elapsed, 1) if elapsed else 0.0,
        "latency_ms_p99": round(p99 * 1000, 2),
        "latency_ms_median": round(statistics.median(ordered) * 1000, 2) if ordered else 0.0,
        "clients": args.clients,
        "batch": args.batch,
        "requests": len(latencies),
        "decisions_stored": stored,
        "errors": len(errors),
        "seconds": round(elapsed, 3),
        "database": "postgresql",
        "transport": "https, mutual TLS",
    }
