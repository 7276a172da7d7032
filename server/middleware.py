"""Pure ASGI middleware: the endpoints a process serves (421 for the others), a request body
limit (413 before anything is parsed, 408 for a body that does not arrive), authentication
before the body is parsed, no-store caching of answers, and request metrics. Pure ASGI,
not BaseHTTPMiddleware, so they cost little per request."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from server.metrics import ServerMetrics
from server.security.tokens import InvalidTokenError

Scope = dict[str, Any]


async def _send_json(
    send: Any, status: int, detail: str | dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    """Answer ``{"detail": detail}``, or ``detail`` itself when it is an object."""
    body = json.dumps(detail if isinstance(detail, dict) else {"detail": detail}).encode("utf-8")
    extra = [(k.lower().encode("ascii"), v.encode("ascii")) for k, v in (headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Read the whole request body before the app sees it: over ``max_bytes`` (declared or
    streamed, chunked included) is 413, a body not complete within ``read_timeout_s`` is 408
    (a slow sender cannot hold a worker). The app then reads the buffered body."""

    def __init__(self, app: Any, max_bytes: int, read_timeout_s: float = 30.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout_s = read_timeout_s

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        detail = f"request body larger than {self.max_bytes} bytes"
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_json(send, 400, "bad Content-Length header")
                    return
                if declared > self.max_bytes:
                    await _send_json(send, 413, detail)
                    return
        chunks: list[bytes] = []
        received = 0
        more = True
        try:
            async with asyncio.timeout(self.read_timeout_s):
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    body = message.get("body", b"")
                    received += len(body)
                    if received > self.max_bytes:
                        await _send_json(send, 413, detail)
                        return
                    chunks.append(body)
                    more = bool(message.get("more_body", False))
        except TimeoutError:
            await _send_json(send, 408, "request body not received in time")
            return
        buffered: list[Any] = [{"type": "http.request", "body": b"".join(chunks)}]

        async def replay() -> Any:
            if buffered:
                return buffered.pop()
            return await receive()

        await self.app(scope, replay, send)


class AuthenticateFirst:
    """Refuse a request that carries no credentials before its body is parsed: kiosk
    endpoints need a client certificate on the connection, people's endpoints a bearer token
    whose signature verifies (the database checks follow in the endpoint's dependencies)."""

    def __init__(self, app: Any, verify_token: Any, public_paths: frozenset[str]) -> None:
        self.app = app
        self.verify_token = verify_token
        self.public_paths = public_paths

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path in self.public_paths or not path.startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        if path.startswith("/v1/kiosk/"):
            tls = scope.get("extensions", {}).get("tls") or {}
            if not tls.get("client_cert_chain"):
                await _send_json(send, 401, "a device client certificate is required")
                return
        elif not self._token_ok(scope):
            await _send_json(send, 401, "a valid bearer token is required")
            return
        await self.app(scope, receive, send)

    def _token_ok(self, scope: Scope) -> bool:
        for key, value in scope.get("headers", []):
            if key == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer" or not token:
                    return False
                try:
                    self.verify_token(token.strip())
                except InvalidTokenError:
                    return False
                return True
        return False


class RequestMetrics:
    """Count requests and time them, labelled by route template (not raw path)."""

    def __init__(self, app: Any, metrics: ServerMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status_code = 500
        start = time.perf_counter()

        async def recording_send(message: Any) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", "unmatched")
            self.metrics.latency.labels(label).observe(time.perf_counter() - start)
            self.metrics.requests.labels(label, f"{status_code // 100}xx").inc()


class NoStore:
    """``Cache-Control: no-store`` on every answer under ``/v1/`` (they may carry personal
    data: names, birth dates, document summaries) so no proxy or browser keeps a copy."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/v1/"):
            await self.app(scope, receive, send)
            return

        async def with_header(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != b"cache-control"]
                headers += [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_header)


class LoginShed:
    """During a login flood, refuse ``POST /v1/auth/token`` before the request is routed or
    its body read: 429 when ``blocked`` says the client's address is blocked after failed
    logins (``(seconds left, the answer)``; the database said so to this process before),
    else 503 whenever the login gate would refuse it anyway. Either only after ``delay_s`` (a
    tarpit: a client that floods on a few connections then gets a few answers a second
    instead of hundreds; a sleeping request costs the server nothing). A flood thus costs
    the event loop little, takes no login slot, and the kiosks keep their share of it."""

    def __init__(
        self,
        app: Any,
        gate: Any,
        on_shed: Any,
        delay_s: float = 1.0,
        blocked: Callable[[Scope], tuple[int, dict[str, Any]] | None] | None = None,
    ) -> None:
        self.app = app
        self.gate = gate
        self.on_shed = on_shed
        self.delay_s = delay_s
        self.blocked = blocked

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if not (
            scope["type"] == "http"
            and scope.get("path") == "/v1/auth/token"
            and scope.get("method") == "POST"
        ):
            await self.app(scope, receive, send)
            return
        refusal = self.blocked(scope) if self.blocked is not None else None
        if refusal is not None:
            wait_s, answer = refusal
            await asyncio.sleep(self.delay_s)
            await _send_json(send, 429, answer, {"Retry-After": str(wait_s)})
            return
        if not self.gate.has_room():
            client = scope.get("client") or ("unknown", 0)
            self.on_shed(str(client[0]))
            await asyncio.sleep(self.delay_s)
            await _send_json(
                send,
                503,
                "the server is busy with other logins; try again in a moment",
                {"Retry-After": "1"},
            )
            return
        await self.app(scope, receive, send)


KIOSK_PREFIX = "/v1/kiosk/"
# what every process answers whatever it serves: liveness (the balancer's and the
# operator's checks), the scraper, the API description
OPERATIONAL_PATHS = frozenset({"/healthz", "/metrics", "/openapi.json"})


def serves_path(serves: str, path: str) -> bool:
    """Whether a process configured with ``serves`` ("all", "kiosks", "people") answers
    ``path``."""
    if serves == "all" or path in OPERATIONAL_PATHS:
        return True
    kiosk = path.startswith(KIOSK_PREFIX)
    return kiosk if serves == "kiosks" else not kiosk


class ServedPaths:
    """A process behind the balancer's kiosk port (``serves = "kiosks"``) answers only the
    kiosk endpoints; one behind the people port (``"people"``) all the others. Anything
    else is 421 (misdirected) before it is routed, authenticated or its body read: a login
    sent to an ingestion process never reaches the login gate, argon2 or the database."""

    def __init__(self, app: Any, serves: str) -> None:
        self.app = app
        self.serves = serves

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or serves_path(self.serves, str(scope.get("path", ""))):
            await self.app(scope, receive, send)
            return
        await _send_json(send, 421, f"this server process serves {self.serves} only")
