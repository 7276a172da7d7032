"""Endpoints for people: log in; officers and supervisors work the referral queue;
technicians see devices; administrators manage users, devices and lists."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from sqlalchemy import select

from models.base import utc_now
from models.records import ReferralStatus
from models.server_tables import (
    DeviceRow,
    HeartbeatRow,
    ReceivedDecisionRow,
    ReferralQueueRow,
    ServerAuditEventRow,
    UserRow,
)
from server import accounts
from server.api import lists
from server.api.schemas import (
    AuditEventList,
    AuditEventOut,
    CheckOut,
    DeviceList,
    DeviceOut,
    Identifier,
    ListName,
    ListUpload,
    ListVersionOut,
    LoginIn,
    ReferralDetailOut,
    ReferralList,
    ReferralOut,
    ResolutionIn,
    StoredResult,
    TokenOut,
    UserIn,
    UserOut,
    error_responses,
)
from server.security.identity import require_role
from server.security.passwords import verify_password
from server.security.tokens import Role, TokenClaims
from server.state import ServerState, server_state

log = logging.getLogger(__name__)

ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 503)
auth = APIRouter(prefix="/v1/auth", tags=["people"], responses={**ERRORS, **error_responses(429)})
officer = APIRouter(prefix="/v1/referrals", tags=["officer booth"], responses=ERRORS)
technician = APIRouter(prefix="/v1/devices", tags=["technician"], responses=ERRORS)
admin = APIRouter(prefix="/v1/admin", tags=["administrator"], responses=ERRORS)
supervisor = APIRouter(prefix="/v1/audit", tags=["supervisor"], responses=ERRORS)

OFFICERS = require_role(Role.OFFICER, Role.SUPERVISOR)
SUPERVISORS = require_role(Role.SUPERVISOR)
TECHNICIANS = require_role(Role.TECHNICIAN)
ADMINISTRATORS = require_role(Role.ADMINISTRATOR)


@auth.post("/token", response_model=TokenOut, summary="log in")
def login(body: LoginIn, request: Request, state: ServerState = Depends(server_state)) -> TokenOut:
    """A short-lived bearer token for a user name and password. Too many failures for the
    name or from the client address: 429 with ``Retry-After`` (see ``login_max_failures``)."""
    address = request.client.host if request.client else "unknown"
    wait = state.login_limiter.retry_after(body.username, address)
    if wait is not None:
        state.metrics.refused.labels("login_throttled").inc()
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"too many failed logins; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    with state.database.sessions() as session:
        user = session.get(UserRow, body.username)
    valid = verify_password(user.password_hash if user else None, body.password)
    if not valid or user is None or user.disabled_at is not None:
        state.login_limiter.failed(body.username, address)
        time.sleep(0.05)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="wrong user name or password")
    state.login_limiter.succeeded(body.username)
    token, expires = state.tokens.issue(user.name, Role(user.role))
    log.info("user %s logged in", user.name)
    return TokenOut(access_token=token, role=user.role, expires_at=expires)


def _referral_out(row: ReferralQueueRow) -> ReferralOut:
    return ReferralOut.model_validate(row, from_attributes=True)


@officer.get("", response_model=ReferralList, summary="the referral queue")
def list_referrals(
    status_: ReferralStatus = Query(ReferralStatus.OPEN, alias="status"),
    limit: int = Query(100, ge=1, le=500),
    user: TokenClaims = Depends(OFFICERS),
    state: ServerState = Depends(server_state),
) -> ReferralList:
    with state.database.sessions() as session:
        rows = session.scalars(
            select(ReferralQueueRow)
            .where(ReferralQueueRow.status == status_.value)
            .order_by(ReferralQueueRow.created_at)
            .limit(limit)
        ).all()
    return ReferralList(items=[_referral_out(row) for row in rows])


@officer.get("/{transaction_id}", response_model=ReferralDetailOut, summary="one referral")
def get_referral(
    transaction_id: Identifier,
    user: TokenClaims = Depends(OFFICERS),
    state: ServerState = Depends(server_state),
) -> ReferralDetailOut:
    """The referral with the checks and document summary of its decision; audited."""
    with state.database.session() as session:
        row = session.get(ReferralQueueRow, transaction_id)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such referral")
        decision = session.get(ReceivedDecisionRow, transaction_id)
        session.add(
            ServerAuditEventRow(
                actor=user.user,
                action="referral.view",
                subject=transaction_id,
                details={"role": user.role.value},
                time=utc_now(),
            )
        )
        summary = _referral_out(row)
        checks = [CheckOut.model_validate(c) for c in decision.checks] if decision else []
        return ReferralDetailOut(
            **summary.model_dump(),
            decision=decision.decision if decision else None,
            policy=decision.policy if decision else None,
            checks=checks,
            document=dict(decision.document) if decision and decision.document else None,
        )


@officer.post("/{transaction_id}/resolution", response_model=ReferralOut, summary="resolve")
def resolve_referral(
    transaction_id: Identifier,
    body: ResolutionIn,
    user: TokenClaims = Depends(OFFICERS),
    state: ServerState = Depends(server_state),
) -> ReferralOut:
    """Admit, refuse or send to secondary inspection, with a note; audited; the kiosk
    receives the resolution at its next pull."""
    now = utc_now()
    with state.database.session() as session:
        row = session.get(ReferralQueueRow, transaction_id, with_for_update=True)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such referral")
        if row.status != ReferralStatus.OPEN.value:
            raise HTTPException(status.HTTP_409_CONFLICT, detail="the referral is not open")
        row.status = ReferralStatus.RESOLVED.value
        row.outcome = body.outcome.value
        row.note = body.note
        row.officer = user.user
        row.resolved_at = now
        session.add(
            ServerAuditEventRow(
                actor=user.user,
                action="referral.resolve",
                subject=transaction_id,
                details={"outcome": body.outcome.value, "role": user.role.value},
                time=now,
            )
        )
        result = _referral_out(row)
    log.info("referral %s resolved: %s", transaction_id, body.outcome.value)
    return result


@supervisor.get("/events", response_model=AuditEventList, summary="audit of people's actions")
def audit_events(
    limit: int = Query(100, ge=1, le=1000),
    user: TokenClaims = Depends(SUPERVISORS),
    state: ServerState = Depends(server_state),
) -> AuditEventList:
    with state.database.sessions() as session:
        rows = session.scalars(
            select(ServerAuditEventRow).order_by(ServerAuditEventRow.id.desc()).limit(limit)
        ).all()
    return AuditEventList(
        items=[AuditEventOut.model_validate(row, from_attributes=True) for row in rows]
    )


def _device_out(device: DeviceRow, beat: HeartbeatRow | None) -> DeviceOut:
    return DeviceOut(
        name=device.name,
        enrolled_at=device.enrolled_at,
        revoked=device.revoked_at is not None,
        last_heartbeat_at=beat.received_at if beat else None,
        status=beat.status if beat else None,
        backlog=beat.backlog if beat else None,
        software_version=beat.software_version if beat else None,
        devices=beat.devices if beat else {},
    )


@technician.get("", response_model=DeviceList, summary="devices and their last heartbeat")
def list_devices(
    user: TokenClaims = Depends(TECHNICIANS), state: ServerState = Depends(server_state)
) -> DeviceList:
    with state.database.sessions() as session:
        rows = session.execute(
            select(DeviceRow, HeartbeatRow)
            .outerjoin(HeartbeatRow, HeartbeatRow.device_name == DeviceRow.name)
            .order_by(DeviceRow.name)
        ).all()
    return DeviceList(items=[_device_out(device, beat) for device, beat in rows])


@technician.get("/{name}", response_model=DeviceOut, summary="one device")
def get_device(
    name: Identifier,
    user: TokenClaims = Depends(TECHNICIANS),
    state: ServerState = Depends(server_state),
) -> DeviceOut:
    with state.database.sessions() as session:
        device = session.get(DeviceRow, name)
        beat = session.get(HeartbeatRow, name)
    if device is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such device")
    return _device_out(device, beat)


@admin.post("/users", response_model=UserOut, status_code=201, summary="add a user")
def add_user(
    body: UserIn,
    user: TokenClaims = Depends(ADMINISTRATORS),
    state: ServerState = Depends(server_state),
) -> UserOut:
    try:
        accounts.add_user(
            state.database, body.name, Role(body.role), body.password, actor=user.user
        )
    except accounts.AccountError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    with state.database.sessions() as session:
        row = session.get(UserRow, body.name)
    assert row is not None
    return UserOut(name=row.name, role=row.role, created_at=row.created_at, disabled=False)


@admin.post("/devices/{name}/revoke", response_model=StoredResult, summary="revoke a device")
def revoke_device(
    name: Identifier,
    user: TokenClaims = Depends(ADMINISTRATORS),
    state: ServerState = Depends(server_state),
) -> StoredResult:
    if not accounts.revoke_device(state.database, name, actor=user.user):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such device")
    return StoredResult(accepted=1, duplicates=0)


@admin.post("/lists/{name}", response_model=ListVersionOut, summary="upload list changes")
def upload_list(
    name: ListName,
    body: ListUpload,
    user: TokenClaims = Depends(ADMINISTRATORS),
    state: ServerState = Depends(server_state),
) -> ListVersionOut:
    """Append the changes as the next version of the list."""
    return lists.upload(state, name, body, user.user)


@admin.get("/lists/{name}", response_model=ListVersionOut, summary="a list's version")
def list_version(
    name: ListName,
    user: TokenClaims = Depends(ADMINISTRATORS),
    state: ServerState = Depends(server_state),
) -> ListVersionOut:
    return lists.current_version(state, name)
