"""The wall and the remote lane actions across server processes: :class:`PostgresPubSub`.

Behind a load balancer a kiosk's lane report may reach one server process while the officer's
wall is streamed by another, and a booth's remote action may be stored by one process while
the kiosk's long poll waits on the other. Every message published here is delivered at once to
this process's own subscribers and sent with ``NOTIFY`` (:mod:`server.notify`, channel
``control_room``) to the others; one listener thread per process (its own connection,
``LISTEN``) hands what the other processes published to the subscribers here. A message
carries its origin, so a process does not deliver its own messages twice.

If the listening connection drops, the listener reconnects and broadcasts
:data:`server.pubsub.RESYNC`: walls send a fresh snapshot and waiting kiosks re-read their
actions, so nothing missed in between is lost for good.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

from prometheus_client import Counter
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from server.database import ServerDatabase
from server.notify import NotifyError, Subscriber, publish_many
from server.pubsub import RESYNC, LocalPubSub, Subscription

log = logging.getLogger(__name__)

CHANNEL = "control_room"
POLL_S = 0.5  # how soon the listener notices that it is closed
RECONNECT_S = 1.0


class PostgresPubSub:
    """:class:`server.pubsub.PubSub` for several server processes on one PostgreSQL."""

    def __init__(self, database: ServerDatabase, received: Counter | None = None) -> None:
        """``received`` counts the messages other processes published (``/metrics``)."""
        self._database = database
        self._received = received
        self._local = LocalPubSub()
        self.origin = uuid.uuid4().hex[:16]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: Subscriber | None = None
        self.received = 0  # messages from other processes handed to subscribers here

    def start(self) -> None:
        """LISTEN before returning: what another process publishes afterwards arrives."""
        with self._lock:
            if self._thread is not None:
                return
            self._stop.clear()
            self._listener = Subscriber(self._database, [CHANNEL])
            self._thread = threading.Thread(target=self._listen, name="server-pubsub", daemon=True)
            self._thread.start()

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        self.publish_many(channel, [message])

    def publish_many(
        self, channel: str, messages: list[dict[str, Any]], *, session: Session | None = None
    ) -> None:
        """One NOTIFY statement for all of ``messages``: every commit that notifies queues on
        PostgreSQL's notification lock, so a batch of decisions that opens ten referrals
        commits once, not ten times. With ``session`` the statement is part of its
        transaction (the batch's own) and this process's subscribers hear of it after the
        commit; a rollback sends nothing anywhere."""
        if not messages:
            return
        notes = [{"o": self.origin, "c": channel, "m": message} for message in messages]
        if session is not None:
            try:
                publish_many(session, CHANNEL, notes)
            except NotifyError:
                log.error("control room message too large for NOTIFY on %s", channel[:40])
                return
            self._local.publish_many(channel, messages, session=session)
            return
        self._local.publish_many(channel, messages)
        try:
            with self._database.session() as session:
                publish_many(session, CHANNEL, notes)
        except NotifyError:
            log.error("control room message too large for NOTIFY on %s", channel[:40])
        except SQLAlchemyError as exc:  # the other processes' walls reload on reconnect
            log.warning("control room message not sent to other processes: %s",
                        type(exc).__name__)  # fmt: skip

    def subscribe(self, *channels: str) -> Subscription:
        self.start()
        return self._local.subscribe(*channels)

    @property
    def subscribers(self) -> int:
        return self._local.subscribers

    def _listen(self) -> None:
        while not self._stop.is_set():
            listener = self._listener
            try:
                if listener is None:
                    listener = self._listener = Subscriber(self._database, [CHANNEL])
                    log.info("control room listener reconnected")
                    self._local.broadcast(RESYNC)
                for note in listener.notifications(timeout_s=POLL_S):
                    self._deliver(note.payload)
            except Exception as exc:  # psycopg's errors: the connection dropped
                log.warning("control room listener lost its connection: %s", type(exc).__name__)
                if listener is not None:
                    listener.close()
                self._listener = None
                self._stop.wait(RECONNECT_S)

    def _deliver(self, payload: dict[str, Any]) -> None:
        channel, message = payload.get("c"), payload.get("m")
        if payload.get("o") == self.origin:
            return
        if not isinstance(channel, str) or not isinstance(message, dict):
            log.warning("control room: a malformed notification was ignored")
            return
        self.received += 1
        if self._received is not None:
            self._received.inc()
        self._local.publish(channel, message)

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
        if thread is not None:
            thread.join(POLL_S * 4 + RECONNECT_S)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._local.close()


def pubsub_for(
    database: ServerDatabase, received: Counter | None = None
) -> LocalPubSub | PostgresPubSub:
    """Across processes on PostgreSQL; within the process on SQLite."""
    if database.dialect == "postgresql":
        return PostgresPubSub(database, received)
    return LocalPubSub()
