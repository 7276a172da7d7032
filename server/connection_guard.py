"""Keeping idle and slow connections from exhausting the server.

uvicorn closes a kept-alive connection after its keep-alive timeout, but a connection that
never sends a request (TLS done or not) was held forever: about a thousand of them used up
the file limit and locked every kiosk out. Here:

- the TLS handshake must finish within ``handshake_timeout_s`` (asyncio's own timeout, 60 s
  by default, set on the listening socket);
- a request's headers must be complete within ``header_timeout_s`` of the connection (or of
  the previous answer), else the connection is closed;
- at most ``max_connections`` are held: one more closes the connection that has been idle
  longest (no request in progress), or the new one when every connection is busy;
- the event loop's accept errors ("out of system resource") are logged at most once per
  ``interval_s`` with the number suppressed, instead of thousands of lines.

The request body has its own deadline (:class:`server.middleware.BodyLimit`)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from typing import Any

import uvicorn

from server.proxy_accept import ProxyProtocolServer, listening_socket
from server.tls import ClientCertH11Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout_s: float = 10.0
    handshake_timeout_s: float = 10.0
    max_connections: int = 2000


class GuardedH11Protocol(ClientCertH11Protocol):
    """:class:`ClientCertH11Protocol` with a header deadline and the connection cap."""

    limits = ConnectionLimits()
    # the client a balancer's PROXY header named (server.proxy_accept), set before the
    # connection is made; None: the peer address
    proxied_client: tuple[str, int] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.proxied_client is not None:
            self.client = self.proxied_client
        self._idle_since = self.loop.time()
        self._cycles = 0
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    def _in_request(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            cycles = self._cycles
            self._header_timer = self.loop.call_later(
                self.limits.header_timeout_s, self._header_deadline, cycles
            )

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_deadline(self, cycles: int) -> None:
        self._header_timer = None
        if self._cycles == cycles and not self._in_request() and not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        before = self.cycle
        super().data_received(data)
        if self.cycle is not before:
            self._cycles += 1
            self._disarm_header_timer()
        elif not self._in_request():
            self._arm_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._idle_since = self.loop.time()
        self._cycles += 1
        self._disarm_header_timer()
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def _make_room(self) -> None:
        idle = [
            other
            for other in self.connections
            if isinstance(other, GuardedH11Protocol)
            and other is not self
            and not other._in_request()
            and not other.transport.is_closing()
        ]
        victim = min(idle, key=lambda other: other._idle_since) if idle else self
        victim.transport.close()


def guarded_protocol(limits: ConnectionLimits) -> type[GuardedH11Protocol]:
    """The protocol class uvicorn instantiates per connection, with ``limits``."""
    return type("ConfiguredGuardedH11Protocol", (GuardedH11Protocol,), {"limits": limits})


class GuardedServer(uvicorn.Server):
    """uvicorn's server with a TLS handshake deadline on its listening sockets."""

    def __init__(
        self,
        config: uvicorn.Config,
        *,
        handshake_timeout_s: float,
        proxy_protocol_from: Sequence[IPv4Network | IPv6Network] = (),
        header_timeout_s: float = 10.0,
    ) -> None:
        super().__init__(config)
        self.handshake_timeout_s = handshake_timeout_s
        self.proxy_protocol_from = list(proxy_protocol_from)
        self.header_timeout_s = header_timeout_s

    async def startup(self, sockets: list[Any] | None = None) -> None:
        loop = asyncio.get_running_loop()
        original = loop.create_server

        async def create_server(*args: Any, **kwargs: Any) -> Any:
            if self.proxy_protocol_from:
                return self._proxy_protocol_server(*args, **kwargs)
            if kwargs.get("ssl") is not None:
                kwargs.setdefault("ssl_handshake_timeout", self.handshake_timeout_s)
            return await original(*args, **kwargs)

        loop.create_server = create_server  # type: ignore[method-assign]
        try:
            await super().startup(sockets)
        finally:
            del loop.create_server

    def _proxy_protocol_server(
        self,
        protocol_factory: Any,
        host: str | None = None,
        port: int | None = None,
        *,
        sock: Any = None,
        ssl: Any = None,
        backlog: int = 2048,
        **_ignored: Any,
    ) -> ProxyProtocolServer:
        listener = sock or listening_socket(host or "127.0.0.1", port or 0, backlog)
        return ProxyProtocolServer(
            protocol_factory,
            listener,
            ssl_context=ssl,
            balancers=self.proxy_protocol_from,
            header_timeout_s=self.header_timeout_s,
            handshake_timeout_s=self.handshake_timeout_s,
        )


class RateLimitedLog(logging.Filter):
    """Let through at most one record per ``interval_s`` for each message template of the
    ``asyncio`` logger (accept errors under a connection flood); the next one that passes
    says how many were suppressed."""

    def __init__(self, interval_s: float = 10.0, clock: Any = time.monotonic) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._clock = clock
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = str(record.msg)[:80]
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval_s:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return False
            self._last[key] = now
            suppressed = self._suppressed.pop(key, 0)
        if suppressed:
            record.msg = f"{record.msg} ({suppressed} similar messages suppressed)"
        return True


def install_log_rate_limit(interval_s: float = 10.0) -> None:
    """Rate-limit the ``asyncio`` logger once per process."""
    target = logging.getLogger("asyncio")
    if not any(isinstance(f, RateLimitedLog) for f in target.filters):
        target.addFilter(RateLimitedLog(interval_s))
