"""Two ``kiosk server run`` processes behind HAProxy (TCP mode, TLS passed through) on the
session's PostgreSQL schema, and what each process's own ``/metrics`` says it served."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any

import httpx

from kiosk.bench.region import BALANCER_SOURCE, Balancer, ServerProcess


class Region:
    def __init__(self, setup: Any, directory: Path, settings: dict[str, str] | None = None) -> None:
        """``settings``: more ``KIOSK_SERVER_...`` environment settings of both processes."""
        ca = setup.credentials / "ca.pem"
        self.servers = [
            ServerProcess(
                setup.config.data_dir,
                setup.config.database,
                setup.config.database_schema,
                ca,
                directory / f"server-{i}.log",
                proxy_protocol_from=BALANCER_SOURCE,
                settings=settings,
            )  # fmt: skip
            for i in range(2)
        ]
        # as deployed: HAProxy sends PROXY v2 headers, the servers take the client from them
        self.balancer = Balancer([s.port for s in self.servers], directory, send_proxy=True)

    def start(self) -> Region:
        for server in self.servers:
            server.start()
        self.balancer.start()
        return self

    def stop(self) -> None:
        self.balancer.stop()
        for server in self.servers:
            server.stop()


def login_from(url: str, ca: Path, source: str, user: str, password: str) -> httpx.Response:
    """One login attempt from the local address ``source`` on a connection of its own (the
    balancer sends each connection to the next process)."""
    context = ssl.create_default_context(cafile=str(ca))
    transport = httpx.HTTPTransport(local_address=source, verify=context)
    with httpx.Client(transport=transport, timeout=60) as client:
        return client.post(f"{url}/v1/auth/token", json={"username": user, "password": password})


def metric(server: ServerProcess, ca: Path, name: str, labels: str = "") -> float:
    """The sum of ``name{labels...}`` on one process's /metrics (loopback reads them)."""
    context = ssl.create_default_context(cafile=str(ca))
    text = httpx.get(f"https://127.0.0.1:{server.port}/metrics", verify=context).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith((name + "{", name + " ")) and labels in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def closed_by_peer(sock: socket.socket | ssl.SSLSocket, limit_s: float = 60.0) -> bool:
    """Wait (up to ``limit_s``: an upper bound for a hang, not a measurement) for the other
    end (a server process or the balancer) to close the connection."""
    sock.settimeout(limit_s)
    try:
        return sock.recv(1) == b""
    except (ssl.SSLError, ConnectionError):
        return True
    except TimeoutError:
        return False
