"""The referral queue of the officer booth: hits first, newest first, paging and filters by
site and lane; one referral (audited, full document number), its photos (audited), claims,
the resolution (one per referral on every database) and the four-eyes approval.

A resolution is a conditional ``UPDATE ... WHERE status = 'open'`` (and not claimed by
someone else): of officers resolving at once exactly one changes the row, the others get 409.
It is the first statement of its transaction, so SQLite takes the write lock (waiting its busy
timeout) instead of failing on a stale snapshot.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from models.family import FamilyTag, family_of_checks
from models.records import ReferralOutcome, ReferralStatus
from models.server_tables import (
    DeviceRow,
    ReceivedDecisionRow,
    ReferralQueueRow,
    ServerAuditEventRow,
)
from server.api.referral_schemas import ApprovalIn, PhotosOut, ResolutionResult
from server.api.schemas import (
    CheckOut,
    Identifier,
    ReferralDetailOut,
    ReferralList,
    ReferralOut,
    ResolutionIn,
    error_responses,
)
from server.control_room import (
    WAITING_STATUSES,
    audit,
    publish_referrals,
    referral_out,
    user_site,
)
from server.notify import publish
from server.referral_lapses import lapse_stale
from server.security.identity import require_role
from server.security.tokens import Role, TokenClaims
from server.state import ServerState, server_state

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/v1/referrals",
    tags=["officer booth"],
    responses=error_responses(400, 401, 403, 404, 409, 422, 503),
)
OFFICERS = require_role(Role.OFFICER, Role.SUPERVISOR)
PHOTOS_VIEWED = "referral.photos_viewed"


def _site_column() -> Any:
    return func.coalesce(ReferralQueueRow.site, DeviceRow.site)


def _visible(
    session: Session, claims: TokenClaims, transaction_id: str, kiosk_id: str | None
) -> ReferralQueueRow:
    """The referral of ``transaction_id`` (of ``kiosk_id`` when given) if it exists at the
    officer's site (404 otherwise: no probing); 409 when several kiosks of the officer's
    sites hold that transaction id and no kiosk is named."""
    site = user_site(session, claims)
    query = (
        select(ReferralQueueRow)
        .outerjoin(DeviceRow, DeviceRow.name == ReferralQueueRow.kiosk_id)
        .where(ReferralQueueRow.transaction_id == transaction_id)
    )
    if kiosk_id is not None:
        query = query.where(ReferralQueueRow.kiosk_id == kiosk_id)
    if site is not None:
        query = query.where(_site_column() == site)
    rows = session.scalars(query.limit(2)).all()
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such referral")
    if len(rows) > 1:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail="several kiosks used this transaction id: name the kiosk (kiosk_id)",
        )
    return rows[0]


def _key(row: ReferralQueueRow) -> tuple[Any, ...]:
    """The WHERE clause of one referral: its (kiosk, transaction) key."""
    return (
        ReferralQueueRow.kiosk_id == row.kiosk_id,
        ReferralQueueRow.transaction_id == row.transaction_id,
    )


def _id(row: ReferralQueueRow) -> tuple[str, str]:
    return (row.kiosk_id, row.transaction_id)


def _families(
    session: Session, rows: Sequence[ReferralQueueRow]
) -> dict[tuple[str, str], FamilyTag]:
    """The family tag of each referral of ``rows`` that belongs to a family transaction,
    read from its decision's ``family`` check (one query for the page)."""
    if not rows:
        return {}
    wanted = {_id(row) for row in rows}
    found = session.execute(
        select(
            ReceivedDecisionRow.kiosk_id,
            ReceivedDecisionRow.transaction_id,
            ReceivedDecisionRow.checks,
        ).where(
            ReceivedDecisionRow.transaction_id.in_({tid for _k, tid in wanted}),
            ReceivedDecisionRow.kiosk_id.in_({kiosk for kiosk, _t in wanted}),
        )
    )
    tags = {}
    for kiosk, transaction, checks in found:
        tag = family_of_checks(checks)
        if tag is not None and (kiosk, transaction) in wanted:
            tags[(kiosk, transaction)] = tag
    return tags


def _with_family(out: ReferralOut, tag: FamilyTag | None) -> ReferralOut:
    if tag is None:
        return out
    return out.model_copy(
        update={
            "family_id": tag.family_id,
            "family_position": tag.position,
            "family_size": tag.size,
        }
    )


