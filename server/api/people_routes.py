"""Endpoints for people: log in; officers and supervisors work the referral queue;
technicians see devices; administrators manage users, devices and lists."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.change_envelope import SIGNED_LISTS
from models.server_tables import (
    DeviceRow,
    HeartbeatRow,
    KioskRefusalRow,
    ServerAuditEventRow,
    UserRow,
)
from server import accounts
from server.alerts import raise_alert
from server.api import lists
from server.api.schemas import (
    AuditEventList,
    AuditEventOut,
    DeviceList,
    DeviceOut,
    Identifier,
    ListName,
    ListUpload,
    ListVersionOut,
    StoredResult,
    UserIn,
    UserOut,
    error_responses,
)
from server.fleet import device_out, render_fleet_html
from server.security.identity import require_role
from server.security.tokens import Role, TokenClaims
from server.state import ServerState, server_state

log = logging.getLogger(__name__)

ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 503)
technician = APIRouter(prefix="/v1/devices", tags=["technician"], responses=ERRORS)
admin = APIRouter(prefix="/v1/admin", tags=["administrator"], responses=ERRORS)
supervisor = APIRouter(prefix="/v1/audit", tags=["supervisor"], responses=ERRORS)

OFFICERS = require_role(Role.OFFICER, Role.SUPERVISOR)
SUPERVISORS = require_role(Role.SUPERVISOR)
TECHNICIANS = require_role(Role.TECHNICIAN)
ADMINISTRATORS = require_role(Role.ADMINISTRATOR)


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


def _refusals(session: Session, names: list[str]) -> dict[str, tuple[int, str]]:
    """Per kiosk: how many signed versions it refused, and the latest as one line."""
    if not names:
        return {}
    rows = session.scalars(
        select(KioskRefusalRow)
        .where(KioskRefusalRow.kiosk_id.in_(names))
        .order_by(KioskRefusalRow.received_at)
    ).all()
    found: dict[str, tuple[int, str]] = {}
    for row in rows:
        count = found.get(row.kiosk_id, (0, ""))[0] + 1
        line = f"{row.list_name} v{row.version} {row.key}: {row.reason}".replace("  ", " ")
        found[row.kiosk_id] = (count, line)
    return found


@technician.get(
    "", response_model=DeviceList, summary="devices, their last heartbeat and trust coverage"
)
def list_devices(
    user: TokenClaims = Depends(TECHNICIANS), state: ServerState = Depends(server_state)
) -> DeviceList:
    with state.database.sessions() as session:
        rows = session.execute(
            select(DeviceRow, HeartbeatRow)
            .outerjoin(HeartbeatRow, HeartbeatRow.device_name == DeviceRow.name)
            .order_by(DeviceRow.name)
        ).all()
        refusals = _refusals(session, [device.name for device, _beat in rows])
    return DeviceList(
        items=[
            device_out(device, beat, refusals=refusals.get(device.name)) for device, beat in rows
        ]
    )


@technician.get(
    "/fleet/report", response_class=HTMLResponse, summary="the fleet's trust coverage as a page"
)
def fleet_page(
    user: TokenClaims = Depends(TECHNICIANS), state: ServerState = Depends(server_state)
) -> HTMLResponse:
    """Every kiosk with the trust coverage it last reported; the kiosks that would refer the
    chipped passports of a state of their policy first, those states flagged."""
    return HTMLResponse(render_fleet_html(list_devices(user, state).items))


@technician.get("/{name}", response_model=DeviceOut, summary="one device")
def get_device(
    name: Identifier,
    user: TokenClaims = Depends(TECHNICIANS),
    state: ServerState = Depends(server_state),
) -> DeviceOut:
    with state.database.sessions() as session:
        device = session.get(DeviceRow, name)
        beat = session.get(HeartbeatRow, name)
        refusals = _refusals(session, [name]).get(name)
    if device is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such device")
    return device_out(device, beat, refusals=refusals)


@admin.post("/users", response_model=UserOut, status_code=201, summary="add a user")
def add_user(
    body: UserIn,
    user: TokenClaims = Depends(ADMINISTRATORS),
    state: ServerState = Depends(server_state),
) -> UserOut:
    if body.role == Role.ADMINISTRATOR.value:
        # one stolen administrator login must not mint the second administrator that the
        # two-person rule needs: administrators are added on the server host only
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="administrators are added with `kiosk server add-user` on the server host",
        )
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
    """Append the changes as the next version of the list. Configuration and trust lists
    are refused here (409): they need a second administrator (``POST /v1/admin/changes``)."""
    if name.value in SIGNED_LISTS:
        with state.database.session() as session:
            raise_alert(session, f"{name.value}.direct_upload_refused", actor=user.user,
                        subject=name.value, details={"changes": len(body.changes)})  # fmt: skip
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"changes of {name.value} need two administrators: propose them with "
            "POST /v1/admin/changes; another administrator approves",
        )
    return lists.upload(state, name, body, user.user)


@admin.get("/lists/{name}", response_model=ListVersionOut, summary="a list's version")
def list_version(
    name: ListName,
    user: TokenClaims = Depends(ADMINISTRATORS),
    state: ServerState = Depends(server_state),
) -> ListVersionOut:
    return lists.current_version(state, name)
