"""Endpoints for kiosks (mutual TLS): decisions, referrals, officer resolutions, list deltas,
heartbeats and audit checkpoints. Every batch is idempotent."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sized
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.base import utc_now
from models.records import ReferralOutcome
from models.server_tables import HeartbeatRow, ReferralQueueRow, ServerAuditEventRow
from server.alerts import raise_alert
from server.api import lists
from server.api.schemas import (
    AckIn,
    BatchResult,
    CheckpointBatch,
    DecisionBatch,
    HeartbeatIn,
    ItemOutcome,
    ItemResult,
    ListDelta,
    ListName,
    ReferralBatch,
    RefusalBatch,
    ResolutionList,
    ResolutionOut,
    StoredResult,
    error_responses,
)
from server.audit_checkpoints import check_checkpoints, record_anomalies
from server.control_room import publish_referrals
from server.ingest import (
    ConflictingRecordError,
    new_referral_ids,
    store_checkpoints,
    store_decisions,
    store_referrals,
    store_refusals,
)
from server.notify import publish
from server.security.identity import DeviceIdentity, require_device
from server.state import ServerState, server_state

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/v1/kiosk",
    tags=["kiosk (mutual TLS)"],
    responses=error_responses(400, 401, 403, 409, 413, 422, 503),
)

MAX_RESOLUTIONS = 200


def _check_sender(device: DeviceIdentity, kiosk_ids: Iterable[str]) -> None:
    others = {kiosk_id for kiosk_id in kiosk_ids if kiosk_id != device.name}
    if others:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"device {device.name} may only send its own items (kiosk_id)",
        )


def _check_clock(state: ServerState, label: str, times: Iterable[tuple[int, datetime]]) -> None:
    limit = utc_now() + timedelta(seconds=state.config.max_clock_skew_s)
    for index, moment in times:
        if moment > limit:
            ahead = (moment - utc_now()).total_seconds()
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"items[{index}].{label} is {ahead:.0f} s in the future "
                f"(allowed clock skew {state.config.max_clock_skew_s:.0f} s): check the "
                "kiosk's clock",
            )


def _results(ids: list[str], new: set[str], state: ServerState, kind: str) -> BatchResult:
    items: list[ItemResult] = []
    seen: set[str] = set()
    for transaction_id in ids:
        fresh = transaction_id in new and transaction_id not in seen
        seen.add(transaction_id)
        outcome = ItemOutcome.ACCEPTED if fresh else ItemOutcome.DUPLICATE
        items.append(ItemResult(transaction_id=transaction_id, outcome=outcome))
    accepted = sum(1 for item in items if item.outcome is ItemOutcome.ACCEPTED)
    state.metrics.items.labels(kind, "accepted").inc(accepted)
    state.metrics.items.labels(kind, "duplicate").inc(len(items) - accepted)
    return BatchResult(accepted=accepted, duplicates=len(items) - accepted, items=items)


def _announce(
    state: ServerState, session: Session, kiosk_id: str, transaction_ids: Iterable[str]
) -> None:
    """New referrals: the booths' queues and the lanes' tiles change, announced in the
    transaction that stores them (sent when, and only if, it commits)."""
    ids = list(transaction_ids)
    if not ids:
        return
    rows = session.scalars(
        select(ReferralQueueRow).where(
            ReferralQueueRow.kiosk_id == kiosk_id, ReferralQueueRow.transaction_id.in_(ids)
        )
    ).all()
    publish_referrals(state, list(rows), session=session)


def _store(
    state: ServerState,
    store: Callable[[Session, Any], set[str]],
    items: Any,
    announce: Callable[[Session, set[str]], None] | None = None,
) -> set[str]:
    """``store`` the items in one transaction, with ``announce`` (of what was new) in it."""
    _check_batch_size(state, items)
    try:
        with state.database.session() as session:
            new = store(session, items)
            if announce is not None:
                announce(session, new)
            return new
    except ConflictingRecordError as exc:
        state.metrics.items.labels("record", "conflict").inc()
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc


def _check_batch_size(state: ServerState, items: Sized) -> None:
    limit = state.config.max_batch_items
    if len(items) > limit:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail=f"{len(items)} items in one batch; at most {limit} (max_batch_items)",
        )


@router.post("/decisions", response_model=BatchResult, summary="a batch of decisions")
def post_decisions(
    batch: DecisionBatch,
    device: DeviceIdentity = Depends(require_device),
    state: ServerState = Depends(server_state),
) -> BatchResult:
    """Store decided transactions (and the referrals they open). Idempotent by transaction
    id: a resent batch changes nothing and its items come back as ``duplicate``."""
    _check_sender(device, (item.kiosk_id for item in batch.items))
    _check_clock(state, "decided_at", enumerate(item.decided_at for item in batch.items))
    new = _store(
        state,
        store_decisions,
        batch.items,
        lambda session, new: _announce(
            state, session, device.name, new_referral_ids(batch.items, new)
        ),
    )
    log.info("device %s: %d decisions, %d new", device.name, len(batch.items), len(new))
    return _results([item.transaction_id for item in batch.items], new, state, "decision")


@router.post("/referrals", response_model=BatchResult, summary="a batch of referrals")
def post_referrals(
    batch: ReferralBatch,
    device: DeviceIdentity = Depends(require_device),
    state: ServerState = Depends(server_state),
) -> BatchResult:
    _check_sender(device, (item.kiosk_id for item in batch.items))
    _check_clock(state, "created_at", enumerate(item.created_at for item in batch.items))
    new = _store(
        state,
        store_referrals,
        batch.items,
        lambda session, new: _announce(state, session, device.name, sorted(new)),
    )
    return _results([item.transaction_id for item in batch.items], new, state, "referral")


@router.get("/resolutions", response_model=ResolutionList, summary="officer resolutions")
def get_resolutions(
    limit: int = Query(100, ge=1, le=MAX_RESOLUTIONS),
    device: DeviceIdentity = Depends(require_device),
    state: ServerState = Depends(server_state),
) -> ResolutionList:
    """Resolutions of this kiosk's referrals not yet acknowledged (oldest first)."""
    with state.database.sessions() as session:
        rows = session.scalars(
            select(ReferralQueueRow)
            .where(
                ReferralQueueRow.kiosk_id == device.name,
                ReferralQueueRow.status == "resolved",
                ReferralQueueRow.delivered_at.is_(None),
            )
            .order_by(ReferralQueueRow.resolved_at)
            .limit(limit)
        ).all()
    items = [
        ResolutionOut(
            transaction_id=row.transaction_id,
            outcome=ReferralOutcome(row.outcome or ReferralOutcome.SECONDARY_INSPECTION.value),
            note=row.note or "",
            officer=row.officer or "",
            resolved_at=row.resolved_at or row.received_at,
        )
        for row in rows
    ]
    return ResolutionList(items=items)


