"""Two-person changes of configuration and trust lists, and the supervisors' alerts.

POST /v1/admin/changes               {"list": "config"|"trust", "changes": [...], "reason"}
GET  /v1/admin/changes               pending requests
POST /v1/admin/changes/{id}/approve  by another administrator: signed, sent to kiosks
POST /v1/admin/changes/{id}/reject
GET  /v1/admin/change-signing-key    the public key kiosks pin (PEM)
GET  /v1/alerts                      supervisors: every proposal, approval, refusal
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from models.server_tables import AlertRow
from server import change_approval
from server.api.schemas import ListChangeIn, Strict, Text500, error_responses
from server.change_approval import ChangeRequest
from server.security.identity import require_role
from server.security.tokens import Role, TokenClaims
from server.state import ServerState, server_state

router = APIRouter(
    prefix="/v1/admin",
    tags=["administrator"],
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
alerts = APIRouter(prefix="/v1/alerts", tags=["supervisor"], responses=error_responses(401, 403))
ADMINISTRATORS = require_role(Role.ADMINISTRATOR)
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SUPERVISORS = require_role(Role.SUPERVISOR)


class ChangeProposalIn(Strict):
    list_name: Literal["config", "trust"] = Field(alias="list")
    changes: list[ListChangeIn] = Field(min_length=1, max_length=1000)
    reason: Text500 = ""


class ChangeRequestList(BaseModel):
    items: list[ChangeRequest]


class SigningKeyOut(BaseModel):
    key_id: str
    public_key_pem: str


class AlertOut(BaseModel):
    id: int
    kind: str
    subject: str | None
    actor: str
    details: dict[str, Any]
    created_at: datetime


class AlertList(BaseModel):
    items: list[AlertOut]


def _refused(exc: change_approval.ChangeRefusedError) -> HTTPException:
    return HTTPException(exc.status_code, detail=str(exc))


@router.post("/changes", response_model=ChangeRequest, status_code=201, summary="propose")
def propose_change(
    body: ChangeProposalIn,
    user: TokenClaims = Depends(ADMINISTRATORS),
    state: ServerState = Depends(server_state),
) -> ChangeRequest:
    """A change of configuration or trust; it waits for another administrator."""
    try:
        request = change_approval.propose(
            state.database, body.list_name, [change.model_dump() for change in body.changes],
            reason=body.reason, actor=user.user,
        )  # fmt: skip
    except change_approval.ChangeRefusedError as exc:
        raise _refused(exc) from exc
    return request


@router.get("/changes", response_model=ChangeRequestList, summary="pending changes")
def pending_changes(
    user: TokenClaims = Depends(ADMINISTRATORS), state: ServerState = Depends(server_state)
) -> ChangeRequestList:
    return ChangeRequestList(items=change_approval.pending(state.database))


@router.post("/changes/{request_id}/approve", response_model=ChangeRequest, summary="approve")
def approve_change(
    request_id: RequestId,
    user: TokenClaims = Depends(ADMINISTRATORS),
    state: ServerState = Depends(server_state),
) -> ChangeRequest:
    """By an administrator other than the proposer (403 otherwise): the change becomes the
    next version of its list, signed with the change-signing key."""
    try:
        request = change_approval.approve(state.database, state.signer, request_id, actor=user.user)
    except change_approval.ChangeRefusedError as exc:
        raise _refused(exc) from exc
    return request


@router.post("/changes/{request_id}/reject", response_model=ChangeRequest, summary="reject")
def reject_change(
    request_id: RequestId,
    user: TokenClaims = Depends(ADMINISTRATORS),
    state: ServerState = Depends(server_state),
) -> ChangeRequest:
    try:
        request = change_approval.reject(state.database, request_id, actor=user.user)
    except change_approval.ChangeRefusedError as exc:
        raise _refused(exc) from exc
    return request


@router.get("/change-signing-key", response_model=SigningKeyOut, summary="key to pin")
def signing_key(
    user: TokenClaims = Depends(ADMINISTRATORS), state: ServerState = Depends(server_state)
) -> SigningKeyOut:
    return SigningKeyOut(key_id=state.signer.key_id, public_key_pem=state.signer.public_key_pem)


@alerts.get("", response_model=AlertList, summary="alerts for the supervisors")
def list_alerts(
    after: int = Query(0, ge=0, le=2**53, description="only alerts with a larger id"),
    limit: int = Query(100, ge=1, le=1000),
    user: TokenClaims = Depends(SUPERVISORS),
    state: ServerState = Depends(server_state),
) -> AlertList:
    """Newest first."""
    with state.database.sessions() as session:
        rows = session.scalars(
            select(AlertRow).where(AlertRow.id > after).order_by(AlertRow.id.desc()).limit(limit)
        ).all()
    return AlertList(items=[AlertOut.model_validate(row, from_attributes=True) for row in rows])
