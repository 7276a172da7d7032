"""A small publish/subscribe interface inside the server: the lane wall and the referral
queue are pushed to the booths (server-sent events) and remote actions to the kiosks (long
poll) the moment they happen.

:class:`LocalPubSub` fans out within one process (SQLite: one process, one site). Several
server processes behind a load balancer on PostgreSQL use
:class:`server.pubsub_postgres.PostgresPubSub`, the same protocol carried by LISTEN/NOTIFY;
messages are small JSON objects so that one fits in a NOTIFY payload.
Publishers call :meth:`PubSub.publish` from any thread; a subscription is read from the
asyncio event loop that created it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

MAX_QUEUED = 1000
LANES = "lanes"  # lane tiles: {"type": "lane", "tile": {...}}
REFERRALS = "referrals"  # queue changes: {"type": "referral", "transaction_id", "status", ...}
# to every subscription when messages may have been missed (the cross-process listener
# reconnected): the wall sends a fresh snapshot, a waiting kiosk re-reads its actions
RESYNC: dict[str, Any] = {"type": "resync"}


def commands_channel(device: str) -> str:
    return f"commands.{device}"


class Subscription(Protocol):
    async def get(self, timeout_s: float) -> dict[str, Any] | None:
        """The next message, or None after ``timeout_s`` without one."""
        ...

    def close(self) -> None: ...


class PubSub(Protocol):
    def start(self) -> None:
        """Be ready to receive (the server's start); subscribing also starts it."""
        ...

    def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    def publish_many(
        self, channel: str, messages: list[dict[str, Any]], *, session: Session | None = None
    ) -> None:
        """Each of ``messages`` on ``channel``, in order (across processes: one NOTIFY for
        them all); with ``session``, when (and only if) its transaction commits."""
        ...

    def subscribe(self, *channels: str) -> Subscription: ...

    def close(self) -> None: ...


class _LocalSubscription:
    def __init__(self, hub: LocalPubSub, channels: tuple[str, ...]) -> None:
        self._hub = hub
        self.channels = channels
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(MAX_QUEUED)
        self.dropped = 0

    def deliver(self, message: dict[str, Any]) -> None:
        def put() -> None:
            try:
                self._queue.put_nowait(message)
            except asyncio.QueueFull:
                self.dropped += 1  # a stalled client: it reloads its snapshot on reconnect

        try:
            self._loop.call_soon_threadsafe(put)
        except RuntimeError:  # the loop is closed
            self._hub.remove(self)

    async def get(self, timeout_s: float) -> dict[str, Any] | None:
        try:
            return await asyncio.wait_for(self._queue.get(), timeout_s)
        except TimeoutError:
            return None

    def close(self) -> None:
        self._hub.remove(self)


class LocalPubSub:
    """Fan-out to the subscriptions of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: list[_LocalSubscription] = []

    def start(self) -> None:
        """Nothing to start within one process."""

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        with self._lock:
            targets = [s for s in self._subscriptions if channel in s.channels]
        for subscription in targets:
            subscription.deliver(message)

    def publish_many(
        self, channel: str, messages: list[dict[str, Any]], *, session: Session | None = None
    ) -> None:
        if session is not None:
            event.listen(
                session, "after_commit", lambda _s: self.publish_many(channel, messages), once=True
            )
            return
        for message in messages:
            self.publish(channel, message)

    def broadcast(self, message: dict[str, Any]) -> None:
        """``message`` to every subscription, whatever its channels."""
        with self._lock:
            targets = list(self._subscriptions)
        for subscription in targets:
            subscription.deliver(message)

    def subscribe(self, *channels: str) -> Subscription:
        subscription = _LocalSubscription(self, channels)
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def remove(self, subscription: _LocalSubscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscriptions)

    def close(self) -> None:
        with self._lock:
            self._subscriptions.clear()
