"""Idle and slow connections against the real server (uvicorn, TLS on loopback): many TLS
connections that never send a request, and TCP connections that never start TLS, do not
lock kiosks out; the server closes them (header and handshake deadlines, a connection cap
that closes the longest idle one) and rate-limits the accept-error log."""

from __future__ import annotations

import logging
import socket
import ssl
from typing import Any

import pytest

from kiosk.storage.recorder import decision_payload
from kiosk.sync.client import ServerClient
from server.connection_guard import RateLimitedLog
from server.runner import ServerThread
from tests.server.region import closed_by_peer

pytestmark = pytest.mark.postgres

IDLE_TLS = 150
IDLE_TCP = 50


def test_idle_connections_do_not_lock_kiosks_out(
    server_setup, kiosk_config_factory, decided, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN the server holding at most 100 connections, 2 s for headers and handshakes
    config = server_setup.config.model_copy(
        update={"max_connections": 100, "header_timeout_s": 2.0, "handshake_timeout_s": 2.0}
    )
    with ServerThread(config, state=server_setup.state) as server:
        host, port = "127.0.0.1", server.port
        context = ssl.create_default_context(cafile=str(server_setup.credentials / "ca.pem"))
        # WHEN 150 TLS connections (no client certificate) and 50 bare TCP connections are
        # opened and send nothing
        idle: list[Any] = []
        for _ in range(IDLE_TLS):
            raw = socket.create_connection((host, port))
            idle.append(context.wrap_socket(raw, server_hostname="127.0.0.1"))
        bare = [socket.create_connection((host, port)) for _ in range(IDLE_TCP)]
        # THEN a kiosk is still served
        kiosk = kiosk_config_factory(server_setup, tmp_path / "k", server.url)
        batch = [decision_payload(decided(i, server_setup.device)) for i in range(20)]
        with ServerClient(kiosk.sync) as client:
            assert client.post_batch("decisions", batch)["accepted"] == 20
        # AND the server closes every idle connection: the oldest at once (the cap), the
        # others at their header or handshake deadline
        assert all(closed_by_peer(sock) for sock in idle)
        assert all(closed_by_peer(sock) for sock in bare)
        for sock in idle + bare:
            sock.close()
        # AND a kiosk is served again afterwards
        with ServerClient(kiosk.sync) as client:
            assert client.post_batch("decisions", batch)["duplicates"] == 20


def test_a_slow_request_body_is_cut_off(server_setup) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a server that gives a request body 1 s
    config = server_setup.config.model_copy(update={"read_timeout_s": 1.0})
    with ServerThread(config, state=server_setup.state) as server:
        context = ssl.create_default_context(cafile=str(server_setup.credentials / "ca.pem"))
        raw = socket.create_connection(("127.0.0.1", server.port))
        sock = context.wrap_socket(raw, server_hostname="127.0.0.1")
        # WHEN a login request announces 100 bytes and sends 10
        sock.sendall(
            b"POST /v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"username"'
        )
        sock.settimeout(60)
        answer = sock.recv(200)
        sock.close()
    # THEN the server answers 408 instead of holding the connection
    assert answer.startswith(b"HTTP/1.1 408")


def test_accept_errors_are_logged_at_a_limited_rate() -> None:
    # GIVEN the filter the server puts on the asyncio logger, and a clock
    now = [0.0]
    limit = RateLimitedLog(10.0, clock=lambda: now[0])
    records = []
    # WHEN 8,000 accept errors come within two minutes
    for index in range(8000):
        now[0] = index * 0.015
        message = "socket.accept() out of system resource"
        record = logging.LogRecord("asyncio", logging.ERROR, __file__, 1, message, None, None)
        if limit.filter(record):
            records.append(record)
    # THEN about one line per 10 s is written, each saying how many were suppressed
    assert 10 <= len(records) <= 13
    assert "suppressed" in records[1].getMessage()
