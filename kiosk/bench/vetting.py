"""``kiosk bench vetting``: PAXLST messages ingested and vetted on PostgreSQL at scale.

In a PostgreSQL schema of its own: a regional watchlist of ``--names`` people and
``--documents`` lost/stolen documents are written to the server's list tables (the kiosks'
distribution format) with COPY, ``--rules`` risk rules are stored, and the vetting lists
are loaded as the server loads them. Writing ten million documents takes minutes, so the
schema holding the lists is kept after the run, named after what it holds (sizes, seed,
a digest of the generators' output and :data:`LISTS_FORMAT`), and the next run with the
same lists reuses it: everything but the two lists is emptied before and after each run,
so every run vets on the same lists and the same empty tables. ``--fresh`` stores the
lists again; ``--drop-lists`` drops the schema after the run. Runs sharing a schema take
turns (a PostgreSQL advisory lock). Then ``--messages`` PAXLST interchanges
of ``--passengers`` travellers each (about 1 % variants of listed people, the rest
unrelated) are ingested one after the other through the same path as the endpoint: parse,
store, vet every traveller, publish the vetted manifest, all in PostgreSQL.

Before the clock starts, each server process vets ``--warm-up`` messages of its own (other
flights, other travellers; not counted): a process pays once, on its first messages, for
what it then keeps (compiled statements, caches), and the figures are those of running
server processes. Their slowest time is reported too (``warm_up_ms_max``).

Figures: ``passengers_per_s`` (every timed message, end to end), ``message_to_verdict_ms_p95``
(bytes in to every verdict stored), and ``brute_force_ratio``: the time of a brute-force
scan of every listed name with the same rapidfuzz scorer over the time of the blocked
search, for the same travellers in the same run, with the recall of the blocked search
against that scan."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import resource
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from kiosk.bench.vetting_lists import (
    ISSUERS,
    empty_run_data,
    generated_order,
    lists_schema,
    progress,
    ready,
    store_lists,
)

DEFAULT_DB = os.environ.get(
    "KIOSK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
WARM_UP_CARRIER = "ZW"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=DEFAULT_DB, help="PostgreSQL URL (a schema is created)")
    parser.add_argument("--names", type=int, default=1_000_000, help="watchlist names")
    parser.add_argument("--documents", type=int, default=10_000_000, help="lost/stolen documents")
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--messages", type=int, default=40, help="PAXLST messages timed")
    parser.add_argument("--passengers", type=int, default=300, help="travellers per message")
    parser.add_argument("--listed-share", type=float, default=0.01)
    parser.add_argument("--brute-force", type=int, default=100, help="travellers brute-forced")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--concurrency", type=int, default=1, help="messages ingested at once (threads)"
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="server processes sharing the messages"
    )
    parser.add_argument(
        "--warm-up",
        type=int,
        default=1,
        help="messages each server process vets before the clock starts (not counted)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="store the lists again even when a kept copy exists"
    )
    parser.add_argument(
        "--drop-lists", action="store_true", help="drop the schema of the lists after the run"
    )


def _rules(database: Any, count: int, rng: random.Random) -> None:
    from server.vetting import analyst
    from server.vetting.rules import Condition, RuleIn

    templates = [
        lambda: [
            Condition(fact="route", op="contains", value=rng.choice(["CCS-", "-BOG", "PTY-"]))
        ],
        lambda: [
            Condition(fact="nationality", op="in", value=rng.sample(ISSUERS, 2)),
            Condition(fact="age", op="lt", value=rng.randint(18, 25)),
        ],  # fmt: skip
        lambda: [
            Condition(fact="payment", op="in", value=["CA"]),
            Condition(fact="booking_to_departure_hours", op="lt", value=rng.randint(6, 48)),
        ],  # fmt: skip
        lambda: [
            Condition(fact="document_issuer", op="eq", value=rng.choice(ISSUERS)),
            Condition(fact="sex", op="eq", value=rng.choice("MF")),
            Condition(fact="age", op="gt", value=rng.randint(70, 90)),
        ],  # fmt: skip
        lambda: [Condition(fact="companion_hit", op="eq", value=True)],
    ]
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=90)
    with database.session() as session:
        for i in range(count):
            analyst.save_rule(
                session,
                RuleIn(
                    name=f"bench rule {i}",
                    reason="benchmark",
                    conditions=rng.choice(templates)(),
                    expires_at=expires,
                ),
                "bench",
            )


def _travellers(entries: list[Any], count: int, share: float, rng: random.Random) -> list[Any]:
    from kiosk.screening.normalise import name_tokens
    from kiosk.screening.synthetic import person, variant
    from server.vetting.generator import GeneratedTraveller

    out = []
    for i in range(count):
        listed = rng.random() < share
        query = variant(rng, rng.choice(entries)) if listed else None
        other = person(rng, i, "TRAVELLER") if query is None else None
        surname = query.surname if query else other.surname  # type: ignore[union-attr]
        given = query.given_names if query else other.given_names  # type: ignore[union-attr]
        birth = (query.birth_date if query else other.birth_date) or None  # type: ignore[union-attr]
        day = (
            dt.date(birth.year, birth.month or 1, birth.day or 1) if birth else dt.date(1980, 1, 1)
        )
        issuer = rng.choice(ISSUERS)
        out.append(
            GeneratedTraveller(
                surname=" ".join(name_tokens(surname)) or "UNKNOWN",
                given_names=" ".join(name_tokens(given)),
                birth_date=day,
                sex=rng.choice("MF"),
                nationality=issuer,
                document_number=f"B{uuid.uuid4().hex[:8].upper()}",
                issuer=issuer,
                expiry=dt.date(2031, 1, 1),
                reservation="".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(6)),
                seat=f"{rng.randint(1, 40)}{rng.choice('ABCDEF')}",
            )
        )
    return out


def _ingest_all(
    service: Any,
    messages: list[bytes],
    indexes: list[int],
    concurrency: int,
    stage: str = "message",
) -> list[tuple[float, int]]:
    """Ingest ``messages[i]`` for each of ``indexes``, ``concurrency`` at once (threads, as
    that many gateways posting to the server, each on one of its request threads): each
    message's time from bytes in to every verdict stored, and its passengers."""
    out: list[tuple[float, int]] = []
    done = threading.Lock()

    def ingest(i: int) -> None:
        begin = time.perf_counter()
        report = service.ingest(messages[i], source=f"bench-{i}", channel="cli", actor="bench")
        took = time.perf_counter() - begin
        with done:
            out.append((took, report.passengers))
            print(
                f"vetting bench: {stage} {i + 1:,} / {len(messages):,} vetted"
                f" ({took * 1000:,.0f} ms)",
                file=sys.stderr,
                flush=True,
            )

    with ThreadPoolExecutor(max_workers=max(concurrency, 1)) as pool:
        list(pool.map(ingest, indexes))
    return out


