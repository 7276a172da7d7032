"""``/v1/equity``: biometric-mismatch referral rates by nationality and by sex, per site and
month (JSON), and the same as an HTML page; for supervisors."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import HTMLResponse

from models.base import utc_now
from server.api.schemas import error_responses
from server.equity import equity_report
from server.equity_page import render_equity_html
from server.security.identity import require_role
from server.security.tokens import Role, TokenClaims
from server.state import ServerState, server_state

router = APIRouter(
    prefix="/v1/equity", tags=["supervisor"], responses=error_responses(400, 401, 403, 422)
)
SUPERVISORS = require_role(Role.SUPERVISOR)
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
MAX_MONTHS = 36

Month = Annotated[str | None, Query(pattern=MONTH, description="YYYY-MM")]
Site = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._-]{1,64}$")]


def _months_back(today: date, back: int) -> str:
    index = today.year * 12 + today.month - 1 - back
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _period(first: str | None, last: str | None) -> tuple[str, str]:
    today = utc_now().date()
    last = last or _months_back(today, 0)
    first = first or _months_back(date(int(last[:4]), int(last[5:]), 1), 2)
    span = (int(last[:4]) * 12 + int(last[5:])) - (int(first[:4]) * 12 + int(first[5:]))
    if span < 0:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="'from' is after 'to'")
    if span >= MAX_MONTHS:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="at most 36 months at once")
    return first, last


def _report(state: ServerState, first: str | None, last: str | None, site: str | None) -> Any:
    first, last = _period(first, last)
    with state.database.sessions() as session:
        return equity_report(session, first, last, site)


@router.get("", summary="mismatch referral rates by nationality and sex, per site and month")
def equity(
    from_month: Month = None,
    to_month: Month = None,
    site: Site = None,
    _user: TokenClaims = Depends(SUPERVISORS),
    state: ServerState = Depends(server_state),
) -> Any:
    """Per site and month (default: this month and the two before): travellers, biometric
    mismatch referrals, their rate with its interval, the officer's outcomes (``admitted``:
    same person, a likely false non-match) and every nationality's and sex's figures, with
    ``flagged`` where a group's rate exceeds 1.5x the overall rate by more than chance."""
    return _report(state, from_month, to_month, site)


@router.get("/report", response_class=HTMLResponse, summary="the same as an HTML page")
def equity_page(
    from_month: Month = None,
    to_month: Month = None,
    site: Site = None,
    _user: TokenClaims = Depends(SUPERVISORS),
    state: ServerState = Depends(server_state),
) -> HTMLResponse:
    return HTMLResponse(render_equity_html(_report(state, from_month, to_month, site)))
