"""The actors of ``kiosk bench server``: kiosks (decisions with referrals, heartbeats, list
deltas), booths on live updates (LISTEN/NOTIFY, then the open queue), an administrator
publishing list changes, and the attackers of issue 14 (a login flood; idle TLS
connections). Each records what it measured per phase; nothing is computed instead."""

from __future__ import annotations

import json
import random
import socket
import ssl
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

PASSWORD_GUESS = "not the password" * 2
JSON = {"content-type": "application/json"}


@dataclass
class Phase:
    """The phase the load is in ("warmup", "baseline", "attack"), shared by every actor."""

    name: str = "warmup"
    stop: threading.Event = field(default_factory=threading.Event)


PHASES = ("warmup", "baseline", "attack", "after")


class SharedPhase:
    """:class:`Phase` across processes: the phase's number in a shared integer
    (``multiprocessing.Value``) and ``stop`` a multiprocessing event."""

    def __init__(self, number: Any, stop: Any) -> None:
        self._number = number
        self.stop = stop

    @property
    def name(self) -> str:
        return PHASES[int(self._number.value)]

    @name.setter
    def name(self, value: str) -> None:
        self._number.value = PHASES.index(value)


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    decisions: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    statuses: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def record(self, key: str, seconds: float | None = None, *, status: int | None = None,
               decisions: int = 0) -> None:  # fmt: skip
        with self.lock:
            if seconds is not None:
                self.latencies[key].append(seconds)
            if status is not None:
                self.statuses[f"{key}:{status}"] += 1
            self.decisions[key] += decisions


def decision(kiosk: str, index: int, now: datetime) -> dict[str, Any]:
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
        "document": {"doc_type": "P", "issuer": "UTO", "nationality": "UTO",
                     "expiry_date": "2031-01-01", "number_token": "ab" * 32, "chip_read": True},
        "checks": [
            {"name": "sod_signature", "status": "passed", "reason": None, "message": ""},
            {"name": "face_match", "status": "failed" if refer else "passed", "reason": None,
             "message": ""},
        ],
        "referral": {"status": "open", "surname": "X", "given_names": "Y", "birth_date": None}
        if refer else None,
        "timings_ms": {"chip": 800.0, "face": 1200.0},
    }  # fmt: skip


def kiosk_address(number: int) -> str:
    """The loopback address of kiosk ``number``: each kiosk is a machine of its own, as
    the balancer's per-address limits see it (127.0.2.1, ...; 127.0.3.1 after 250)."""
    return f"127.0.{2 + number // 250}.{1 + number % 250}"


def kiosk(url: str, name: str, context: ssl.SSLContext, batch: int, interval_s: float,
          phase: Phase, stats: Stats, source: str | None = None) -> None:  # fmt: skip
    """A batch of decisions every ``interval_s`` (from a random offset, so that kiosks do not
    march in step; at once when the previous answer came late); a heartbeat every 5th
    batch, a watchlist delta every 10th; from the address ``source``."""
    now = datetime.now(UTC) - timedelta(minutes=1)
    index = 0
    since = 0
    due = time.monotonic() + random.uniform(0, interval_s)
    transport = httpx.HTTPTransport(verify=context, local_address=source)
    with httpx.Client(base_url=url, transport=transport, timeout=30) as client:
        while not phase.stop.wait(max(0.0, due - time.monotonic())):
            due += interval_s
            items = [decision(name, index + k, now) for k in range(batch)]
            index += batch
            # encoded before the clock starts: the latency is the server's, from sending
            body = json.dumps({"items": items}).encode("utf-8")
            key = phase.name
            began = time.perf_counter()
            try:
                answer = client.post("/v1/kiosk/decisions", content=body, headers=JSON)
            except httpx.HTTPError:
                stats.record(key, time.perf_counter() - began, status=0)
                continue
            accepted = int(answer.json().get("accepted", 0)) if answer.status_code == 200 else 0
            stats.record(key, time.perf_counter() - began, status=answer.status_code,
                         decisions=accepted)  # fmt: skip
            rounds = index // batch
            try:
                if rounds % 5 == 0:
                    client.post("/v1/kiosk/heartbeat", json={
                        "sent_at": datetime.now(UTC).isoformat(), "status": "ok"})  # fmt: skip
                if rounds % 10 == 0:
                    delta = client.get("/v1/kiosk/lists/watchlist", params={"since": since})
                    if delta.status_code == 200:
                        since = int(delta.json().get("version", since))
            except httpx.HTTPError:
                pass


def kiosks(url: str, credentials: list[tuple[int, str, str, str, str]], batch: int,
           interval_s: float, number: Any, stop: Any, ready: Any,
           results: Any) -> None:  # fmt: skip
    """Kiosks in a process of their own (kiosks are other machines; one interpreter for
    all 200 of them measured its own lock waits as the server's latency): one thread per
    kiosk, ``credentials`` (number, name, certificate, key, CA files); the phase from
    ``number`` and ``stop`` (:class:`SharedPhase`); ``ready`` (a queue) hears when every
    kiosk thread runs; what they measured goes to ``results``."""
    from pathlib import Path

    from kiosk.config import SyncConfig
    from kiosk.sync.client import ssl_context

    phase = SharedPhase(number, stop)
    stats = Stats()
    threads = []
    for number, name, cert, key, ca in credentials:
        sync = SyncConfig(client_cert=Path(cert), client_key=Path(key), ca_cert=Path(ca))
        context = ssl_context(sync)
        threads.append(threading.Thread(
            target=kiosk, name=f"bench-{name}",
            args=(url, name, context, batch, interval_s, phase, stats, kiosk_address(number)),
        ))  # fmt: skip
    for thread in threads:
        thread.start()
    ready.put(len(threads))
    for thread in threads:
        thread.join()
    results.put((dict(stats.latencies), dict(stats.decisions), dict(stats.statuses)))


