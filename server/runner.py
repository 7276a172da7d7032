"""Running the server on uvicorn: TLS with optional client certificates verified against the
device CA (kiosk endpoints then require one; people use tokens), our h11 protocol that hands
the peer certificate to the app and closes idle connections (:mod:`server.connection_guard`).
TLS 1.2 with AEAD suites only (ECDHE with AES-GCM or ChaCha20-Poly1305) or TLS 1.3. Proxy
headers are never taken from uvicorn (see :mod:`server.security.client_address`).
:class:`ServerThread` runs it in-process (tests, demo)."""

from __future__ import annotations

import logging
import ssl
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import uvicorn

from server.app import create_app
from server.config import ServerConfig
from server.connection_guard import (
    ConnectionLimits,
    GuardedServer,
    guarded_protocol,
    install_log_rate_limit,
)
from server.state import ServerState

SWITCH_INTERVAL_S = 0.001

# TLS 1.2 suites with forward secrecy and authenticated encryption (TLS 1.3's are all AEAD)
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL"


def _hardened_context(
    _config: uvicorn.Config, default: Callable[[], ssl.SSLContext]
) -> ssl.SSLContext:
    context = default()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    return context


log = logging.getLogger(__name__)


def uvicorn_config(
    config: ServerConfig, *, state: ServerState | None = None, log_level: str = "warning"
) -> uvicorn.Config:
    app = create_app(config, state=state)
    server_state: ServerState = app.state.server
    options: dict[str, object] = {}
    if config.tls:
        if config.tls_cert and config.tls_key:
            cert, key = config.tls_cert, config.tls_key
        else:
            cert, key = server_state.ca.server_credentials(config.server_names)
        options.update(
            ssl_certfile=str(cert),
            ssl_keyfile=str(key),
            ssl_ca_certs=str(server_state.ca.cert_path),
            # A presented certificate must chain to the device CA or the handshake fails;
            # officer booths without one log in with tokens.
            ssl_cert_reqs=ssl.CERT_OPTIONAL,
            ssl_ciphers=TLS12_CIPHERS,
            ssl_version=ssl.PROTOCOL_TLS_SERVER,
            ssl_context_factory=_hardened_context,
        )
    limits = ConnectionLimits(
        header_timeout_s=config.header_timeout_s,
        handshake_timeout_s=config.handshake_timeout_s,
        max_connections=config.max_connections,
    )
    return uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        http=guarded_protocol(limits),
        # uvloop: its TLS layer is compiled (asyncio's is Python, a third of the event
        # loop's time under the regional load)
        loop="uvloop",
        proxy_headers=False,
        forwarded_allow_ips=[],
        lifespan="on",
        log_level=log_level.lower(),
        # uvicorn's own loggers propagate to the handlers of kiosk.logs.setup_logging (JSON
        # lines, log file) instead of a dictConfig of uvicorn's; the level still applies.
        log_config=None,
        access_log=False,
        timeout_keep_alive=config.keep_alive_s,
        # the booths' event streams never end by themselves: cut them on shutdown
        timeout_graceful_shutdown=3,
        server_header=False,
        **options,  # type: ignore[arg-type]
    )


def guarded_server(uvi: uvicorn.Config, config: ServerConfig) -> GuardedServer:
    return GuardedServer(
        uvi,
        handshake_timeout_s=config.handshake_timeout_s,
        proxy_protocol_from=config.proxy_protocol_from,
        header_timeout_s=config.header_timeout_s,
    )


def run_server(config: ServerConfig, *, log_level: str = "info") -> None:
    """Serve until interrupted (``kiosk server run``); ``log_level`` is also uvicorn's."""
    uvi = uvicorn_config(config, log_level=log_level)
    scheme = "https" if config.tls else "http"
    log.info("server listening on %s://%s:%d", scheme, config.host, config.port)
    install_log_rate_limit()
    # a thread back from the database waits for the interpreter lock at most this long (5 ms
    # by default): a batch makes about ten round trips, each of them paid that wait under load
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    guarded_server(uvi, config).run()


class ServerThread:
    """The server on a background thread named ``kiosk-server``; ``port=0`` picks a free port."""

    def __init__(self, config: ServerConfig, *, state: ServerState | None = None) -> None:
        self.config = config
        install_log_rate_limit()
        self._uvicorn = guarded_server(uvicorn_config(config, state=state), config)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        servers = getattr(self._uvicorn, "servers", [])
        for server in servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        raise RuntimeError("server not started")

    @property
    def url(self) -> str:
        scheme = "https" if self.config.tls else "http"
        return f"{scheme}://{self.config.host}:{self.port}"

    @property
    def ca_cert(self) -> Path:
        state: ServerState = self._uvicorn.config.app.state.server  # type: ignore[union-attr]
        return state.ca.cert_path

    def start(self, timeout_s: float = 20.0) -> ServerThread:
        self._thread = threading.Thread(target=self._uvicorn.run, name="kiosk-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._thread is None:
            return
        self._uvicorn.should_exit = True
        self._thread.join(timeout_s)
        self._thread = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
