"""A database that accepts connections and never answers (a local TCP listener standing in
for a partitioned PostgreSQL): requests get 503 with no traceback once the connect timeout
passes, a full pool is 503 too, and /healthz answers within its deadline."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator

import httpx
import pytest

from kiosk.storage.recorder import decision_payload
from kiosk.sync.client import ssl_context
from server.database import DatabaseTimeouts, ServerDatabase, create_server_engine
from server.runner import ServerThread

pytestmark = pytest.mark.postgres


class Blackhole:
    """Accepts TCP connections and never sends a byte."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def blackhole() -> Iterator[Blackhole]:
    hole = Blackhole()
    try:
        yield hole
    finally:
        hole.close()


def test_a_stalled_database_gives_503_and_a_prompt_healthz(
    server_setup, blackhole, decided, caplog, kiosk_config_factory, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN the running server's database replaced by the blackhole (connect timeout 2 s, a
    # pool of one with a 0.5 s wait)
    state = server_setup.state
    real = state.database
    state.database = ServerDatabase(
        create_server_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{blackhole.port}/test",
            pool_size=1,
            timeouts=DatabaseTimeouts(connect_s=2, statement_s=2, pool_s=0.5),
        )
    )
    state.config.health_timeout_s = 0.5
    cert = server_setup.credentials
    try:
        with ServerThread(server_setup.config, state=state) as server:
            sync = kiosk_config_factory(server_setup, tmp_path / "k", server.url).sync
            kiosk = httpx.Client(base_url=server.url, verify=ssl_context(sync), timeout=30)
            batch = {"items": [decision_payload(decided(1, server_setup.device))]}
            caplog.clear()
            results: list[int] = []

            def post() -> None:
                results.append(kiosk.post("/v1/kiosk/decisions", json=batch).status_code)

            # WHEN kiosks post while every connection attempt hangs
            posters = [threading.Thread(target=post) for _ in range(4)]
            for poster in posters:
                poster.start()
            # AND /healthz is asked meanwhile, with a client deadline far below the time
            # the database takes to fail (the posts are still waiting for it)
            context = ssl.create_default_context(cafile=str(cert / "ca.pem"))
            health = httpx.get(f"{server.url}/healthz", verify=context, timeout=5)
            for poster in posters:
                poster.join(60)
            kiosk.close()
    finally:
        state.close()
        state.database = real
    # THEN /healthz said the database is unreachable without waiting for it
    assert health.status_code == 200 and health.json()["database"] == "unreachable"
    # AND every post is a 503 (connect timeout or pool timeout), never a 500
    assert results == [503] * 4
    # AND no traceback was logged
    assert not [record for record in caplog.records if record.exc_info]
    assert any("database unavailable" in record.getMessage() for record in caplog.records)
