"""The real client address behind a TCP balancer: the PROXY protocol (version 2).

HAProxy in TCP mode passes TLS through, so the server sees the balancer's address on every
connection, and the per-address login throttle keyed everybody on it. With ``send-proxy-v2``
on its server lines HAProxy opens each connection with a binary header that carries the
client's address, before the TLS handshake. uvicorn reads PROXY headers only for plain HTTP
through its proxy-headers option, so the server accepts connections itself here:

- a connection from one of ``balancers`` (``proxy_protocol_from``) must begin with a
  PROXY v2 header, complete within ``header_timeout_s``; a missing, malformed or late one
  closes the connection. The header is read to its last byte and no further (its length is
  in its first 16 bytes), so the TLS handshake that follows is untouched. ``LOCAL`` (the
  balancer's own health checks) keeps the balancer's address;
- a connection from anywhere else is served as before: its own peer address, and any
  bytes that look like a PROXY header are just a failed TLS handshake (not believed).

Parsing is :mod:`proxyprotocol` (icgood's proxy-protocol library); this module only reads
the exact bytes and decides whom to believe."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any

from proxyprotocol import ProxyProtocolChecksumError, ProxyProtocolSyntaxError
from proxyprotocol.result import ProxyResultIPv4, ProxyResultIPv6, ProxyResultLocal
from proxyprotocol.v2 import ProxyProtocolV2

log = logging.getLogger(__name__)

HEADER_FIXED = 16
# HAProxy sends 12 (IPv4) or 36 (IPv6) address bytes and, when configured, a few TLVs
MAX_HEADER_REST = 1024
Address = tuple[str, int]


class ProxyHeaderError(Exception):
    """A connection from a balancer did not begin with a valid PROXY v2 header."""


class ClosedBeforeHeaderError(ProxyHeaderError):
    """The balancer closed without sending anything: its TCP health check."""


def parse_header(fixed: bytes) -> int:
    """The length of the rest of a v2 header from its first 16 bytes."""
    if len(fixed) != HEADER_FIXED:
        raise ProxyHeaderError("short PROXY header")
    try:
        header = ProxyProtocolV2().unpack_header(fixed)
    except (ProxyProtocolSyntaxError, ValueError, IndexError) as exc:
        raise ProxyHeaderError(f"not a PROXY v2 header: {exc}") from exc
    if header.data_len > MAX_HEADER_REST:
        raise ProxyHeaderError(f"PROXY header of {header.data_len} bytes")
    return int(header.data_len)


def client_from_header(data: bytes, peer: Address) -> Address:
    """The client a whole v2 header names (``peer`` for LOCAL or an unknown family)."""
    try:
        result = ProxyProtocolV2().unpack(data)
    except (ProxyProtocolSyntaxError, ProxyProtocolChecksumError, ValueError) as exc:
        raise ProxyHeaderError(f"bad PROXY header: {exc}") from exc
    except Exception as exc:  # the library's struct and TLV decoding on hostile bytes
        raise ProxyHeaderError(f"bad PROXY header: {exc.__class__.__name__}") from exc
    if isinstance(result, ProxyResultLocal):
        return peer
    if isinstance(result, ProxyResultIPv4 | ProxyResultIPv6):
        host, port = result.source
        return str(host), int(port)
    raise ProxyHeaderError("PROXY header without an IP source address")


async def _read_exactly(loop: asyncio.AbstractEventLoop, sock: socket.socket, size: int) -> bytes:
    """``size`` bytes and not one more (what follows is the client's TLS handshake)."""
    data = b""
    while len(data) < size:
        chunk = await loop.sock_recv(sock, size - len(data))
        if not chunk:
            if not data:
                raise ClosedBeforeHeaderError("closed before sending anything")
            raise ProxyHeaderError("connection closed before the PROXY header ended")
        data += chunk
    return data


async def read_proxy_header(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, peer: Address
) -> Address:
    fixed = await _read_exactly(loop, sock, HEADER_FIXED)
    rest = await _read_exactly(loop, sock, parse_header(fixed))
    return client_from_header(fixed + rest, peer)


class _RefusalLog:
    """At most one line per ``interval_s`` about refused PROXY headers, with the count."""

    def __init__(self, interval_s: float = 10.0) -> None:
        self.interval_s = interval_s
        self._last = -interval_s
        self._count = 0

    def warning(self, peer: str, reason: str) -> None:
        self._count += 1
        now = time.monotonic()
        if now - self._last >= self.interval_s:
            log.warning("%d connections from balancer %s refused: %s", self._count, peer, reason)
            self._count, self._last = 0, now


class ProxyProtocolServer:
    """What ``loop.create_server`` returns, for uvicorn (``sockets``, ``close``,
    ``wait_closed``), accepting on ``listener`` itself."""

    def __init__(
        self,
        protocol_factory: Callable[[], Any],
        listener: socket.socket,
        *,
        ssl_context: ssl.SSLContext | None,
        balancers: Sequence[IPv4Network | IPv6Network],
        header_timeout_s: float,
        handshake_timeout_s: float,
    ) -> None:
        self._factory = protocol_factory
        self._listener = listener
        self._ssl = ssl_context
        self._balancers = list(balancers)
        self._header_timeout_s = header_timeout_s
        self._handshake_timeout_s = handshake_timeout_s
        self._pending: set[asyncio.Task[None]] = set()
        self._refusals = _RefusalLog()
        self._loop = asyncio.get_running_loop()
        listener.setblocking(False)
        self._accepting = self._loop.create_task(self._accept_forever())

    @property
    def sockets(self) -> list[socket.socket]:
        return [self._listener]

    def from_balancer(self, host: str) -> bool:
        try:
            address = ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._balancers)

    async def _accept_forever(self) -> None:
        while True:
            try:
                connection, peer = await self._loop.sock_accept(self._listener)
            except asyncio.CancelledError:
                raise
            except OSError as exc:  # out of file descriptors: logged at a bounded rate
                logging.getLogger("asyncio").error("accept failed: %s", exc)
                await asyncio.sleep(0.1)
                continue
            task = self._loop.create_task(self._serve(connection, (str(peer[0]), int(peer[1]))))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _serve(self, connection: socket.socket, peer: Address) -> None:
        client: Address | None = None
        try:
            connection.setblocking(False)
            if self.from_balancer(peer[0]):
                async with asyncio.timeout(self._header_timeout_s):
                    client = await read_proxy_header(self._loop, connection, peer)
        except ClosedBeforeHeaderError:
            connection.close()  # the balancer's health check: connect, then close
            return
        except (TimeoutError, ProxyHeaderError, OSError) as exc:
            self._refusals.warning(peer[0], str(exc) or exc.__class__.__name__)
            connection.close()
            return

        def protocol() -> Any:
            instance = self._factory()
            instance.proxied_client = client
            return instance

        try:
            if self._ssl is None:
                await self._loop.connect_accepted_socket(protocol, connection)
            else:
                await self._loop.connect_accepted_socket(
                    protocol,
                    connection,
                    ssl=self._ssl,
                    ssl_handshake_timeout=self._handshake_timeout_s,
                )
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError):
            connection.close()

    def close(self) -> None:
        self._accepting.cancel()
        for task in list(self._pending):
            task.cancel()
        self._listener.close()

    async def wait_closed(self) -> None:
        await asyncio.gather(self._accepting, *self._pending, return_exceptions=True)


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock
