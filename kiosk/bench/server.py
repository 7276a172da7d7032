"""``kiosk bench server``: the mixed load of a region on the real server.

Server processes (``kiosk server run``, mutual TLS) on one PostgreSQL schema behind HAProxy
(TCP mode, TLS passed through, PROXY v2 headers) as deployed (docs/OPERATOR.md section 9):
``--processes`` ingestion processes (``serves = "kiosks"``) behind the kiosk port and
``--people-processes`` (``serves = "people"``, ``--people-niceness`` lower priority) behind
the people port; both ports close a connection without a TLS ClientHello and limit each
client address (``--no-source-limits`` to measure without). ``--people-processes 0``: one
port, every process serves everything. Without HAProxy the bench refuses to run: install
it, ``packaging/bootstrap.sh`` does. Then, at once:

- ``--kiosks`` simulated kiosks posting decisions (one in five referred) in batches of
  ``--batch`` every ``--interval`` seconds (200 x 50 / 8 s offer 1,250 decisions/s), a
  heartbeat every 5th batch and a watchlist delta every 10th; in ``--generators``
  processes of their own, each kiosk from a loopback address of its own, the latency
  clock started once the request's body is encoded;
- ``--booths`` booths on live updates (people port): each holds a LISTEN on the referrals
  channel and fetches the open queue on every notification;
- an administrator publishing a watchlist change every 2 s;
- for the second half (``--seconds`` each), the attacks of issue 14, from
  ``--attack-sources`` addresses of their own: a login flood of ``--flood`` clients with
  wrong passwords on the people port, and ``--idle`` TLS connections to the kiosk port
  that never send a request (reopened when closed).

``decisions_per_s`` is what the kiosks got accepted per second before the attacks,
``latency_ms_p99`` their request latency then, ``under_attack_latency_ms_p99`` with the
attacks running (what kiosks send while the attackers wind down counts in neither).
Every figure is measured; the schema is dropped after."""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import resource
import shutil
import ssl
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, text

from kiosk.bench import regional_load as load
from kiosk.bench.region import BALANCER_SOURCE, HAPROXY, Balancer, ServerProcess, SourceLimits

DEFAULT_DB = os.environ.get(
    "KIOSK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "bench password 0123456789"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=DEFAULT_DB, help="PostgreSQL URL (a schema is created)")
    parser.add_argument("--processes", type=int, default=2, help="kiosk server processes")
    parser.add_argument(
        "--people-processes", type=int, default=1,
        help="server processes behind the people port (logins, booths); 0: one port, every "
        "process serves everything",
    )  # fmt: skip
    parser.add_argument(
        "--people-niceness", type=int, default=5,
        help="added to the people processes' niceness (a unit's Nice=)",
    )  # fmt: skip
    parser.add_argument("--generators", type=int, default=4, help="kiosk load processes")
    parser.add_argument("--kiosks", type=int, default=200, help="simulated kiosks")
    parser.add_argument("--booths", type=int, default=20, help="booths on live updates")
    parser.add_argument("--batch", type=int, default=50, help="decisions per request")
    parser.add_argument(
        "--interval", type=float, default=8.0, help="seconds between a kiosk's batches"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="each phase's length")
    parser.add_argument("--flood", type=int, default=40, help="login flood clients")
    parser.add_argument("--idle", type=int, default=1000, help="idle TLS connections")
    parser.add_argument(
        "--attack-sources", type=int, default=1,
        help="loopback addresses the attacks come from (127.0.1.1 ...; the kiosks: 127.0.0.1)",
    )  # fmt: skip
    parser.add_argument(
        "--no-source-limits", action="store_true",
        help="no per-address connection limits at the balancer",
    )  # fmt: skip


def _p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000, 1)


DECISIONS_ROUTE = 'route="/v1/kiosk/decisions"'