@router.get("", response_model=ReferralList, summary="the referral queue")
def list_referrals(
    status_: str = Query("open", alias="status", pattern="^(open|pending_approval|resolved)$"),
    site: Identifier | None = Query(None),
    kiosk: Identifier | None = Query(None),
    hits_only: bool = Query(False),
    offset: int = Query(0, ge=0, le=1_000_000),
    limit: int = Query(100, ge=1, le=500),
    user: TokenClaims = Depends(OFFICERS),
    state: ServerState = Depends(server_state),
) -> ReferralList:
    """``open``: every referral still waiting (open, or an admission awaiting approval),
    hits first, then newest first. ``resolved``: the history, newest resolution first. An
    officer of a site sees only that site. The read is audited with the ids it returned.
    Lapsed claims and expired approval requests are released first."""
    lapse_stale(state)
    with state.database.session() as session:
        own = user_site(session, user)
        if own is not None and site is not None and site != own:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="another site's referrals")
        query = select(ReferralQueueRow).outerjoin(
            DeviceRow, DeviceRow.name == ReferralQueueRow.kiosk_id
        )
        if status_ == "open":
            query = query.where(ReferralQueueRow.status.in_(WAITING_STATUSES))
            order: tuple[Any, ...] = (
                ReferralQueueRow.priority,
                ReferralQueueRow.created_at.desc(),
            )
        else:
            query = query.where(ReferralQueueRow.status == status_)
            order = (ReferralQueueRow.resolved_at.desc(), ReferralQueueRow.created_at.desc())
        if own is not None or site is not None:
            query = query.where(_site_column() == (own or site))
        if kiosk is not None:
            query = query.where(ReferralQueueRow.kiosk_id == kiosk)
        if hits_only:
            query = query.where(ReferralQueueRow.priority == 0)
        total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
        rows = session.scalars(
            query.order_by(*order, ReferralQueueRow.transaction_id).offset(offset).limit(limit)
        ).all()
        tags = _families(session, rows)
        items = [_with_family(referral_out(row), tags.get(_id(row))) for row in rows]
        audit(
            session,
            user,
            "referral.list",
            None,
            status=status_,
            offset=offset,
            count=len(items),
            ids=[item.transaction_id for item in items],
        )
    return ReferralList(items=items, total=total, offset=offset)


@router.get("/{transaction_id}", response_model=ReferralDetailOut, summary="one referral")
def get_referral(
    transaction_id: Identifier,
    kiosk_id: Identifier | None = Query(None),
    user: TokenClaims = Depends(OFFICERS),
    state: ServerState = Depends(server_state),
) -> ReferralDetailOut:
    """The referral with its checks, document summary, the full document number and the
    photos the server holds; audited. ``kiosk_id`` is needed only when two kiosks used the
    same transaction id (409)."""
    with state.database.session() as session:
        row = _visible(session, user, transaction_id, kiosk_id)
        decision = session.get(ReceivedDecisionRow, (row.kiosk_id, transaction_id))
        audit(session, user, "referral.view", transaction_id, kiosk_id=row.kiosk_id)
        summary = _with_family(referral_out(row), family_of_checks(decision and decision.checks))
        photos = (
            sorted(state.photos.load(session, row.kiosk_id, transaction_id)) if state.photos else []
        )
        checks = [CheckOut.model_validate(c) for c in decision.checks] if decision else []
        return ReferralDetailOut(
            **summary.model_dump(),
            decision=decision.decision if decision else None,
            policy=decision.policy if decision else None,
            checks=checks,
            document=dict(decision.document) if decision and decision.document else None,
            document_number_full=row.document_number,
            photos=photos,
            photos_purged=row.photos_purged_at is not None,
        )


@router.get("/{transaction_id}/photos", response_model=PhotosOut, summary="the photos")
def get_photos(
    transaction_id: Identifier,
    kiosk_id: Identifier | None = Query(None),
    user: TokenClaims = Depends(OFFICERS),
    state: ServerState = Depends(server_state),
) -> PhotosOut:
    """The chip photo and the best live frame; every view is audited. 404 when the server
    holds neither (not yet received, or purged after the retention)."""
    with state.database.session() as session:
        row = _visible(session, user, transaction_id, kiosk_id)
        found = state.photos.load(session, row.kiosk_id, transaction_id) if state.photos else {}
        if not found:
            detail = "the photos were purged" if row.photos_purged_at else "no photos yet"
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=detail)
        audit(
            session, user, PHOTOS_VIEWED, transaction_id, kiosk_id=row.kiosk_id, kinds=sorted(found)
        )

    def b64(kind: str) -> str | None:
        data = found.get(kind)
        return base64.b64encode(data).decode("ascii") if data else None

    return PhotosOut(
        transaction_id=transaction_id,
        chip_portrait=b64("chip_portrait"),
        live_frame=b64("live_frame"),
        purged=False,
    )


