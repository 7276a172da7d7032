"""The real client address behind HAProxy in TCP mode: PROXY protocol v2 headers.

Behind a TCP balancer every connection came from the balancer's address, so the login
throttle keyed every client on it (five failures anywhere throttled the user everywhere).
With ``send-proxy-v2`` and ``proxy_protocol_from`` the server takes the client address from
the header, from the balancer only; a header from anyone else is not believed, and a
balancer connection without one is refused. The parser is fuzzed."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from proxyprotocol.result import ProxyResultIPv4, ProxyResultIPv6, ProxyResultLocal
from proxyprotocol.v2 import ProxyProtocolV2
from sqlalchemy import select

from kiosk.bench.region import BALANCER_SOURCE, Balancer, ServerProcess
from models.server_tables import ServerAuditEventRow
from server.proxy_accept import (
    HEADER_FIXED,
    MAX_HEADER_REST,
    ProxyHeaderError,
    client_from_header,
    parse_header,
)
from server.security.tokens import Role
from tests.server.conftest import PASSWORD
from tests.server.region import login_from

PEER = ("127.0.0.2", 40000)


def _header(result: Any) -> bytes:
    return ProxyProtocolV2().pack(result)


# --- the header, as bytes -------------------------------------------------------------------


def test_an_ipv4_and_an_ipv6_header_name_the_client() -> None:
    v4 = _header(ProxyResultIPv4((IPv4Address("203.0.113.7"), 51000),
                                 (IPv4Address("10.0.0.1"), 8443)))  # fmt: skip
    v6 = _header(ProxyResultIPv6((IPv6Address("2001:db8::7"), 52000),
                                 (IPv6Address("2001:db8::1"), 8443)))  # fmt: skip
    for data, client in ((v4, ("203.0.113.7", 51000)), (v6, ("2001:db8::7", 52000))):
        # the first 16 bytes say how many follow: the reader takes those and no more
        assert parse_header(data[:HEADER_FIXED]) == len(data) - HEADER_FIXED
        assert client_from_header(data, PEER) == client


def test_a_local_header_keeps_the_balancer_address() -> None:
    assert client_from_header(_header(ProxyResultLocal()), PEER) == PEER


@pytest.mark.parametrize(
    "data",
    [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 5,  # a TLS ClientHello
        b"PROXY TCP4 203.0.113.7 10.0.0.1 1 2\r\n",  # version 1 text: not accepted
        b"\r\n\r\n\x00\r\nQUIT\n\x11\x11\x00\x0c",  # version 1 in a v2 signature
        b"\r\n\r\n\x00\r\nQUIT\n\x21\x11" + (MAX_HEADER_REST + 1).to_bytes(2, "big"),
    ],
)
def test_anything_but_a_bounded_v2_header_is_refused(data: bytes) -> None:
    with pytest.raises(ProxyHeaderError):
        parse_header(data[:HEADER_FIXED].ljust(HEADER_FIXED, b"\x00"))


@settings(max_examples=400, deadline=None)
@given(st.binary(min_size=HEADER_FIXED, max_size=200))
def test_fuzzed_headers_give_an_address_or_a_typed_error(data: bytes) -> None:
    signature = b"\r\n\r\n\x00\r\nQUIT\n"
    for candidate in (data, signature + data[len(signature) :]):
        try:
            rest = parse_header(candidate[:HEADER_FIXED])
            host, port = client_from_header(candidate[: HEADER_FIXED + rest], PEER)
        except ProxyHeaderError:
            continue
        assert isinstance(host, str) and 0 <= port <= 65535


# --- a real HAProxy in front of a real server process ---------------------------------------


@pytest.fixture
def proxied(server_setup, tmp_path: Path) -> Iterator[tuple[ServerProcess, Balancer]]:  # type: ignore[no-untyped-def]
    server = ServerProcess(
        server_setup.config.data_dir,
        server_setup.config.database,
        server_setup.config.database_schema,
        server_setup.credentials / "ca.pem",
        tmp_path / "server.log",
        proxy_protocol_from=BALANCER_SOURCE,
        # a throttle that outlasts a slow machine: the 4th guess waits a minute, not 2 s
        settings={"KIOSK_SERVER_LOGIN_DELAY_S": "60"},
    )
    balancer = Balancer([server.port], tmp_path, send_proxy=True)
    server.start()
    try:
        balancer.start()
        yield server, balancer
    finally:
        balancer.stop()
        server.stop()


def _addresses(setup: Any, user: str) -> list[str]:
    with setup.state.database.sessions() as session:
        rows = session.scalars(
            select(ServerAuditEventRow).where(ServerAuditEventRow.subject == user)
        ).all()
    return [str(row.details.get("address")) for row in rows if row.action.startswith("login.")]


@pytest.mark.postgres
def test_behind_haproxy_the_throttle_sees_each_client(server_setup, proxied) -> None:  # type: ignore[no-untyped-def]
    _server, balancer = proxied
    ca = server_setup.credentials / "ca.pem"
    officer = server_setup.user(Role.OFFICER)
    free = server_setup.config.login_free_attempts
    # GIVEN an attacker at 127.0.0.3 guessing the officer's password through the balancer
    answers = [
        login_from(balancer.url, ca, "127.0.0.3", officer, "wrong guess 0123").status_code
        for _ in range(free + 1)
    ]
    # THEN the attacker is throttled after the free attempts
    assert answers == [401] * free + [429]
    # WHEN the officer logs in from the booth at 127.0.0.4, through the same balancer
    answer = login_from(balancer.url, ca, "127.0.0.4", officer, PASSWORD)
    # THEN the officer is not throttled: the key was the attacker's address, not HAProxy's
    assert answer.status_code == 200
    # AND the audit names each client's own address, never the balancer's
    addresses = _addresses(server_setup, officer)
    assert addresses.count("127.0.0.3") == free + 1 and addresses.count("127.0.0.4") == 1
    assert BALANCER_SOURCE not in addresses


def _raw_tls(port: int, ca: Path, source: str, preamble: bytes = b"") -> str:
    """Connect from ``source`` to the server itself, send ``preamble``, then TLS; the
    address the server says it saw in a failed login's audit, or the error."""
    context = ssl.create_default_context(cafile=str(ca))
    raw = socket.create_connection(("127.0.0.1", port), timeout=15, source_address=(source, 0))
    try:
        raw.sendall(preamble)
        body = b'{"username": "nobody-x", "password": "guess12"}'
        request = (
            b"POST /v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
        )
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(request)
            return tls.recv(200).split(b"\r\n", 1)[0].decode("ascii")
    except (OSError, ssl.SSLError) as exc:
        return f"refused: {exc.__class__.__name__}"
    finally:
        raw.close()


@pytest.mark.postgres
def test_a_proxy_header_is_believed_from_the_balancer_only(server_setup, proxied) -> None:  # type: ignore[no-untyped-def]
    server, _balancer = proxied
    ca = server_setup.credentials / "ca.pem"
    forged = _header(ProxyResultIPv4((IPv4Address("198.51.100.9"), 1234),
                                     (IPv4Address("127.0.0.1"), server.port)))  # fmt: skip
    # WHEN a client that is not the balancer sends a PROXY header naming someone else
    # THEN its bytes are a broken TLS handshake: refused, and nobody is named 198.51.100.9
    assert _raw_tls(server.port, ca, "127.0.0.5", forged).startswith("refused")
    # WHEN the balancer's address connects without a header
    # THEN the connection is refused (a header is required from it)
    assert _raw_tls(server.port, ca, BALANCER_SOURCE).startswith("refused")
    # WHEN a client connects to the server directly with no header
    # THEN it is served, under its own address
    assert _raw_tls(server.port, ca, "127.0.0.5") == "HTTP/1.1 401 Unauthorized"
    assert _addresses(server_setup, "nobody-x") == ["127.0.0.5"]
