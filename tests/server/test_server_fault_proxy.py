"""GIVEN a fault-injecting TCP proxy between kiosk and server (connections reset, answers
lost after the server stored the batch, stalls past the client's timeout, HTTP 500 answers)
WHEN the relay sends 500 transactions through it THEN exactly the 500 arrive, once each."""

from __future__ import annotations

import random
import socket
import ssl
import struct
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kiosk.storage import outbox
from kiosk.storage.recorder import record_transaction
from kiosk.sync.backoff import Backoff
from kiosk.sync.client import ServerClient
from kiosk.sync.relay import OutboxRelay
from models.server_tables import ReceivedDecisionRow

pytestmark = pytest.mark.postgres

FAULTS = ("pass", "reset", "lose_answer", "stall", "http500")


class FaultProxy:
    """Loopback TCP proxy injecting faults.

    A connection is either answered ``http500`` by the proxy itself (it terminates TLS with
    a certificate of the device CA, as a broken load balancer would), or forwarded; on a
    forwarded connection each request (a client burst over 2 kB after the handshake) gets a
    fault: ``pass``, ``reset`` (dropped before the server sees it), ``lose_answer`` (the
    server stores the batch, its answer is dropped) or ``stall`` (no answer before the
    client's timeout)."""

    REQUEST_FAULTS = ("pass", "reset", "lose_answer", "stall")
    REQUEST_WEIGHTS = (45, 15, 25, 15)

    def __init__(self, upstream: tuple[str, int], tls_context: ssl.SSLContext, seed: int) -> None:
        self.upstream = upstream
        self.tls_context = tls_context
        self.rng = random.Random(seed)
        self.counts = dict.fromkeys(FAULTS, 0)
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, name="kiosk-test-proxy")

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def __enter__(self) -> FaultProxy:
        self._accept.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._accept.join(5)
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def _draw(self, faults: tuple[str, ...], weights: tuple[int, ...]) -> str:
        with self._lock:
            fault = self.rng.choices(faults, weights)[0]
            self.counts[fault] += 1
            return fault

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._handle, args=(client,), name="kiosk-proxy-conn")
            thread.start()
            self._threads.append(thread)

    def _handle(self, client: socket.socket) -> None:
        with client:
            with self._lock:
                answer_500 = self.rng.random() < 0.15
            if answer_500:
                with self._lock:
                    self.counts["http500"] += 1
                self._answer_500(client)
                return
            with socket.create_connection(self.upstream) as server:
                self._pipe(client, server)

    def _answer_500(self, client: socket.socket) -> None:
        try:
            with self.tls_context.wrap_socket(client, server_side=True) as tls:
                tls.settimeout(2)
                tls.recv(65536)
                tls.sendall(
                    b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n"
                    b"connection: close\r\n\r\n"
                )
        except (OSError, ssl.SSLError):
            pass

    def _pipe(self, client: socket.socket, server: socket.socket) -> None:
        client.settimeout(0.02)
        server.settimeout(0.02)
        fault: str | None = None  # of the request in flight
        deadline = time.monotonic() + 20
        while not self._stop.is_set() and time.monotonic() < deadline:
            for source, target, upstream in ((client, server, True), (server, client, False)):
                try:
                    data = source.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                if upstream and fault is None and len(data) > 2000:
                    fault = self._draw(self.REQUEST_FAULTS, self.REQUEST_WEIGHTS)
                    if fault == "reset":
                        client.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                        return
                    if fault == "stall":
                        self._stop.wait(1.5)  # longer than the client's timeout
                        return
                if not upstream and fault == "lose_answer":
                    return  # the server has stored the batch; its answer is lost
                try:
                    target.sendall(data)
                except OSError:
                    return
                if not upstream:
                    fault = None  # the answer is on its way: the next burst is a new request


def test_faults_between_kiosk_and_server_change_nothing_in_what_arrives(
    server_setup, running_server, kiosk_database, decided, kiosk_config_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN 500 decided transactions and a proxy that breaks a good part of the connections
    count = 500
    for index in range(count):
        record_transaction(kiosk_database, decided(index, server_setup.device))
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert, key = server_setup.state.ca.server_credentials(["127.0.0.1"])
    tls.load_cert_chain(str(cert), str(key))
    with FaultProxy(("127.0.0.1", running_server.port), tls, seed=8) as proxy:
        config = kiosk_config_factory(
            server_setup, tmp_path / "k", f"https://127.0.0.1:{proxy.port}", timeout_s=1.0
        )
        # WHEN the relay runs through it until the outbox is empty
        with ServerClient(config.sync) as client:
            relay = OutboxRelay(kiosk_database, client, batch_size=50, backoff=Backoff(0.01, 0.1))
            deadline = time.monotonic() + 60
            duplicates = 0
            while time.monotonic() < deadline:
                duplicates += relay.drain().duplicates
                with kiosk_database.read() as session:
                    if outbox.backlog(session) == 0:
                        break
                time.sleep(0.05)
    # THEN every fault happened, and the server has each transaction exactly once
    assert all(proxy.counts[fault] > 0 for fault in FAULTS), proxy.counts
    with kiosk_database.read() as session:
        assert outbox.backlog(session) == 0
    with server_setup.state.database.sessions() as session:
        ids = session.scalars(
            select(ReceivedDecisionRow.transaction_id).where(
                ReceivedDecisionRow.kiosk_id == server_setup.device
            )
        ).all()
        total = session.scalar(
            select(func.count())
            .select_from(ReceivedDecisionRow)
            .where(ReceivedDecisionRow.kiosk_id == server_setup.device)
        )
    assert sorted(ids) == [f"{server_setup.device}-{i:06d}" for i in range(count)]
    assert total == count
    assert duplicates > 0  # answers were lost after storing, and the resends changed nothing