def _buckets(servers: list[ServerProcess], context: ssl.SSLContext) -> dict[float, float]:
    """The servers' own latency histogram of the decisions endpoint (cumulative counts per
    upper bound, summed over the processes), read from their /metrics."""
    counts: dict[float, float] = {}
    for server in servers:
        url = f"https://127.0.0.1:{server.port}/metrics"
        for line in httpx.get(url, verify=context, timeout=30).text.splitlines():
            if line.startswith("kiosk_server_request_seconds_bucket") and DECISIONS_ROUTE in line:
                bound = line.split('le="', 1)[1].split('"', 1)[0]
                upper = float("inf") if bound == "+Inf" else float(bound)
                counts[upper] = counts.get(upper, 0.0) + float(line.rsplit(" ", 1)[1])
    return counts


def _server_p99_bound(before: dict[float, float], after: dict[float, float]) -> float | None:
    """The histogram bound (ms) under which 99 % of the phase's requests were served."""
    bounds = sorted(after)
    total = after.get(float("inf"), 0.0) - before.get(float("inf"), 0.0)
    if total <= 0:
        return None
    for upper in bounds:
        if after[upper] - before.get(upper, 0.0) >= 0.99 * total:
            return None if upper == float("inf") else upper * 1000
    return None


def _raise_file_limit() -> None:
    """The soft file limit up to the hard one (as the unit's LimitNOFILE does)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


def _merge(stats: load.Stats, measured: tuple[dict[str, Any], ...]) -> None:
    """What a kiosk load process measured, into ``stats``."""
    latencies, decisions, statuses = measured
    for key, values in latencies.items():
        stats.latencies[key].extend(values)
    for key, count in decisions.items():
        stats.decisions[key] += count
    for key, count in statuses.items():
        stats.statuses[key] += count


def _token(url: str, context: ssl.SSLContext, name: str) -> str:
    """Log in as a booth would: a 503 (every login slot busy: the login gate admits a few
    a second) is retried after its Retry-After."""
    for _ in range(60):
        answer = httpx.post(f"{url}/v1/auth/token", json={"username": name, "password": PASSWORD},
                            verify=context, timeout=30)  # fmt: skip
        if answer.status_code != 503:
            break
        time.sleep(float(answer.headers.get("retry-after", "1")))
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def run(args: argparse.Namespace) -> dict[str, Any]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.audit.signing import public_key_pem
    from models.server_tables import ReceivedDecisionRow
    from server.accounts import add_user, enrol_device, write_device_credentials
    from server.app import build_state
    from server.config import ServerConfig
    from server.notify import Subscriber
    from server.security.tokens import Role

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    _raise_file_limit()  # 1,000 idle connections and 200 kiosks, here and in the servers
    if shutil.which(HAPROXY) is None and not Path(HAPROXY).exists():
        raise SystemExit("kiosk bench server: haproxy is not installed (packaging/bootstrap.sh)")
    schema = f"kiosk_bench_{uuid.uuid4().hex[:10]}"
    admin_engine = create_engine(args.db)
    with admin_engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    work = Path(tempfile.mkdtemp(prefix="kiosk-bench-server-"))
    servers: list[ServerProcess] = []
    balancer: Balancer | None = None
    subscribers: list[Any] = []
    phase = load.Phase()
    stats = load.Stats()
    threads: list[threading.Thread] = []
    state = None
    phase_stop: Any = None
    try:
        config = ServerConfig(data_dir=work / "server", database_url=args.db,
                              database_schema=schema, port=0)  # fmt: skip
        state = build_state(config)
        print(f"enrolling {args.kiosks} kiosks ...", flush=True)
        credentials: list[tuple[int, str, str, str, str]] = []
        for number in range(args.kiosks):
            name = f"bench-kiosk-{number:03d}"
            key = public_key_pem(Ed25519PrivateKey.generate().public_key())
            enrolled = enrol_device(state.database, state.ca, name, days=2,
                                    audit_public_key_pem=key)  # fmt: skip
            out = work / "kiosks" / name
            write_device_credentials(enrolled, out, "")
            credentials.append(
                (number, name, str(out / "kiosk.pem"), str(out / "kiosk.key"), str(out / "ca.pem"))
            )
        for role, count in ((Role.OFFICER, args.booths), (Role.ADMINISTRATOR, 1)):
            for number in range(count):
                add_user(state.database, f"bench-{role.value}-{number}", role, PASSWORD)
        ca = config.ca_dir / "device-ca.pem"
        people = ssl.create_default_context(cafile=str(ca))
        print(f"starting {args.processes}+{args.people_processes} server processes and "
              "haproxy ...", flush=True)  # fmt: skip
        split = args.people_processes > 0
        kiosk_servers = [
            ServerProcess(config.data_dir, args.db, schema, ca, work / f"server-{i}.log",
                          proxy_protocol_from=BALANCER_SOURCE,
                          settings={"KIOSK_SERVER_SERVES": "kiosks"} if split else None)
            for i in range(args.processes)
        ]  # fmt: skip
        people_servers = [
            ServerProcess(config.data_dir, args.db, schema, ca, work / f"people-{i}.log",
                          proxy_protocol_from=BALANCER_SOURCE,
                          settings={"KIOSK_SERVER_SERVES": "people"},
                          niceness=args.people_niceness)
            for i in range(args.people_processes)
        ]  # fmt: skip
        servers = kiosk_servers + people_servers
        for server in servers:
            server.start()
        limits = None if args.no_source_limits else SourceLimits()
        balancer = Balancer([server.port for server in kiosk_servers], work, send_proxy=True,
                            people=[server.port for server in people_servers],
                            per_source=limits).start()  # fmt: skip
        url, people_url = balancer.url, balancer.people_url

        def actor(target: Any, name: str, *actor_args: Any) -> None:
            threads.append(threading.Thread(target=target, name=name, args=actor_args))

        spawn = multiprocessing.get_context("spawn")
        phase_number, phase_stop = spawn.Value("i", 0), spawn.Event()
        shared_phase = load.SharedPhase(phase_number, phase_stop)
        kiosk_results, kiosks_ready = spawn.Queue(), spawn.Queue()
        generators = [
            spawn.Process(
                target=load.kiosks, name=f"bench-kiosks-{number}",
                args=(url, credentials[number :: args.generators], args.batch, args.interval,
                      phase_number, phase_stop, kiosks_ready, kiosk_results),
            )
            for number in range(args.generators)
        ]  # fmt: skip
        for number in range(args.booths):
            token = _token(people_url, people, f"bench-officer-{number}")
            subscriber = Subscriber(state.database, ["referrals"])
            subscribers.append(subscriber)
            actor(load.booth, f"bench-booth-{number}", people_url, token, people, subscriber,
                  phase, stats)  # fmt: skip
        admin_token = _token(people_url, people, "bench-administrator-0")
        actor(load.administrator, "bench-admin", people_url, admin_token, people, phase)
        attack_start, attack_stop, attack_results = spawn.Event(), spawn.Event(), spawn.Queue()
        # the flood goes where logins are served; the idle connections to the kiosk port
        # (what locked the kiosks out in issue 14)
        attacker = spawn.Process(
            target=load.attackers, name="bench-attackers",
            args=(people_url, "127.0.0.1", balancer.port, str(ca), args.flood, args.idle,
                  [f"127.0.1.{n + 1}" for n in range(args.attack_sources)],
                  attack_start, attack_stop, attack_results),
        )  # fmt: skip
        attacker.start()
        for generator in generators:
            generator.start()
        for thread in threads:
            thread.start()
        for _ in generators:
            kiosks_ready.get(timeout=300)  # every kiosk thread running
        phase.stop.wait(3.0)  # warm-up: connections made, caches filled
        print(f"baseline for {args.seconds:.0f} s ...", flush=True)
        histograms = [_buckets(servers, people)]
        phase.name = shared_phase.name = "baseline"
        began = time.perf_counter()
        phase.stop.wait(args.seconds)
        baseline_s = time.perf_counter() - began
        print(f"under attack for {args.seconds:.0f} s ...", flush=True)
        histograms.append(_buckets(servers, people))
        attack_start.set()
        phase.name = shared_phase.name = "attack"
        began = time.perf_counter()
        phase.stop.wait(args.seconds)
        attack_s = time.perf_counter() - began
        # what the kiosks send while the attackers wind down is not counted in either phase
        phase.name = shared_phase.name = "after"
        histograms.append(_buckets(servers, people))
        attack_stop.set()
        stats.statuses.update(attack_results.get(timeout=120))
        attacker.join(60)
        phase.stop.set()
        phase_stop.set()
        for _ in generators:
            _merge(stats, kiosk_results.get(timeout=120))
        for generator in generators:
            generator.join(60)
        for thread in threads:
            thread.join(60)
        with state.database.sessions() as session:
            stored = int(session.scalar(select(func.count()).select_from(ReceivedDecisionRow)) or 0)
    finally:
        phase.stop.set()
        if phase_stop is not None:
            phase_stop.set()
        for subscriber in subscribers:
            subscriber.close()
        if balancer is not None:
            balancer.stop()
        for server in servers:
            server.stop()
        if state is not None:
            state.close()
        with admin_engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin_engine.dispose()
        shutil.rmtree(work, ignore_errors=True)
    accepted = sum(stats.decisions.values())
    flood = {k.split(":")[1]: v for k, v in stats.statuses.items() if k.startswith("login-flood")}
    kiosk_errors = sum(
        count
        for key, count in stats.statuses.items()
        if key.split(":")[0] in ("baseline", "attack") and key.split(":")[1] != "200"
    )
    return {
        "decisions_per_s": round(stats.decisions["baseline"] / baseline_s, 1),
        "latency_ms_p99": _p99(stats.latencies["baseline"]),
        "under_attack_latency_ms_p99": _p99(stats.latencies["attack"]),
        "under_attack_decisions_per_s": round(stats.decisions["attack"] / attack_s, 1),
        "latency_ms_median": round(statistics.median(stats.latencies["baseline"] or [0]) * 1000, 1),
        # inside the server processes (Prometheus buckets: an upper bound, not a value)
        "server_latency_ms_p99_at_most": _server_p99_bound(histograms[0], histograms[1]),
        "server_under_attack_latency_ms_p99_at_most": _server_p99_bound(
            histograms[1], histograms[2]
        ),
        "booth_latency_ms_p99": _p99(stats.latencies["booth-baseline"]),
        "booth_under_attack_latency_ms_p99": _p99(stats.latencies["booth-attack"]),
        "booth_queue_fetches": len(stats.latencies["booth-baseline"])
        + len(stats.latencies["booth-attack"]),
        "kiosk_request_errors": kiosk_errors,
        "login_flood_answers": flood,
        "idle_connections_opened": stats.statuses.get("idle-opened:1", 0),
        "idle_connections_closed_by_server": stats.statuses.get("idle-closed-by-server:1", 0),
        "idle_connections_refused": stats.statuses.get("idle-open-failed:1", 0),
        "attack_source_addresses": args.attack_sources,
        "per_source_limits": None if args.no_source_limits else vars(SourceLimits()),
        "decisions_accepted": accepted,
        "decisions_stored": stored,
        "kiosks": args.kiosks,
        "booths": args.booths,
        "server_processes": args.processes,
        "people_server_processes": args.people_processes,
        "load_generator_processes": args.generators,
        "batch": args.batch,
        "offered_decisions_per_s": round(args.kiosks * args.batch / args.interval, 1),
        "seconds_per_phase": args.seconds,
        "cpus": os.cpu_count(),
        "database": "postgresql",
        "transport": "https, mutual TLS, through haproxy (tcp mode, PROXY v2 headers, "
        + ("a kiosk port and a people port)" if args.people_processes else "one port)"),
    }
