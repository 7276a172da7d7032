"""Purging personal data the server no longer needs: the names and birth date of every
referral, and the document summary of every decision (nationality, expiry, the keyed token
of the number), ``retention_hours`` after the referral or decision. What stays is what the
statistics need: kiosk, times, decision, reasons, checks, timings.

:class:`RetentionPurger` runs :func:`purge` every ``purge_interval_s`` in each server
process (the statements are idempotent, so several processes may run them);
``kiosk server purge`` runs it once."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import null, or_, update
from sqlalchemy.exc import SQLAlchemyError

from models.base import utc_now
from models.server_tables import ReceivedDecisionRow, ReferralQueueRow
from server.config import ServerConfig
from server.database import ServerDatabase

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeReport:
    referrals: int
    documents: int


def purge(
    database: ServerDatabase, retention_hours: float, *, now: datetime | None = None
) -> PurgeReport:
    cutoff = (now or utc_now()) - timedelta(hours=retention_hours)
    with database.session() as session:
        result = session.execute(
            update(ReferralQueueRow)
            .where(ReferralQueueRow.created_at < cutoff)
            .where(
                or_(
                    ReferralQueueRow.surname.is_not(None),
                    ReferralQueueRow.given_names.is_not(None),
                    ReferralQueueRow.birth_date.is_not(None),
                )
            )
            .values(surname=None, given_names=None, birth_date=None)
        )
        referrals = int(getattr(result, "rowcount", 0) or 0)
        result = session.execute(
            update(ReceivedDecisionRow)
            .where(ReceivedDecisionRow.decided_at < cutoff)
            .where(ReceivedDecisionRow.document.is_not(None))
            .values(document=null())
        )
        documents = int(getattr(result, "rowcount", 0) or 0)
    if referrals or documents:
        log.info("retention purge: %d referrals, %d document summaries", referrals, documents)
    return PurgeReport(referrals=referrals, documents=documents)


class RetentionPurger:
    """The periodic purge of one server process (an asyncio task; the work on a thread)."""

    def __init__(self, database: ServerDatabase, config: ServerConfig) -> None:
        self.database = database
        self.config = config
        self._task: asyncio.Task[None] | None = None

    def start(self) -> RetentionPurger:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="kiosk-purge")
        return self

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(purge, self.database, self.config.retention_hours)
            except SQLAlchemyError as exc:
                log.warning("retention purge failed: %s", exc.__class__.__name__)
            await asyncio.sleep(self.config.purge_interval_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
