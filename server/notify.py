"""Live updates across server processes, through PostgreSQL LISTEN/NOTIFY.

Every server process behind the load balancer publishes what changed (a referral arrived, a
referral was resolved, an alert was raised, a heartbeat came in) and any process can pass
it on to the screens it serves (the booth's live wall), whichever process stored it.

    publish(session, "referrals", {"kiosk_id": ..., "transaction_id": ..., "event": "new"})

inside the transaction that makes the change: PostgreSQL delivers it when, and only if, the
transaction commits, to every listener in every process. Payloads are small JSON objects of
ids and kinds (at most 7,900 bytes), never personal data.

    with Subscriber(database, ["referrals", "alerts"]) as live:   # on a thread
        for note in live.notifications(timeout_s=1.0): ...        # Notification(channel, payload)

    async with AsyncSubscriber(database, ["referrals"]) as live:  # in an asyncio task
        async for note in live: ...

Channels are named per schema (``<schema>.<channel>``) because NOTIFY is database-wide and
several deployments or test sessions may share one database. On SQLite (one process, one
site) the same API works within the process: notifications go to in-process subscribers
after the commit."""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from server.database import ServerDatabase

log = logging.getLogger(__name__)

MAX_PAYLOAD = 7900
# "control_room": the wall and the remote lane actions (server.pubsub_postgres) carried across
# the server processes
CHANNELS = frozenset({"referrals", "alerts", "heartbeats", "decisions", "control_room"})


class NotifyError(Exception):
    """A channel that is not one of :data:`CHANNELS`, or a payload too large."""


@dataclass(frozen=True)
class Notification:
    channel: str
    payload: dict[str, Any]


def _full_name(database: ServerDatabase, channel: str) -> str:
    if channel not in CHANNELS:
        raise NotifyError(f"unknown channel {channel}")
    return f"{database.schema or 'public'}.{channel}"


def _encode(payload: dict[str, Any]) -> str:
    data = json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str)
    if len(data) > MAX_PAYLOAD:
        raise NotifyError("notification payload too large")
    return data


# --- SQLite: within the process --------------------------------------------------------------

_local_lock = threading.Lock()
_local: dict[str, list[queue.SimpleQueue[Notification]]] = {}


def _deliver_local(full: str, note: Notification) -> None:
    with _local_lock:
        targets = list(_local.get(full, []))
    for target in targets:
        target.put(note)


def publish(session: Session, channel: str, payload: dict[str, Any]) -> None:
    """Announce ``payload`` on ``channel`` when ``session``'s transaction commits."""
    publish_many(session, channel, [payload])


def publish_many(session: Session, channel: str, payloads: Sequence[dict[str, Any]]) -> None:
    """Announce each of ``payloads`` on ``channel`` (in order) when ``session``'s transaction
    commits: one statement for all the transaction's notifications, sent as it commits."""
    database_schema = session.info.get("notify_schema")
    full = f"{database_schema or 'public'}.{channel}"
    if channel not in CHANNELS:
        raise NotifyError(f"unknown channel {channel}")
    encoded = [_encode(payload) for payload in payloads]
    if not encoded:
        return
    if session.get_bind().dialect.name == "postgresql":
        pending = session.info.get(PENDING)
        if pending is None:
            pending = session.info[PENDING] = []
            event.listen(session, "before_commit", _send_pending, once=True)
            event.listen(session, "after_rollback", _drop_pending, once=True)
        pending.extend((full, data) for data in encoded)
        return
    notes = [Notification(channel, json.loads(data)) for data in encoded]

    def deliver(_session: Session) -> None:
        for note in notes:
            _deliver_local(full, note)

    event.listen(session, "after_commit", deliver, once=True)


PENDING = "notify_pending"


def _send_pending(session: Session) -> None:
    """Every notification of the transaction in one statement, just before it commits
    (PostgreSQL delivers them at the commit, in this order): a batch that announces its
    decisions, its referrals and the walls' update makes one round trip for them, not
    three."""
    pending = session.info.pop(PENDING, [])
    if not pending:
        return
    session.execute(
        text(
            "SELECT pg_notify(channel, payload) FROM unnest(CAST(:channels AS text[]), "
            "CAST(:payloads AS text[])) WITH ORDINALITY AS notes(channel, payload, n) ORDER BY n"
        ),
        {"channels": [full for full, _ in pending], "payloads": [data for _, data in pending]},
    )


def _drop_pending(session: Session) -> None:
    """A rolled-back transaction announces nothing (not even in a later one)."""
    session.info.pop(PENDING, None)


def _conninfo(database: ServerDatabase) -> str:
    url = make_url(str(database.engine.url.render_as_string(hide_password=False)))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Subscriber:
    """Notifications of ``channels`` for one thread (a connection of its own)."""

    def __init__(self, database: ServerDatabase, channels: Sequence[str]) -> None:
        self._names = {_full_name(database, channel): channel for channel in channels}
        self._queue: queue.SimpleQueue[Notification] = queue.SimpleQueue()
        self._connection: Any = None
        if database.dialect == "postgresql":
            import psycopg

            self._connection = psycopg.connect(_conninfo(database), autocommit=True)
            for full in self._names:
                self._connection.execute(f'LISTEN "{full}"')
        else:
            with _local_lock:
                for full in self._names:
                    _local.setdefault(full, []).append(self._queue)

    def notifications(self, *, timeout_s: float = 1.0) -> Iterator[Notification]:
        """What arrives within ``timeout_s`` (returns when that time passes with nothing)."""
        if self._connection is None:
            while True:
                try:
                    yield self._queue.get(timeout=timeout_s)
                except queue.Empty:
                    return
        for notify in self._connection.notifies(timeout=timeout_s):
            channel = self._names.get(notify.channel)
            if channel is not None:
                yield Notification(channel, _decode(notify.payload))

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        with _local_lock:
            for full in self._names:
                if self._queue in _local.get(full, []):
                    _local[full].remove(self._queue)

    def __enter__(self) -> Subscriber:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _decode(payload: str) -> dict[str, Any]:
    try:
        data = json.loads(payload)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class AsyncSubscriber:
    """Notifications of ``channels`` for an asyncio task (SSE or WebSocket endpoints)."""

    def __init__(self, database: ServerDatabase, channels: Sequence[str]) -> None:
        self._database = database
        self._names = {_full_name(database, channel): channel for channel in channels}
        self._connection: Any = None
        self._queue: queue.SimpleQueue[Notification] = queue.SimpleQueue()

    async def __aenter__(self) -> AsyncSubscriber:
        if self._database.dialect == "postgresql":
            import psycopg

            self._connection = await psycopg.AsyncConnection.connect(
                _conninfo(self._database), autocommit=True
            )
            for full in self._names:
                await self._connection.execute(f'LISTEN "{full}"')
        else:
            with _local_lock:
                for full in self._names:
                    _local.setdefault(full, []).append(self._queue)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
        with _local_lock:
            for full in self._names:
                if self._queue in _local.get(full, []):
                    _local[full].remove(self._queue)

    async def __aiter__(self) -> AsyncIterator[Notification]:
        if self._connection is None:
            while True:
                try:
                    yield self._queue.get_nowait()
                except queue.Empty:
                    await asyncio.sleep(0.1)
            return
        async for notify in self._connection.notifies():
            channel = self._names.get(notify.channel)
            if channel is not None:
                yield Notification(channel, _decode(notify.payload))