def _claim_free(state: ServerState, user: TokenClaims) -> Any:
    lapsed = state.clock() - timedelta(seconds=state.config.claim_timeout_s)
    return or_(
        ReferralQueueRow.claimed_by.is_(None),
        ReferralQueueRow.claimed_by == user.user,
        ReferralQueueRow.claimed_at < lapsed,
    )


def _changed(result: Any) -> bool:
    return int(getattr(result, "rowcount", 0) or 0) == 1


def _conflict(session: Session, kiosk_id: str, transaction_id: str) -> HTTPException:
    row = session.get(ReferralQueueRow, (kiosk_id, transaction_id))
    if row is None:
        return HTTPException(status.HTTP_404_NOT_FOUND, detail="no such referral")
    if row.status == ReferralStatus.RESOLVED.value:
        return HTTPException(status.HTTP_409_CONFLICT, detail="the referral is not open")
    if row.status == ReferralStatus.PENDING_APPROVAL.value:
        return HTTPException(status.HTTP_409_CONFLICT, detail="the referral awaits approval")
    if row.claimed_by is None:  # open and free: an approval that expired, say
        return HTTPException(status.HTTP_409_CONFLICT, detail="the referral awaits no approval")
    return HTTPException(
        status.HTTP_409_CONFLICT, detail=f"the referral is claimed by {row.claimed_by}"
    )


@router.post("/{transaction_id}/claim", response_model=ResolutionResult, summary="claim")
def claim(
    transaction_id: Identifier,
    kiosk_id: Identifier | None = Query(None),
    user: TokenClaims = Depends(OFFICERS),
    state: ServerState = Depends(server_state),
) -> ResolutionResult:
    """Take the referral: other booths see it taken and cannot resolve it until it is
    released or the claim lapses (``claim_timeout_s``). 409 when someone else holds it."""
    return _set_claim(transaction_id, kiosk_id, user, state, take=True)


@router.delete("/{transaction_id}/claim", response_model=ResolutionResult, summary="release")
def release(
    transaction_id: Identifier,
    kiosk_id: Identifier | None = Query(None),
    user: TokenClaims = Depends(OFFICERS),
    state: ServerState = Depends(server_state),
) -> ResolutionResult:
    return _set_claim(transaction_id, kiosk_id, user, state, take=False)


def _set_claim(
    transaction_id: str,
    kiosk_id: str | None,
    user: TokenClaims,
    state: ServerState,
    *,
    take: bool,
) -> ResolutionResult:
    with state.database.sessions() as session:
        row = _visible(session, user, transaction_id, kiosk_id)
    kiosk = row.kiosk_id
    now = state.clock()
    with state.database.session() as session:
        result = session.execute(
            update(ReferralQueueRow)
            .where(
                *_key(row),
                ReferralQueueRow.status == ReferralStatus.OPEN.value,
                _claim_free(state, user) if take else ReferralQueueRow.claimed_by == user.user,
            )
            .values(claimed_by=user.user if take else None, claimed_at=now if take else None)
        )
        if not _changed(result):
            raise _conflict(session, kiosk, transaction_id)
        audit(
            session,
            user,
            "referral.claim" if take else "referral.release",
            transaction_id,
            kiosk_id=kiosk,
        )
        changed = _reload(session, kiosk, transaction_id)
        out = ResolutionResult(**referral_out(changed).model_dump())
    publish_referrals(state, [changed])
    return out


def _reload(session: Session, kiosk_id: str, transaction_id: str) -> ReferralQueueRow:
    row = session.get(ReferralQueueRow, (kiosk_id, transaction_id))
    assert row is not None  # changed just now in this transaction
    return row


def _notify_resolved(session: Session, row: ReferralQueueRow) -> None:
    """Tell every server process (LISTEN/NOTIFY, on commit) that the referral is resolved."""
    publish(
        session,
        "referrals",
        {"event": "resolved", "kiosk_id": row.kiosk_id, "transaction_id": row.transaction_id},
    )


def _photos_viewed(session: Session, user: TokenClaims, row: ReferralQueueRow) -> bool:
    """Whether this officer viewed the photos of this referral (of its kiosk: another
    kiosk's transaction of the same id does not count)."""
    details = session.scalars(
        select(ServerAuditEventRow.details).where(
            ServerAuditEventRow.actor == user.user,
            ServerAuditEventRow.action == PHOTOS_VIEWED,
            ServerAuditEventRow.subject == row.transaction_id,
        )
    )
    return any((detail or {}).get("kiosk_id") == row.kiosk_id for detail in details)


