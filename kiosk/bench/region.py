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
    ) -> None:
        self.data_dir, self.db_url, self.schema = data_dir, db_url, schema
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
                [sys.executable, "-m", "kiosk.cli.main", "--log-level", "WARNING", "server",
                 "--data-dir", str(self.data_dir), "--db", self.db_url, "run",
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


class Balancer:
    """HAProxy in TCP mode (TLS passes through) over ``backends``, on a free port; with
    ``send_proxy`` each connection to a backend opens with a PROXY v2 header naming the
    client (the servers' ``proxy_protocol_from``)."""

    def __init__(self, backends: list[int], directory: Path, *, send_proxy: bool = False) -> None:
        self.port = free_port()
        self.config = directory / "haproxy.cfg"
        # with PROXY headers the balancer connects from an address of its own, so that a
        # direct connection to a server (a health probe, /metrics) is not taken for it
        proxy = f" send-proxy-v2 source {BALANCER_SOURCE}" if send_proxy else ""
        servers = "\n".join(
            f"  server s{i} 127.0.0.1:{port} check inter 300ms fall 1 rise 1{proxy}"
            for i, port in enumerate(backends)
        )
        self.config.write_text(
            "global\n  maxconn 2000\n"
            "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 60s\n"
            "  timeout server 60s\n  retries 3\n  option redispatch\n"
            f"frontend kiosks\n  bind 127.0.0.1:{self.port}\n  default_backend servers\n"
            f"backend servers\n  balance roundrobin\n{servers}\n",
            encoding="utf-8",
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.log = directory / "haproxy.log"

    def start(self) -> Balancer:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [HAPROXY, "-db", "-f", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )

        def listening() -> bool:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                return False
            return True

        wait_until(listening, "haproxy", self.process)
        return self

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(20)
            self.process = None