def booth(url: str, token: str, context: ssl.SSLContext, subscriber: Any, phase: Phase,
          stats: Stats) -> None:  # fmt: skip
    """On every live update (LISTEN/NOTIFY), fetch the open queue as a live wall does."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, verify=context, timeout=30, headers=headers) as client:
        while not phase.stop.is_set():
            if not list(subscriber.notifications(timeout_s=0.5)):
                continue
            began = time.perf_counter()
            try:
                answer = client.get("/v1/referrals", params={"limit": 50})
            except httpx.HTTPError:
                continue
            stats.record(f"booth-{phase.name}", time.perf_counter() - began,
                         status=answer.status_code)  # fmt: skip


def administrator(url: str, token: str, context: ssl.SSLContext, phase: Phase) -> None:
    """A watchlist change every 2 s: the list deltas the kiosks pull."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, verify=context, timeout=30, headers=headers) as client:
        number = 0
        while not phase.stop.wait(2.0):
            number += 1
            change = {"op": "upsert", "key": f"bench-{number}",
                      "data": {"surname": "DOE", "given_names": "J"}}  # fmt: skip
            try:
                client.post("/v1/admin/lists/watchlist", json={"changes": [change]})
            except httpx.HTTPError:
                pass


def login_flood(url: str, context: ssl.SSLContext, source: str, attacking: threading.Event,
                phase: Phase, stats: Stats) -> None:  # fmt: skip
    """Attack 1: wrong passwords for made-up names, back to back, while attacking, from
    the address ``source``."""
    transport = httpx.HTTPTransport(verify=context, local_address=source)
    with httpx.Client(base_url=url, transport=transport, timeout=30) as client:
        while not phase.stop.is_set():
            if not attacking.wait(0.2):
                continue
            name = f"guess-{uuid.uuid4().hex[:8]}"
            try:
                answer = client.post(
                    "/v1/auth/token", json={"username": name, "password": PASSWORD_GUESS}
                )
                stats.record("login-flood", status=answer.status_code)
            except httpx.HTTPError:
                stats.record("login-flood", status=0)


def idle_connections(host: str, port: int, context: ssl.SSLContext, count: int,
                     sources: list[str], attacking: threading.Event, phase: Phase,
                     stats: Stats) -> None:  # fmt: skip
    """Attack 2: keep ``count`` TLS connections open that never send a request (each from
    the next of ``sources``); reopen those closed (by the server or the balancer)."""
    turn = 0
    held: list[ssl.SSLSocket] = []
    while not phase.stop.is_set():
        if not attacking.wait(0.2):
            continue
        alive = []
        for sock in held:
            try:
                sock.setblocking(False)
                closed = sock.recv(1) == b""
            except (ssl.SSLWantReadError, BlockingIOError):
                closed = False
            except OSError:
                closed = True
            if closed:
                sock.close()
                stats.record("idle-closed-by-server", status=1)
            else:
                alive.append(sock)
        held = alive
        for _ in range(min(50, count - len(held))):  # then look again for closed ones
            try:
                turn += 1
                source = (sources[turn % len(sources)], 0)
                raw = socket.create_connection((host, port), timeout=5, source_address=source)
                held.append(context.wrap_socket(raw, server_hostname=host))
                stats.record("idle-opened", status=1)
            except OSError:
                stats.record("idle-open-failed", status=1)
                break
        phase.stop.wait(0.5)
    for sock in held:
        sock.close()


def attackers(url: str, host: str, port: int, ca: str, flood: int, idle: int,
              sources: list[str], start: Any, stop: Any, results: Any) -> None:  # fmt: skip
    """The attacks in a process of their own (attackers are other machines; here they must
    not compete for the measuring process's interpreter lock), from the loopback addresses
    ``sources`` (other machines than the kiosks'): from ``start`` until ``stop``
    (multiprocessing events); the answers counted go to ``results`` (a queue)."""
    context = ssl.create_default_context(cafile=ca)
    phase = Phase(name="attack")
    stats = Stats()
    attacking = threading.Event()
    threads = [
        threading.Thread(target=login_flood, args=(url, context, sources[n % len(sources)],
                                                   attacking, phase, stats))
        for n in range(flood)
    ] + [
        threading.Thread(target=idle_connections,
                         args=(host, port, context, idle // 4, sources, attacking, phase,
                               stats))
        for _ in range(4)
    ]  # fmt: skip
    for thread in threads:
        thread.start()
    start.wait()
    attacking.set()
    stop.wait()
    phase.stop.set()
    for thread in threads:
        thread.join(60)
    results.put(dict(stats.statuses))