@router.post("/resolutions/ack", response_model=StoredResult, summary="acknowledge resolutions")
def ack_resolutions(
    ack: AckIn,
    device: DeviceIdentity = Depends(require_device),
    state: ServerState = Depends(server_state),
) -> StoredResult:
    with state.database.session() as session:
        result = session.execute(
            update(ReferralQueueRow)
            .where(
                ReferralQueueRow.kiosk_id == device.name,
                ReferralQueueRow.transaction_id.in_(set(ack.transaction_ids)),
                ReferralQueueRow.status == "resolved",
                ReferralQueueRow.delivered_at.is_(None),
            )
            .values(delivered_at=utc_now())
        )
    done = int(getattr(result, "rowcount", 0) or 0)
    return StoredResult(accepted=done, duplicates=len(set(ack.transaction_ids)) - done)


@router.get("/lists/{name}", response_model=ListDelta, summary="changes of a list")
def get_list_delta(
    name: ListName,
    since: int = Query(0, ge=0, le=2**53),
    limit: int = Query(lists.DEFAULT_PAGE, ge=1, le=lists.MAX_PAGE),
    port: str | None = Query(None, pattern=r"^[A-Z]{3}$", description="manifest: this port's"),
    device: DeviceIdentity = Depends(require_device),
    state: ServerState = Depends(server_state),
) -> ListDelta:
    """The changes after version ``since``; ``more`` says another page follows. For the
    manifest, ``port`` keeps the vetted manifests of that port's flights only."""
    return lists.delta(state, name, since, limit, port=port)


