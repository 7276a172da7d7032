"""The outbox relay: takes due messages in order, posts them in batches, marks them sent.

What was sent is in the outbox rows (``sent_at``, ``attempts``), so a restarted kiosk simply
carries on. The waits between attempts are kept on the monotonic clock, in this process: a
wall-clock step (back or ahead) changes neither when a message is retried nor the order, which
is always oldest first. A batch the server could not take (unreachable) holds the whole relay
until its backoff is over, so newer messages never overtake older ones; a message the server
refuses (4xx) is held on its own, so one bad message cannot block the queue.
``next_attempt_at`` is still written, for the technician's display only.

A message is marked sent only after the server has answered for it (accepted or duplicate:
both mean "the server has it"), so a lost answer means a resend, which the server ignores:
every message arrives exactly once.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from kiosk.storage import outbox
from kiosk.storage.database import Database
from kiosk.sync import contact
from kiosk.sync.backoff import Backoff
from kiosk.sync.client import ServerClient
from kiosk.sync.errors import ServerRefusedError, SyncError
from models.base import utc_now
from models.tables import OutboxMessageRow

log = logging.getLogger(__name__)

# outbox kind -> batch endpoint under /v1/kiosk
ENDPOINTS: dict[str, str] = {
    "decision": "decisions",
    "referral": "referrals",
    "audit_checkpoint": "audit-checkpoints",
    "referral_photos": "referral-photos",
    "refused_change": "refusals",  # a signed version refused (kiosk/sync/lists.py)
}
# kind -> builds the request items from the messages' payloads when they are sent
Expander = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
REFUSED_RETRY_FACTOR = 8  # a refused message waits longer than an unreachable server


@dataclass(frozen=True)
class _Pending:
    id: int
    kind: str
    attempts: int
    payload: dict[str, Any]


@dataclass
class RelayReport:
    sent: int = 0
    duplicates: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def reached_server(self) -> bool:
        return self.sent > 0 or (self.failed == 0 and not self.errors)


class OutboxRelay:
    def __init__(
        self,
        database: Database,
        client: ServerClient,
        *,
        batch_size: int,
        backoff: Backoff,
        monotonic: Callable[[], float] = time.monotonic,
        expanders: dict[str, tuple[Expander, int]] | None = None,
    ) -> None:
        """``expanders``: for a kind, the function building its request items and the
        largest number of messages per request."""
        self.database = database
        self.client = client
        self.batch_size = batch_size
        self.backoff = backoff
        self.monotonic = monotonic
        self._hold_all_until = 0.0  # the server was unreachable: nothing before this
        self._held: dict[int, float] = {}  # message id -> refused, not before this
        self.expanders = expanders or {}

    def _take(self) -> list[_Pending]:
        now = self.monotonic()
        if now < self._hold_all_until:
            return []
        self._held = {i: until for i, until in self._held.items() if until > now}
        with self.database.read() as session:
            rows: Sequence[OutboxMessageRow] = outbox.pending(
                session, limit=self.batch_size, exclude=self._held, by_wall_clock=False
            )
            return [_Pending(r.id, r.kind, r.attempts, dict(r.payload)) for r in rows]

    def relay_once(self) -> RelayReport:
        """Send one batch per kind of what is due now; the report says what happened."""
        report = RelayReport()
        batch = self._take()
        by_kind: dict[str, list[_Pending]] = defaultdict(list)
        for message in batch:
            by_kind[message.kind].append(message)
        for kind, messages in by_kind.items():
            limit = self.expanders[kind][1] if kind in self.expanders else len(messages)
            for start in range(0, len(messages), max(1, limit)):
                self._send(kind, messages[start : start + limit], report)
        if batch:
            contact.record(self.database, ok=not report.errors, error="; ".join(report.errors))
        return report

    def drain(self, *, max_batches: int = 1_000_000) -> RelayReport:
        """Relay until nothing is due or a batch fails (then the backoff decides when next)."""
        total = RelayReport()
        for _ in range(max_batches):
            report = self.relay_once()
            total.sent += report.sent
            total.duplicates += report.duplicates
            total.failed += report.failed
            total.errors += report.errors
            if report.failed or report.sent == 0:
                break
        return total

    def _send(self, kind: str, messages: list[_Pending], report: RelayReport) -> None:
        endpoint = ENDPOINTS.get(kind)
        if endpoint is None:
            error = f"no server endpoint for messages of kind {kind}"
            self._failed(messages, error, 8, report, hold_all=False)
            return
        payloads = [m.payload for m in messages]
        if kind in self.expanders:
            payloads = self.expanders[kind][0](payloads)
        try:
            answer = self.client.post_batch(endpoint, payloads)
        except ServerRefusedError as exc:
            # 409: one item conflicts with what the server holds under its id
            if len(messages) > 1 and exc.status_code in (409, 413, 422):
                for message in messages:  # find the one the server refuses; send the rest
                    self._send(kind, [message], report)
                return
            self._failed(messages, str(exc), REFUSED_RETRY_FACTOR, report, hold_all=False)
            return
        except SyncError as exc:
            self._failed(messages, str(exc), 1, report, hold_all=True)
            return
        duplicates = int(answer.get("duplicates", 0)) if isinstance(answer, dict) else 0
        with self.database.write() as session:
            outbox.mark_sent(session, [m.id for m in messages])
        report.sent += len(messages)
        report.duplicates += duplicates
        log.info(
            "relayed %d %s messages (%d already on the server)", len(messages), kind, duplicates
        )

    def _failed(
        self,
        messages: list[_Pending],
        error: str,
        factor: int,
        report: RelayReport,
        *,
        hold_all: bool,
    ) -> None:
        attempts = min(m.attempts for m in messages) + 1
        wait = self.backoff.delay(attempts) * factor
        until = self.monotonic() + wait
        if hold_all:
            self._hold_all_until = max(self._hold_all_until, until)
        else:
            self._held.update(dict.fromkeys((m.id for m in messages), until))
        with self.database.write() as session:
            outbox.mark_failed(
                session,
                [m.id for m in messages],
                error=error,
                next_attempt_at=utc_now() + timedelta(seconds=wait),
            )
        report.failed += len(messages)
        report.errors.append(error)
        log.warning("relay of %d messages failed, retry in %.1f s: %s", len(messages), wait, error)