@router.post("/{transaction_id}/resolution", response_model=ResolutionResult, summary="resolve")
def resolve_referral(
    transaction_id: Identifier,
    body: ResolutionIn,
    kiosk_id: Identifier | None = Query(None),
    user: TokenClaims = Depends(OFFICERS),
    state: ServerState = Depends(server_state),
) -> ResolutionResult:
    """Admit, refuse or send to secondary inspection, with a note; audited; the kiosk
    receives the resolution at its next pull. Admitting a referral whose reasons are in
    ``four_eyes_reasons`` only records the request (``pending_approval``) until another
    officer approves; admitting one in ``photos_required_reasons`` needs the photos viewed."""
    config = state.config
    with state.database.sessions() as session:
        row = _visible(session, user, transaction_id, kiosk_id)
        reasons = set(row.reasons or [])
        admit = body.outcome is ReferralOutcome.ADMITTED
        needs_photos = admit and bool(reasons & set(config.photos_required_reasons))
        if needs_photos and not _photos_viewed(session, user, row):
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail="look at the photos before admitting a face mismatch",
            )
    four_eyes = admit and bool(reasons & set(config.four_eyes_reasons))
    now = state.clock()
    values: dict[str, Any]
    if four_eyes:
        values = {
            "status": ReferralStatus.PENDING_APPROVAL.value,
            "pending_outcome": body.outcome.value,
            "pending_note": body.note,
            "pending_by": user.user,
            "pending_at": now,
        }
    else:
        values = {
            "status": ReferralStatus.RESOLVED.value,
            "outcome": body.outcome.value,
            "note": body.note,
            "officer": user.user,
            "resolved_at": now,
        }
    with state.database.session() as session:
        result = session.execute(
            update(ReferralQueueRow)
            .where(
                *_key(row),
                ReferralQueueRow.status == ReferralStatus.OPEN.value,
                _claim_free(state, user),
            )
            .values(**values)
        )
        if not _changed(result):
            raise _conflict(session, row.kiosk_id, transaction_id)
        audit(
            session,
            user,
            "referral.admission_requested" if four_eyes else "referral.resolve",
            transaction_id,
            now,
            kiosk_id=row.kiosk_id,
            outcome=body.outcome.value,
            note_chars=len(body.note),
        )
        changed = _reload(session, row.kiosk_id, transaction_id)
        out = ResolutionResult(**referral_out(changed).model_dump(), needs_approval=four_eyes)
        if not four_eyes:
            _notify_resolved(session, changed)
    publish_referrals(state, [changed])
    log.info(
        "referral %s: %s%s",
        transaction_id,
        body.outcome.value,
        " awaiting approval" if four_eyes else "",
    )
    return out


@router.post("/{transaction_id}/approval", response_model=ResolutionResult, summary="approve")
def approve(
    transaction_id: Identifier,
    body: ApprovalIn,
    kiosk_id: Identifier | None = Query(None),
    user: TokenClaims = Depends(OFFICERS),
    state: ServerState = Depends(server_state),
) -> ResolutionResult:
    """The second officer (their own login, never the one who asked) approves the admission,
    which resolves the referral, or declines it, which reopens it. Both are audited."""
    with state.database.sessions() as session:
        row = _visible(session, user, transaction_id, kiosk_id)
        if row.pending_by == user.user:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail="a second officer must approve the admission"
            )
    now = state.clock()
    waiting = (
        *_key(row),
        ReferralQueueRow.status == ReferralStatus.PENDING_APPROVAL.value,
        ReferralQueueRow.pending_by != user.user,
    )
    with state.database.session() as session:
        if body.approve:
            statement = (
                update(ReferralQueueRow)
                .where(*waiting)
                .values(
                    status=ReferralStatus.RESOLVED.value,
                    outcome=ReferralQueueRow.pending_outcome,
                    note=ReferralQueueRow.pending_note,
                    officer=ReferralQueueRow.pending_by,
                    approved_by=user.user,
                    resolved_at=now,
                )
            )
        else:
            statement = (
                update(ReferralQueueRow)
                .where(*waiting)
                .values(
                    status=ReferralStatus.OPEN.value,
                    pending_outcome=None,
                    pending_note=None,
                    pending_by=None,
                    pending_at=None,
                )
            )
        if not _changed(session.execute(statement)):
            raise _conflict(session, row.kiosk_id, transaction_id)
        audit(
            session,
            user,
            "referral.admission_approved" if body.approve else "referral.admission_declined",
            transaction_id,
            now,
            kiosk_id=row.kiosk_id,
            note_chars=len(body.note),
        )
        changed = _reload(session, row.kiosk_id, transaction_id)
        out = ResolutionResult(**referral_out(changed).model_dump())
        if body.approve:
            _notify_resolved(session, changed)
    publish_referrals(state, [changed])
    return out
