"""A region on one machine, for ``kiosk bench server`` and the regional tests: server
processes (``kiosk server run``) on one PostgreSQL schema and one data directory (the same
device CA, token secret and change-signing key), and HAProxy from Debian in TCP mode passing
TLS through to them (mutual TLS ends at the server processes)."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
BALANCER_SOURCE = "127.0.0.2"  # loopback: all of 127.0.0.0/8 is local on Linux


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    ready: Callable[[], bool], what: str, process: subprocess.Popen[bytes], limit_s: float = 90
) -> None:
    """Poll ``ready`` until it holds (an event awaited, with an upper bound for a hang)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {process.returncode}")
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what}: not ready")


class ServerProcess:
    """One ``kiosk server run`` process."""

    def __init__(
        self,
        data_dir: Path,
        db_url: str,
        schema: str,
        ca: Path,
        log: Path,
        *,
        proxy_protocol_from: str | None = None,
        settings: dict[str, str] | None = None,
        niceness: int = 0,
    ) -> None:
        self.data_dir, self.db_url, self.schema = data_dir, db_url, schema
        self.niceness = niceness  # added to ours (a unit's Nice=): below the kiosk processes
        self.ca, self.log = ca, log
        self.proxy_protocol_from = proxy_protocol_from  # the balancer's address (PROXY v2)
        self.settings = dict(settings or {})  # more KIOSK_SERVER_... environment settings
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        env = {**os.environ, **self.settings, "KIOSK_SERVER_DATABASE_SCHEMA": self.schema}
        if self.proxy_protocol_from is not None:
            env["KIOSK_SERVER_PROXY_PROTOCOL_FROM"] = f'["{self.proxy_protocol_from}"]'
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*self._nice(), sys.executable, "-m", "kiosk.cli.main", "--log-level",
                 "WARNING", "server", "--data-dir", str(self.data_dir), "--db", self.db_url, "run",
                 "--port", str(self.port)],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        context = ssl.create_default_context(cafile=str(self.ca))

        def healthy() -> bool:
            try:
                url = f"https://127.0.0.1:{self.port}/healthz"
                return httpx.get(url, verify=context, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, f"server on {self.port}", self.process)
        return self

    def _nice(self) -> list[str]:
        return ["nice", "-n", str(self.niceness)] if self.niceness else []

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


HELLO_WAIT_S = 5  # how long the balancer holds a connection for its TLS ClientHello


@dataclass(frozen=True)
class SourceLimits:
    """Per client address, at the balancer: at most ``connections`` open at once and
    ``per_10s`` opened in any 10 s (a site's kiosks behind one NAT address hold one each
    and open one every few seconds); beyond either, HAProxy closes the connection as it is
    accepted, before any byte is read or a server process sees it."""

    connections: int = 100
    per_10s: int = 200


def haproxy_config(
    kiosk_backends: list[int],
    kiosk_port: int,
    *,
    people_backends: list[int] | None = None,
    people_port: int | None = None,
    send_proxy: bool = False,
    bind: str = "127.0.0.1",
    per_source: SourceLimits | None = None,
) -> str:
    """The balancer's configuration as deployed (docs/OPERATOR.md section 9): TCP mode (TLS
    passes through to the servers), a connection that has not sent a TLS ClientHello within
    ``HELLO_WAIT_S`` is closed by HAProxy and never reaches a server process; with
    ``people_backends`` a second frontend (``people_port``: logins, booths, analysts) goes
    to server processes of its own, so that the kiosk port's processes never see a login;
    with ``per_source`` each frontend limits the connections of one client address."""
    # with PROXY headers the balancer connects from an address of its own, so that a
    # direct connection to a server (a health probe, /metrics) is not taken for it
    proxy = f" send-proxy-v2 source {BALANCER_SOURCE}" if send_proxy else ""
    limits = (
        "  stick-table type ip size 100k expire 30s store conn_cur,conn_rate(10s)\n"
        "  tcp-request connection track-sc0 src\n"
        f"  tcp-request connection reject if {{ sc0_conn_cur gt {per_source.connections} }}\n"
        f"  tcp-request connection reject if {{ sc0_conn_rate gt {per_source.per_10s} }}\n"
        if per_source is not None
        else ""
    )
    hello = limits + (
        f"  tcp-request inspect-delay {HELLO_WAIT_S}s\n"
        "  tcp-request content accept if { req.ssl_hello_type 1 }\n"
        "  tcp-request content reject\n"
    )

    def backend(name: str, ports: list[int]) -> str:
        servers = "".join(
            f"  server {name}{i} 127.0.0.1:{port} check inter 300ms fall 1 rise 1{proxy}\n"
            for i, port in enumerate(ports)
        )
        return f"backend {name}\n  balance roundrobin\n{servers}"

    text = (
        "global\n  maxconn 8000\n"
        "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 60s\n"
        "  timeout server 60s\n  retries 3\n  option redispatch\n"
        f"frontend kiosks\n  bind {bind}:{kiosk_port}\n{hello}  default_backend egate\n"
        + backend("egate", kiosk_backends)
    )
    if people_backends:
        text += (
            f"frontend people\n  bind {bind}:{people_port}\n{hello}"
            "  default_backend egate_people\n" + backend("egate_people", people_backends)
        )
    return text


class Balancer:
    """HAProxy in TCP mode (TLS passes through) over ``backends``, on a free port; with
    ``send_proxy`` each connection to a backend opens with a PROXY v2 header naming the
    client (the servers' ``proxy_protocol_from``); with ``people`` a second port
    (:attr:`people_url`) for the processes that serve people (``serves = "people"``)."""

    def __init__(
        self,
        backends: list[int],
        directory: Path,
        *,
        send_proxy: bool = False,
        people: list[int] | None = None,
        per_source: SourceLimits | None = None,
    ) -> None:
        self.port = free_port()
        self.people_port = free_port() if people else None
        self.config = directory / "haproxy.cfg"
        self.config.write_text(
            haproxy_config(
                backends,
                self.port,
                people_backends=people,
                people_port=self.people_port,
                send_proxy=send_proxy,
                per_source=per_source,
            ),
            encoding="utf-8",
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.log = directory / "haproxy.log"

    def start(self) -> Balancer:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [HAPROXY, "-db", "-f", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )

        ports = [self.port] + ([self.people_port] if self.people_port else [])

        def listening() -> bool:
            try:
                for port in ports:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                return False
            return True

        wait_until(listening, "haproxy", self.process)
        return self

    @property
    def url(self) -> str:
        """The kiosk port (every process, when there is no people port)."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def people_url(self) -> str:
        """The people port (logins, booths, analysts); the kiosk port without one."""
        return f"https://127.0.0.1:{self.people_port or self.port}"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(20)
            self.process = None