@router.post("/heartbeat", response_model=StoredResult, summary="device heartbeat")
def post_heartbeat(
    beat: HeartbeatIn,
    device: DeviceIdentity = Depends(require_device),
    state: ServerState = Depends(server_state),
) -> StoredResult:
    _check_clock(state, "sent_at", [(0, beat.sent_at)])
    values = {
        "device_name": device.name,
        "received_at": utc_now(),
        "sent_at": beat.sent_at,
        "status": beat.status,
        "backlog": beat.backlog,
        "software_version": beat.software_version,
        "devices": dict(beat.devices),
    }
    if beat.trust is not None:  # the latest coverage the kiosk reported; kept otherwise
        values["trust_coverage"] = {
            "states": [s.model_dump(mode="json") for s in beat.trust.states]
        }
        values["trust_reported_at"] = values["received_at"]
    table: Table = HeartbeatRow.__table__  # type: ignore[assignment]
    with state.database.session() as session:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(table).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["device_name"],
            set_={key: value for key, value in values.items() if key != "device_name"},
        )
        session.execute(statement)
        publish(session, "heartbeats", {"device": device.name, "status": beat.status})
    return StoredResult(accepted=1, duplicates=0)


@router.post("/refusals", response_model=BatchResult, summary="signed versions refused")
def post_refusals(
    batch: RefusalBatch,
    device: DeviceIdentity = Depends(require_device),
    state: ServerState = Depends(server_state),
) -> BatchResult:
    """Signed versions of the configuration or trust this kiosk refused to apply (a
    signature that fails, another key, self-approval, a value beyond its local bounds):
    each new one is audited and raised as an alert for the supervisors (``GET /v1/alerts``),
    and counted in the fleet view (``GET /v1/devices``). Idempotent by refusal id."""
    _check_sender(device, (item.kiosk_id for item in batch.items))
    _check_clock(state, "refused_at", enumerate(item.refused_at for item in batch.items))
    _check_batch_size(state, batch.items)
    with state.database.session() as session:
        new = store_refusals(session, batch.items)
        for item in {i.refusal_id: i for i in batch.items if i.refusal_id in new}.values():
            subject = f"{item.list_name} v{item.version}"
            details = {"kiosk": device.name, "list": item.list_name, "version": item.version,
                       "key": item.key, "reason": item.reason}  # fmt: skip
            raise_alert(session, "kiosk.refused_change", actor=device.name, subject=subject,
                        details=details)  # fmt: skip
            session.add(ServerAuditEventRow(actor=device.name, action="kiosk.refused_change",
                                            subject=subject, details=details,
                                            time=utc_now()))  # fmt: skip
    if new:
        log.warning("device %s refused %d signed versions", device.name, len(new))
    return _results([item.refusal_id for item in batch.items], new, state, "refusal")


@router.post("/audit-checkpoints", response_model=StoredResult, summary="audit checkpoints")
def post_checkpoints(
    batch: CheckpointBatch,
    device: DeviceIdentity = Depends(require_device),
    state: ServerState = Depends(server_state),
) -> StoredResult:
    """Checkpoints signed by the device's audit key (registered at enrolment, or on first
    use); a bad signature, another key or a rewritten checkpoint refuses the batch (422) and
    is recorded for the supervisors (``GET /v1/audit/anomalies``)."""
    _check_sender(device, (item.kiosk_id for item in batch.items))
    _check_clock(state, "time", enumerate(item.time for item in batch.items))
    _check_batch_size(state, batch.items)
    stored = 0
    with state.database.session() as session:
        anomalies = check_checkpoints(session, device.name, batch.items)
        if not anomalies:
            stored = store_checkpoints(session, batch.items)
    if anomalies:
        with state.database.session() as session:
            record_anomalies(session, device.name, anomalies)
        state.metrics.items.labels("checkpoint", "refused").inc(len(anomalies))
        first = anomalies[0]
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"audit checkpoint {first.seq} refused: {first.kind} ({first.detail})",
        )
    return StoredResult(accepted=stored, duplicates=len(batch.items) - stored)
