"""Referrals nobody is working on go back to the queue.

* A claim not acted on within ``claim_timeout_s`` lapses: the claim is cleared, so every
  booth shows the referral free again (another officer could already take it over).
* An admission awaiting a second officer's approval longer than ``approval_timeout_s``
  expires: the request is dropped and the referral is open again, for anyone to decide.

Both are conditional updates on the row as it was read (a booth acting at the same moment
wins), audited under the actor ``server``, and pushed to the booths. They run when the queue
or a referral is read, and every ``lapse_interval_s`` (:func:`lapse_loop`), on the server's
clock (:attr:`ServerState.clock`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from models.records import ReferralStatus
from models.server_tables import ReferralQueueRow, ServerAuditEventRow
from server.control_room import publish_referrals
from server.state import ServerState

log = logging.getLogger(__name__)

ACTOR = "server"
MAX_PER_RUN = 500


def _key(row: ReferralQueueRow) -> tuple[Any, ...]:
    return (
        ReferralQueueRow.kiosk_id == row.kiosk_id,
        ReferralQueueRow.transaction_id == row.transaction_id,
    )


def lapse_stale(state: ServerState, now: datetime | None = None) -> list[ReferralQueueRow]:
    """Release the lapsed claims and expire the stale approval requests; the rows changed."""
    moment = now or state.clock()
    config = state.config
    claims_before = moment - timedelta(seconds=config.claim_timeout_s)
    approvals_before = moment - timedelta(seconds=config.approval_timeout_s)
    changed: list[ReferralQueueRow] = []
    with state.database.session() as session:
        claimed = session.scalars(
            select(ReferralQueueRow)
            .where(
                ReferralQueueRow.status == ReferralStatus.OPEN.value,
                ReferralQueueRow.claimed_by.is_not(None),
                ReferralQueueRow.claimed_at < claims_before,
            )
            .limit(MAX_PER_RUN)
        ).all()
        for row in claimed:
            officer, since = row.claimed_by, row.claimed_at
            result = session.execute(
                update(ReferralQueueRow)
                .where(
                    *_key(row),
                    ReferralQueueRow.status == ReferralStatus.OPEN.value,
                    ReferralQueueRow.claimed_by == officer,
                    ReferralQueueRow.claimed_at == since,
                )  # fmt: skip
                .values(claimed_by=None, claimed_at=None)
            )
            if int(getattr(result, "rowcount", 0) or 0) == 1:
                _audit(session, "referral.claim_lapsed", row, moment, officer=officer)
                changed.append(row)
        pending = session.scalars(
            select(ReferralQueueRow)
            .where(
                ReferralQueueRow.status == ReferralStatus.PENDING_APPROVAL.value,
                ReferralQueueRow.pending_at < approvals_before,
            )
            .limit(MAX_PER_RUN)
        ).all()
        for row in pending:
            requester, since = row.pending_by, row.pending_at
            result = session.execute(
                update(ReferralQueueRow)
                .where(
                    *_key(row),
                    ReferralQueueRow.status == ReferralStatus.PENDING_APPROVAL.value,
                    ReferralQueueRow.pending_at == since,
                )  # fmt: skip
                .values(
                    status=ReferralStatus.OPEN.value,
                    pending_outcome=None,
                    pending_note=None,
                    pending_by=None,
                    pending_at=None,
                    claimed_by=None,
                    claimed_at=None,
                )  # fmt: skip
            )
            if int(getattr(result, "rowcount", 0) or 0) == 1:
                _audit(session, "referral.approval_expired", row, moment, requested_by=requester)
                changed.append(row)
        session.flush()
        for row in changed:
            session.refresh(row)
    if changed:
        log.info("%d referral(s) back in the queue (claim lapsed or approval expired)",
                 len(changed))  # fmt: skip
        publish_referrals(state, changed)
    return changed


def _audit(session: Any, action: str, row: ReferralQueueRow, now: datetime, **details: Any) -> None:
    session.add(
        ServerAuditEventRow(
            actor=ACTOR,
            action=action,
            subject=row.transaction_id,
            details={"kiosk_id": row.kiosk_id, **details},
            time=now,
        )
    )


async def lapse_loop(state: ServerState) -> None:
    while True:
        try:
            await run_in_threadpool(lapse_stale, state)
        except SQLAlchemyError as exc:
            log.warning("releasing lapsed referrals failed: %s", type(exc).__name__)
        await asyncio.sleep(state.config.lapse_interval_s)
