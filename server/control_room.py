"""What the officer control room's endpoints share: the officer's site, the queue line of a
referral (document number masked), the lane tile, and the notifications pushed to booths."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.officer.referrals import mask_number
from models.base import utc_now
from models.records import ReferralStatus
from models.server_tables import LaneStateRow, ReferralQueueRow, ServerAuditEventRow, UserRow
from server.api.schemas import ReferralOut
from server.pubsub import LANES, REFERRALS
from server.security.tokens import TokenClaims
from server.state import ServerState

WAITING_STATUSES = (ReferralStatus.OPEN.value, ReferralStatus.PENDING_APPROVAL.value)


def user_site(session: Session, claims: TokenClaims) -> str | None:
    """The site an officer works at; None for a regional user who sees every site."""
    user = session.get(UserRow, claims.user)
    return user.site if user is not None else None


def referral_out(row: ReferralQueueRow, *, full_number: bool = False) -> ReferralOut:
    out = ReferralOut.model_validate(row, from_attributes=True)
    return out.model_copy(
        update={
            "hit": row.priority == 0,
            "document_number": row.document_number
            if full_number
            else mask_number(row.document_number),
            "listed": list(row.listed or []),
        }
    )


def audit(
    session: Session,
    claims: TokenClaims,
    action: str,
    subject: str | None,
    now: datetime | None = None,
    **details: Any,
) -> None:
    session.add(
        ServerAuditEventRow(
            actor=claims.user,
            action=action,
            subject=subject,
            details={"role": claims.role.value, **details},
            time=now or utc_now(),
        )
    )


def lane_tile(session: Session, row: LaneStateRow) -> dict[str, Any]:
    waiting = session.execute(
        select(func.count(), func.min(ReferralQueueRow.priority)).where(
            ReferralQueueRow.kiosk_id == row.device_name,
            ReferralQueueRow.status.in_(WAITING_STATUSES),
        )
    ).one()
    count, best = int(waiting[0] or 0), waiting[1]
    return {
        "lane": row.device_name,
        "site": row.site,
        "seq": row.seq,
        "step": row.step,
        "step_since": row.step_since.isoformat(),
        "in_service": row.in_service,
        "causes": list(row.causes or []),
        "door": row.door,
        "assistance": row.assistance,
        "referrals_waiting": count,
        "alarm": count > 0 and best == 0,
        "event_at": row.event_at.isoformat(),
        "received_at": row.received_at.isoformat(),
    }


def publish_lane(
    state: ServerState, session: Session, device: str, *, in_transaction: bool = False
) -> None:
    """The lane's tile to the walls; with ``in_transaction`` when ``session`` commits."""
    row = session.get(LaneStateRow, device)
    if row is not None:
        tile = [{"type": "lane", "tile": lane_tile(session, row)}]
        state.pubsub.publish_many(LANES, tile, session=session if in_transaction else None)


def publish_referrals(
    state: ServerState, rows: list[ReferralQueueRow], *, session: Session | None = None
) -> None:
    """Tell the booths what changed in the queue (no names: they reload what they show);
    with ``session``, when (and only if) its transaction commits, in one NOTIFY with it."""
    if session is not None:
        _publish_referrals(state, rows, session)
        for device in {row.kiosk_id for row in rows}:
            publish_lane(state, session, device, in_transaction=True)
        return
    _publish_referrals(state, rows, None)
    with state.database.sessions() as reading:
        for device in {row.kiosk_id for row in rows}:
            publish_lane(state, reading, device)


def _publish_referrals(
    state: ServerState, rows: list[ReferralQueueRow], session: Session | None
) -> None:
    state.pubsub.publish_many(
        REFERRALS,
        [
            {
                "type": "referral",
                "transaction_id": row.transaction_id,
                "kiosk_id": row.kiosk_id,
                "site": row.site,
                "status": row.status,
                "claimed_by": row.claimed_by,
                "hit": row.priority == 0,
            }
            for row in rows
        ],
        session=session,
    )
