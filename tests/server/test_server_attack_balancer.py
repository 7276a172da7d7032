"""The attacks of issue 14 against the region as deployed: HAProxy (Debian, TCP mode, TLS
passed through, PROXY v2) in front of server processes, a kiosk port and a people port.

- Connections that never send a TLS ClientHello are held and closed by HAProxy; they never
  reach a server process.
- One address cannot hold more than its share of connections: the rest are closed by
  HAProxy as they are accepted, and kiosks at other addresses are served.
- A login flood on the people port while kiosks relay through the kiosk port: every batch
  is stored, the kiosk processes never see a login, and each port's processes answer only
  their own endpoints (421 for the others)."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk.bench.region import BALANCER_SOURCE, HELLO_WAIT_S, Balancer, ServerProcess, SourceLimits
from kiosk.storage.recorder import decision_payload
from kiosk.sync.client import ServerClient
from server.middleware import serves_path
from tests.server.region import closed_by_peer, metric

SILENT = 100  # connections that never send a byte
FLOOD = 40  # concurrent login-flood clients, as in issue 14
ATTACKER = "127.0.1.1"
Split = tuple[ServerProcess, ServerProcess, Balancer]


def _process(setup: Any, directory: Path, name: str, serves: str | None = None) -> ServerProcess:
    return ServerProcess(
        setup.config.data_dir,
        setup.config.database,
        setup.config.database_schema,
        setup.credentials / "ca.pem",
        directory / f"{name}.log",
        proxy_protocol_from=BALANCER_SOURCE,
        settings={"KIOSK_SERVER_SERVES": serves} if serves else None,
    )


def _connections_to(port: int) -> int:
    """Established TCP connections whose far end is ``port`` on loopback (/proc/net/tcp)."""
    wanted = f":{port:04X}"
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[2].endswith(wanted) and fields[3] == "01":  # remote address, ESTABLISHED
            count += 1
    return count


def _batch(setup: Any, decided: Any, start: int, size: int = 20) -> list[dict[str, Any]]:
    return [decision_payload(decided(start + i, setup.device)) for i in range(size)]


@pytest.fixture
def split_region(
    server_setup, tmp_path: Path
) -> Iterator[tuple[ServerProcess, ServerProcess, Balancer]]:  # type: ignore[no-untyped-def]
    """A kiosk process and a people process behind one HAProxy with two ports and the
    per-address limits of the deployed configuration."""
    kiosks = _process(server_setup, tmp_path, "kiosks", "kiosks")
    people = _process(server_setup, tmp_path, "people", "people")
    balancer = Balancer(
        [kiosks.port], tmp_path, send_proxy=True, people=[people.port], per_source=SourceLimits()
    )
    try:
        kiosks.start()
        people.start()
        balancer.start()
        yield kiosks, people, balancer
    finally:
        balancer.stop()
        kiosks.stop()
        people.stop()


def test_each_process_answers_only_its_own_endpoints() -> None:
    for path in ("/v1/kiosk/decisions", "/v1/kiosk/heartbeat", "/healthz", "/metrics"):
        assert serves_path("kiosks", path)
    for path in ("/v1/auth/token", "/v1/referrals", "/v1/admin/users", "/analyst/"):
        assert not serves_path("kiosks", path) and serves_path("people", path)
    assert not serves_path("people", "/v1/kiosk/decisions")
    assert serves_path("people", "/healthz") and serves_path("all", "/v1/kiosk/decisions")


@pytest.mark.postgres
def test_connections_without_a_client_hello_never_reach_a_server(
    server_setup, split_region, kiosk_config_factory, decided, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    kiosks, _people, balancer = split_region
    # GIVEN 100 TCP connections to the balancer's kiosk port that never send a byte (from
    # addresses of their own, under the per-address limit)
    silent = [
        socket.create_connection(
            ("127.0.0.1", balancer.port), source_address=(f"127.0.1.{1 + n % 50}", 0)
        )
        for n in range(SILENT)
    ]
    try:
        # WHEN a kiosk relays a batch through the same port (HAProxy has accepted every
        # earlier connection by the time it serves this one)
        config = kiosk_config_factory(server_setup, tmp_path / "k", balancer.url)
        with ServerClient(config.sync) as client:
            assert (
                client.post_batch("decisions", _batch(server_setup, decided, 0))["accepted"] == 20
            )
            # THEN the server process holds no connection for the silent ones: only the
            # kiosk's and the balancer's health checks
            assert _connections_to(kiosks.port) < 10
        # AND HAProxy closes each of them once it has waited for a ClientHello
        assert all(closed_by_peer(sock, HELLO_WAIT_S + 60) for sock in silent)
    finally:
        for sock in silent:
            sock.close()


@pytest.mark.postgres
def test_one_address_cannot_hold_the_kiosk_port(
    server_setup, split_region, kiosk_config_factory, decided, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    kiosks, _people, balancer = split_region
    limit = SourceLimits().connections
    context = ssl.create_default_context(cafile=str(server_setup.credentials / "ca.pem"))
    held: list[ssl.SSLSocket] = []
    refused = 0
    try:
        # WHEN one address opens half again as many TLS connections as it may hold (no
        # certificate: anyone can) and sends no request on them
        for _ in range(limit + limit // 2):
            raw = socket.create_connection(
                ("127.0.0.1", balancer.port), source_address=(ATTACKER, 0)
            )
            try:
                held.append(context.wrap_socket(raw, server_hostname="127.0.0.1"))
            except (ssl.SSLError, ConnectionError):
                raw.close()
                refused += 1
        # THEN HAProxy let at most the limit through and closed the others as it accepted
        # them (they never completed a handshake with a server process)
        assert len(held) <= limit and refused >= limit // 2
        # AND a kiosk at another address is served
        config = kiosk_config_factory(server_setup, tmp_path / "k", balancer.url)
        with ServerClient(config.sync) as client:
            assert (
                client.post_batch("decisions", _batch(server_setup, decided, 100))["accepted"] == 20
            )
        assert _connections_to(kiosks.port) <= limit + 10
    finally:
        for sock in held:
            sock.close()


def _flood(url: str, ca: Path, stop: threading.Event, answers: list[int]) -> None:
    context = ssl.create_default_context(cafile=str(ca))
    transport = httpx.HTTPTransport(verify=context, local_address=ATTACKER)
    with httpx.Client(base_url=url, transport=transport, timeout=60) as client:
        while not stop.is_set():
            try:
                answer = client.post(
                    "/v1/auth/token", json={"username": "guess-x", "password": "not it at all"}
                )
                answers.append(answer.status_code)
            except httpx.HTTPError:
                answers.append(0)


@pytest.mark.postgres
def test_a_login_flood_on_the_people_port_never_reaches_the_kiosk_processes(
    server_setup, split_region, kiosk_config_factory, decided, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    kiosks, people, balancer = split_region
    ca = server_setup.credentials / "ca.pem"
    stop = threading.Event()
    answers: list[int] = []
    flood = [
        threading.Thread(target=_flood, args=(balancer.people_url, ca, stop, answers))
        for _ in range(FLOOD)
    ]
    config = kiosk_config_factory(server_setup, tmp_path / "k", balancer.url)
    stored = sent = 0
    try:
        # GIVEN 40 clients sending wrong passwords to the people port, back to back, and
        # answered (the flood is on)
        for thread in flood:
            thread.start()
        while len(answers) < FLOOD and all(thread.is_alive() for thread in flood):
            stop.wait(0.1)
        under_way = len(answers)
        # WHEN a kiosk relays batches through the kiosk port until the flood has been
        # answered 40 more times (at least ten batches)
        with ServerClient(config.sync) as client:
            while sent < 10 or len(answers) < under_way + FLOOD:
                batch = _batch(server_setup, decided, 1000 + 20 * sent)
                stored += client.post_batch("decisions", batch)["accepted"]
                sent += 1
    finally:
        stop.set()
        for thread in flood:
            thread.join(120)
    # THEN every decision is stored once
    assert under_way >= FLOOD and stored == 20 * sent
    # AND the flood got refusals (wrong password, or no login slot), never a token
    assert answers and set(answers) <= {401, 429, 503}
    # AND no login reached a kiosk process; the people process took them all
    refused, login = "kiosk_server_auth_refused_total", 'kind="login_'
    assert metric(kiosks, ca, "kiosk_server_requests_total", 'route="/v1/auth/token"') == 0
    assert metric(kiosks, ca, refused, login) == 0
    assert metric(people, ca, refused, login) >= len([status for status in answers if status])
    assert metric(people, ca, "kiosk_server_items_total", 'kind="decision"') == 0
    # AND each port's processes refuse the other's endpoints before reading them
    context = ssl.create_default_context(cafile=str(ca))
    login = httpx.post(f"{balancer.url}/v1/auth/token", verify=context,
                       json={"username": "guess-x", "password": "not it at all"})  # fmt: skip
    assert login.status_code == 421
    with httpx.Client(verify=context) as client:
        assert client.post(f"{balancer.people_url}/v1/kiosk/decisions", json={}).status_code == 421


def _documented_haproxy_config() -> str:
    text = (Path(__file__).parents[2] / "docs" / "OPERATOR.md").read_text(encoding="utf-8")
    start = text.index("# /etc/haproxy/haproxy.cfg (excerpt)")
    return text[start : text.index("```", start)]


def test_the_documented_haproxy_configuration_is_valid_and_has_the_tested_defences(
    tmp_path: Path,
) -> None:
    import subprocess

    from kiosk.bench.region import HAPROXY, haproxy_config

    # GIVEN the configuration in docs/OPERATOR.md and the one the tests and the bench run
    documented = _documented_haproxy_config()
    tested = haproxy_config([8001, 8002], 8443, people_backends=[8003], people_port=9443,
                            send_proxy=True, per_source=SourceLimits())  # fmt: skip
    # THEN every defence line the tests run is in the documentation, on both ports
    defences = [line.strip() for line in tested.splitlines() if "tcp-request" in line]
    defences += [line.strip() for line in tested.splitlines() if "stick-table" in line]
    for line in defences:
        assert documented.count(line) == tested.count(line) == 2, line
    # AND Debian's HAProxy accepts the documented configuration
    path = tmp_path / "haproxy.cfg"
    path.write_text(documented, encoding="utf-8")
    check = subprocess.run([HAPROXY, "-c", "-f", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
