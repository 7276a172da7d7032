"""Reports of the control room: the shift report (counts by reason, median time to resolve)
and, for supervisors, each officer's admit rate per reason against the site's median, so an
officer who admits far more often than colleagues stands out."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import func, select

from kiosk.officer.referrals import shift_summary
from models.base import utc_now
from models.records import ReferralOutcome, ReferralStatus
from models.server_tables import DeviceRow, ReferralQueueRow
from server.api.schemas import Identifier, error_responses
from server.control_room import audit, user_site
from server.security.identity import require_role
from server.security.tokens import Role, TokenClaims
from server.state import ServerState, server_state

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=error_responses(401, 403))
OFFICERS = require_role(Role.OFFICER, Role.SUPERVISOR)
SUPERVISORS = require_role(Role.SUPERVISOR)
OUTLIER_MARGIN = 0.25  # an admit rate this far above the site's median stands out


class ReasonCount(BaseModel):
    reason: str
    resolved: int
    admitted: int


class ShiftReport(BaseModel):
    since: datetime
    until: datetime
    officer: str | None
    resolved: int
    outcomes: dict[str, int]
    by_reason: list[ReasonCount]
    median_minutes_to_resolve: float | None
    waiting: int


class AdmitRate(BaseModel):
    officer: str
    reason: str
    resolved: int
    admitted: int
    rate: float
    site_median: float
    outlier: bool


class AdmitRates(BaseModel):
    since: datetime
    site: str | None
    items: list[AdmitRate]


def _resolved(
    state: ServerState, claims: TokenClaims, since: datetime, until: datetime
) -> tuple[str | None, list[ReferralQueueRow], int]:
    with state.database.session() as session:
        site = user_site(session, claims)
        query = (
            select(ReferralQueueRow)
            .outerjoin(DeviceRow, DeviceRow.name == ReferralQueueRow.kiosk_id)
            .where(
                ReferralQueueRow.status == ReferralStatus.RESOLVED.value,
                ReferralQueueRow.resolved_at >= since,
                ReferralQueueRow.resolved_at < until,
            )
        )
        waiting = (
            select(func.count())
            .select_from(ReferralQueueRow)
            .outerjoin(DeviceRow, DeviceRow.name == ReferralQueueRow.kiosk_id)
            .where(ReferralQueueRow.status != ReferralStatus.RESOLVED.value)
        )
        if site is not None:
            here = func.coalesce(ReferralQueueRow.site, DeviceRow.site) == site
            query, waiting = query.where(here), waiting.where(here)
        rows = list(session.scalars(query).all())
        audit(session, claims, "report.read", None, since=since.isoformat(), rows=len(rows))
        return site, rows, int(session.scalar(waiting) or 0)


@router.get("/shift", response_model=ShiftReport, summary="the shift report")
def shift_report(
    hours: float = Query(8.0, gt=0, le=24 * 31),
    officer: Identifier | None = Query(None, description="one officer; default the whole site"),
    user: TokenClaims = Depends(OFFICERS),
    state: ServerState = Depends(server_state),
) -> ShiftReport:
    until = utc_now()
    since = until - timedelta(hours=hours)
    _site, rows, waiting = _resolved(state, user, since, until)
    if officer is not None:
        rows = [r for r in rows if r.officer == officer]
    summary = shift_summary(
        [(r.reasons or [], r.outcome, r.created_at, r.resolved_at) for r in rows], waiting
    )
    return ShiftReport(since=since, until=until, officer=officer, **summary)


def admit_rates(rows: list[ReferralQueueRow]) -> list[dict[str, Any]]:
    """Per officer and reason: admitted / resolved, against the median of the officers'
    rates for that reason; ``outlier`` when above the median by ``OUTLIER_MARGIN``."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        for reason in row.reasons or []:
            cell = counts[(row.officer or "?", reason)]
            cell[0] += 1
            cell[1] += row.outcome == ReferralOutcome.ADMITTED.value
    rates_by_reason: dict[str, list[float]] = defaultdict(list)
    for (_officer, reason), (resolved, admitted) in counts.items():
        rates_by_reason[reason].append(admitted / resolved)
    out = []
    for (officer, reason), (resolved, admitted) in sorted(counts.items()):
        rate = admitted / resolved
        median = statistics.median(rates_by_reason[reason])
        out.append(
            {
                "officer": officer,
                "reason": reason,
                "resolved": resolved,
                "admitted": admitted,
                "rate": round(rate, 4),
                "site_median": round(median, 4),
                "outlier": rate > median + OUTLIER_MARGIN,
            }
        )
    return out


@router.get("/admit-rates", response_model=AdmitRates, summary="admit rate per officer")
def admit_rate_report(
    days: float = Query(30.0, gt=0, le=366),
    user: TokenClaims = Depends(SUPERVISORS),
    state: ServerState = Depends(server_state),
) -> AdmitRates:
    until = utc_now()
    since: AwareDatetime = until - timedelta(days=days)
    site, rows, _waiting = _resolved(state, user, since, until)
    return AdmitRates(
        since=since, site=site, items=[AdmitRate(**item) for item in admit_rates(rows)]
    )
