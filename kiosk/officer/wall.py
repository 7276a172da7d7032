"""The booth's side of the live wall: the tiles of the site's lanes, kept current by the
server's event stream (``GET /v1/lanes/stream``, server-sent events), never by polling.

:class:`WallStream` reads the stream on a ``booth-wall`` thread and hands every event to a
callback (the window turns it into a Qt signal); it reconnects after a drop and stops when
closed. When the officer's token expires (the server's ``expired`` event, or a 401) it calls
``on_expired`` once and never reconnects with that token: it waits for a new sign-in.
:class:`WallModel` holds the tiles and applies the events. Tiles carry no personal
data: the step, the lane's causes, the door, the assistance call, the referrals waiting.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

log = logging.getLogger(__name__)

STREAM_PATH = "/v1/lanes/stream"
READ_TIMEOUT_S = 10.0  # the server sends a comment every 2 s
RECONNECT_S = 1.0
MAX_EVENT_BYTES = 64 * 1024
WallCallback = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class Tile:
    """One lane as the wall shows it."""

    lane: str
    site: str | None
    step: str
    step_since: datetime
    in_service: bool
    causes: tuple[str, ...]
    door: str
    assistance: bool
    referrals_waiting: int
    alarm: bool
    event_at: datetime
    received_at: datetime

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tile:
        def when(key: str) -> datetime:
            return datetime.fromisoformat(str(data[key]))

        return cls(
            lane=str(data["lane"])[:64],
            site=str(data["site"])[:64] if data.get("site") else None,
            step=str(data.get("step", "waiting"))[:16],
            step_since=when("step_since"),
            in_service=bool(data.get("in_service", True)),
            causes=tuple(str(c)[:32] for c in (data.get("causes") or [])[:16]),
            door=str(data.get("door", "unknown"))[:16],
            assistance=bool(data.get("assistance", False)),
            referrals_waiting=int(data.get("referrals_waiting", 0)),
            alarm=bool(data.get("alarm", False)),
            event_at=when("event_at"),
            received_at=when("received_at"),
        )

    @property
    def fault(self) -> bool:
        return self.door == "fault" or "device_fault" in self.causes

    @property
    def emergency(self) -> bool:
        return self.door == "emergency" or "emergency" in self.causes

    def offline(self, now: datetime, after_s: float) -> bool:
        return (now - self.received_at).total_seconds() > after_s

    def seconds_in_state(self, now: datetime) -> int:
        return max(0, int((now - self.step_since).total_seconds()))


@dataclass
class WallModel:
    """The tiles by lane; :meth:`apply` takes one stream event, returns the lanes changed."""

    tiles: dict[str, Tile] = field(default_factory=dict)
    queue_version: int = 0  # bumped on every referral event: the queue reloads

    def apply(self, event: str, data: dict[str, Any]) -> list[str]:
        try:
            if event == "snapshot":
                self.tiles = {}
                for item in data.get("items", []):
                    tile = Tile.from_dict(item)
                    self.tiles[tile.lane] = tile
                self.queue_version += 1
                return sorted(self.tiles)
            if event == "lane":
                tile = Tile.from_dict(data)
                self.tiles[tile.lane] = tile
                return [tile.lane]
            if event == "referral":
                self.queue_version += 1
                return []
        except (KeyError, TypeError, ValueError):
            log.warning("wall: a malformed %s event was ignored", event[:16])
        return []


class WallStream:
    """Reads the server's event stream until closed; ``on_event(event, data)`` per event."""

    def __init__(
        self,
        base_url: str,
        token: Callable[[], str | None],
        on_event: WallCallback,
        *,
        verify: bool | str | ssl.SSLContext = True,
        on_state: Callable[[bool], None] | None = None,
        on_expired: Callable[[], None] | None = None,
    ) -> None:
        if isinstance(verify, str):
            verify = ssl.create_default_context(cafile=verify)
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            verify=verify,
            timeout=httpx.Timeout(5.0, read=READ_TIMEOUT_S),
        )
        self._token = token
        self._on_event = on_event
        self._on_state = on_state or (lambda _connected: None)
        self._on_expired = on_expired or (lambda: None)
        self._spent: str | None = None  # the token the server said has expired
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()
        self.events = 0
        self.attempts = 0  # connections tried
        self.idle_waits = 0  # rounds spent waiting for a (new) token

    def start(self) -> WallStream:
        self._thread = threading.Thread(target=self._run, name="booth-wall", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            token = self._token()
            if token is None or token == self._spent:
                self.idle_waits += 1
                self._stop.wait(RECONNECT_S)
                continue
            self.attempts += 1
            try:
                self._read(token)
            except httpx.HTTPError as exc:
                log.info("wall stream interrupted (%s)", type(exc).__name__)
            finally:
                if self.connected.is_set():
                    self.connected.clear()
                    self._on_state(False)
            self._stop.wait(RECONNECT_S)

    def _read(self, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        with self._client.stream("GET", STREAM_PATH, headers=headers) as response:
            if response.status_code == 401:
                self._expired(token)
                return
            if response.status_code != 200:
                log.warning("wall stream refused: HTTP %d", response.status_code)
                return
            self.connected.set()
            self._on_state(True)
            event, data = "message", ""
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if not line:
                    if event == "expired":
                        self._expired(token)
                        return
                    if data:
                        self._dispatch(event, data)
                    event, data = "message", ""
                elif line.startswith(":"):
                    continue
                elif line.startswith("event:"):
                    event = line[6:].strip()[:32]
                elif line.startswith("data:"):
                    data += line[5:].strip()
                    if len(data) > MAX_EVENT_BYTES:
                        log.warning("wall: an oversized event was dropped")
                        event, data = "message", ""
            return

    def _expired(self, token: str) -> None:
        log.info("wall stream: the officer's sign-in has expired")
        self._spent = token
        try:
            self._on_expired()
        except Exception:
            log.exception("wall expiry handler failed")

    def _dispatch(self, event: str, data: str) -> None:
        try:
            payload = json.loads(data)
        except ValueError:
            log.warning("wall: an event that is not JSON was ignored")
            return
        if isinstance(payload, dict):
            self.events += 1
            try:
                self._on_event(event, payload)
            except Exception:
                log.exception("wall event handler failed")

    def close(self, timeout_s: float = READ_TIMEOUT_S + 2) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        self._client.close()


def now_utc() -> datetime:
    return datetime.now(UTC)


def wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Poll ``condition`` (tests and the bench waiting on another thread's work)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True
