"""Supervisors' view of the kiosks' audit trail: checkpoints the server refused."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select

from models.server_tables import AuditAnomalyRow
from server.api.schemas import Identifier, error_responses
from server.security.identity import require_role
from server.security.tokens import Role, TokenClaims
from server.state import ServerState, server_state

router = APIRouter(
    prefix="/v1/audit", tags=["supervisor"], responses=error_responses(401, 403, 422, 503)
)
SUPERVISORS = require_role(Role.SUPERVISOR)


class AuditAnomalyOut(BaseModel):
    id: int
    kiosk_id: str
    seq: int
    kind: str
    detail: str
    key_id: str | None
    detected_at: datetime


class AuditAnomalyList(BaseModel):
    items: list[AuditAnomalyOut]


@router.get("/anomalies", response_model=AuditAnomalyList, summary="refused audit checkpoints")
def audit_anomalies(
    kiosk_id: Identifier | None = Query(None),
    limit: int = Query(100, ge=1, le=1000),
    user: TokenClaims = Depends(SUPERVISORS),
    state: ServerState = Depends(server_state),
) -> AuditAnomalyList:
    """Checkpoints refused for a bad signature, another key (``key_changed``), no key, or a
    rewritten sequence number (``history_rewritten``); newest first."""
    query = select(AuditAnomalyRow).order_by(AuditAnomalyRow.id.desc()).limit(limit)
    if kiosk_id is not None:
        query = query.where(AuditAnomalyRow.kiosk_id == kiosk_id)
    with state.database.sessions() as session:
        rows = session.scalars(query).all()
    return AuditAnomalyList(
        items=[AuditAnomalyOut.model_validate(row, from_attributes=True) for row in rows]
    )