def _own_copy(lists: Any) -> int:
    """Read every field of every listed person once, so that this process holds its own
    copy of the pages they lie on. A forked process shares the parent's pages until it
    writes to them, and Python writes to an object whenever it takes a reference to it
    (its reference count): without this, the first hits on each page of entries pay for
    copying the page, which a server process that loaded its own lists never does. The
    entries read."""
    read = 0
    for index in lists.watchlist.layers:
        for entry in index.entries:
            read += bool(
                (entry.reference, entry.list_name, entry.surname, entry.given_names,
                 entry.birth_date, entry.nationality)
            )  # fmt: skip
    return read


def _in_processes(
    service: Any,
    lists: Any,
    messages: list[bytes],
    warm_up: list[list[bytes]],
    processes: int,
    concurrency: int,
) -> tuple[list[tuple[float, int]], list[float], float]:
    """The messages shared out between ``processes`` server processes, forked once the
    lists are loaded (as several server processes behind one load balancer, each with the
    lists in memory). Each process first makes the lists its own (:func:`_own_copy`) and
    vets its ``warm_up`` messages (the first messages of a process pay once for what it
    keeps: compiled statements, caches; forked, also for copying the pages those lie on);
    the clock starts when every process is ready, as a running server's processes are
    when messages arrive. Each timed message's time and passengers, each warm-up
    message's time, and the time from the start to the last message vetted."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    results = context.SimpleQueue()
    ready = context.SimpleQueue()
    start = context.Event()

    def child(k: int, indexes: list[int]) -> None:
        service.database.engine.dispose(close=False)  # the parent's connections stay its own
        try:
            _own_copy(lists)
            warmed = _ingest_all(service, warm_up[k], list(range(len(warm_up[k]))), 1, "warm-up")
            ready.put([took for took, _ in warmed])
            start.wait()
            results.put(("ok", _ingest_all(service, messages, indexes, concurrency)))
        except BaseException as exc:
            ready.put([])
            results.put(("failed", f"{exc.__class__.__name__}: {exc}"))
            raise

    workers = [
        context.Process(target=child, args=(k, list(range(k, len(messages), processes))))
        for k in range(processes)
    ]
    for worker in workers:
        worker.start()
    warm: list[float] = []
    for _ in workers:
        warm += ready.get()
    progress("server processes ready", len(workers))
    started = time.perf_counter()
    start.set()
    out: list[tuple[float, int]] = []
    failures = []
    for _ in workers:
        outcome, value = results.get()
        if outcome == "ok":
            out += value
        else:
            failures.append(value)
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join()
    if failures or any(worker.exitcode != 0 for worker in workers):
        raise RuntimeError(f"a vetting process failed: {failures}")
    return out, warm, elapsed


def run(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import create_engine, text

    from kiosk.screening.matching import PartialDate
    from kiosk.screening.watchlist import PersonQuery
    from server.database import ServerDatabase, create_server_engine
    from server.security.change_signing import ChangeSigner
    from server.vetting.config import VettingConfig
    from server.vetting.generator import GeneratedFlight, paxlst
    from server.vetting.service import VettingService

    rng = random.Random(args.seed)
    schema = lists_schema(args.names, args.documents, args.seed)
    admin = create_engine(args.db)
    # held for the whole run: another run of the same lists waits, rather than emptying
    # the tables under this one
    guard = admin.connect()
    lock = {"key": int.from_bytes(hashlib.sha256(schema.encode()).digest()[:8], "big", signed=True)}
    if not guard.execute(text("SELECT pg_try_advisory_lock(:key)"), lock).scalar():
        print(f"vetting bench: waiting for another run on {schema}", file=sys.stderr, flush=True)
        guard.execute(text("SELECT pg_advisory_lock(:key)"), lock)
    guard.commit()
    database: ServerDatabase | None = None
    result: dict[str, Any] = {}
    try:
        with admin.begin() as connection:
            reuse = not args.fresh and ready(connection, schema)
            if not reuse:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                connection.execute(text(f"CREATE SCHEMA {schema}"))
        database = ServerDatabase(
            create_server_engine(args.db, schema=schema, pool_size=max(4, args.concurrency + 2))
        )
        database.migrate()
        started = time.perf_counter()
        if reuse:
            print(f"vetting bench: lists kept in {schema} reused", file=sys.stderr, flush=True)
            with admin.begin() as connection:
                empty_run_data(connection, schema)
        else:
            store_lists(database.engine, args.names, args.documents, args.seed)
        result["lists_reused"] = reuse
        result["lists_store_s"] = round(time.perf_counter() - started, 1)
        _rules(database, args.rules, rng)
        config = VettingConfig()
        service = VettingService(database, config, b"b" * 32, ChangeSigner.generate())
        started = time.perf_counter()
        with database.sessions() as session:
            lists = service.lists(session, lambda stage, n: progress(f"{stage} loaded", n))
        result["lists_load_s"] = round(time.perf_counter() - started, 1)
        # the listed people the travellers are variants of: the loaded entries in the order
        # they were generated (their references number them), so that a run that reused the
        # lists draws the same travellers as one that stored them, and as earlier versions
        # of this benchmark did for the same seed
        entries = sorted(lists.watchlist.base.entries, key=generated_order)
        all_travellers: list[Any] = []
        messages: list[bytes] = []
        departure = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
        for i in range(args.messages):  # written before the clock starts: the hub receives them
            people = _travellers(entries, args.passengers, args.listed_share, rng)
            all_travellers += people
            plane = GeneratedFlight(
                "BW", str(100 + i), ("JFK", "POS"), departure + dt.timedelta(hours=i), tuple(people)
            )
            messages.append(paxlst(plane, reference=f"BENCH{i:06d}").encode())
        # the warm-up messages: other flights (carrier ZW), other travellers (their own
        # random draws, so the timed travellers are those of a run without warm-up)
        warm_rng = random.Random(args.seed + 1)
        warm_up: list[list[bytes]] = []
        for k in range(args.processes):
            own = []
            for w in range(args.warm_up):
                people = _travellers(entries, args.passengers, args.listed_share, warm_rng)
                plane = GeneratedFlight(
                    WARM_UP_CARRIER, str(100 + k * args.warm_up + w), ("JFK", "POS"),
                    departure, tuple(people),
                )  # fmt: skip
                own.append(paxlst(plane, reference=f"WARM{k:03d}{w:03d}").encode())
            warm_up.append(own)
        if args.processes > 1:
            vetted, warm, elapsed = _in_processes(
                service, lists, messages, warm_up, args.processes, args.concurrency
            )
        else:
            warm = [took for took, _ in _ingest_all(
                service, warm_up[0], list(range(len(warm_up[0]))), 1, "warm-up"
            )]  # fmt: skip
            total_started = time.perf_counter()
            vetted = _ingest_all(service, messages, list(range(len(messages))), args.concurrency)
            elapsed = time.perf_counter() - total_started
        latencies = [took for took, _ in vetted]
        passengers = sum(count for _, count in vetted)
        from sqlalchemy import func, select

        from models.vetting_tables import VettingFlightRow, VettingTravellerRow

        with database.sessions() as session:
            referred = int(
                session.scalar(
                    select(func.count())
                    .select_from(VettingTravellerRow)
                    .join(VettingFlightRow, VettingFlightRow.id == VettingTravellerRow.flight_id)
                    .where(
                        VettingTravellerRow.status != "cleared",
                        VettingFlightRow.carrier != WARM_UP_CARRIER,
                    )
                )
                or 0
            )
        sample = rng.sample(all_travellers, min(args.brute_force, len(all_travellers)))
        queries = [
            PersonQuery(t.surname, t.given_names, PartialDate.of(t.birth_date), t.nationality)
            for t in sample
        ]
        threshold = config.watchlist_threshold
        begin = time.perf_counter()
        blocked = lists.watchlist.search_many(queries, threshold)  # as a manifest is searched
        blocked_s = time.perf_counter() - begin
        brute_s = 0.0
        expected = found = 0
        for query, hits in zip(queries, blocked, strict=True):
            begin = time.perf_counter()
            truth = lists.watchlist.brute_force(query, threshold)
            brute_s += time.perf_counter() - begin
            want = {id(h.entry) for h in truth}
            expected += len(want)
            found += len(want & {id(h.entry) for h in hits})
        ms = np.array(latencies) * 1000
        result.update(
            {
                "names": args.names,
                "documents": args.documents,
                "rules": args.rules,
                "messages": args.messages,
                "concurrency": args.concurrency,
                "processes": args.processes,
                "passengers": passengers,
                "referred": referred,
                "passengers_per_s": round(passengers / elapsed, 1) if elapsed else None,
                "message_to_verdict_ms_p50": round(float(np.percentile(ms, 50)), 1),
                "message_to_verdict_ms_p95": round(float(np.percentile(ms, 95)), 1),
                "message_to_verdict_ms_max": round(float(ms.max()), 1),
                "warm_up_messages": len(warm),
                "warm_up_ms_max": round(max(warm) * 1000, 1) if warm else None,
                "brute_force_queries": len(queries),
                "brute_force_ratio": round(brute_s / blocked_s, 1) if blocked_s else None,
                "blocked_query_ms_mean": round(blocked_s / max(len(queries), 1) * 1000, 3),
                "brute_force_query_ms_mean": round(brute_s / max(len(queries), 1) * 1000, 1),
                "recall_expected_hits": expected,
                "recall": round(found / expected, 4) if expected else 1.0,
                "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        )
    finally:
        if database is not None:
            database.close()
        with admin.begin() as connection:
            if args.drop_lists:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            elif ready(connection, schema):
                empty_run_data(connection, schema)
            else:  # the lists were not all written: nothing worth keeping
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        guard.execute(text("SELECT pg_advisory_unlock(:key)"), lock)
        guard.close()
        admin.dispose()
    return result
