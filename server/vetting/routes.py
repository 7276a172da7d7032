"""HTTP: the airlines' gateway submits API/PNR messages; analysts work the flights, hits,
rules and national lists; the analyst page (plain HTML and JavaScript shipped in the
package, no build step, nothing fetched from elsewhere) is served at ``/analyst/``."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from models.vetting_tables import VettingInterchangeRow
from server.api.schemas import error_responses
from server.security.identity import require_role
from server.security.tokens import Role, TokenClaims, load_or_create_secret
from server.state import ServerState
from server.vetting import analyst
from server.vetting.dropfolder import DropFolder
from server.vetting.rules import RuleIn
from server.vetting.service import VettingService

ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 503)
router = APIRouter(prefix="/v1/vetting", tags=["vetting"], responses=ERRORS)
ANALYSTS = require_role(Role.ANALYST)
SENDERS = require_role(Role.GATEWAY, Role.ANALYST)
LISTERS = require_role(Role.ANALYST, Role.ADMINISTRATOR)
MAX_MESSAGE_BYTES = 5 * 1024 * 1024
_STATIC = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}


def vetting_service(request: Request) -> VettingService:
    service: VettingService = request.app.state.vetting
    return service


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["confirm", "dismiss"]
    note: str = Field("", max_length=1000)


class NationalEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=128)
    data: dict[str, str | None] = Field(default_factory=dict)


class NationalUploadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["person", "document"]
    entries: list[NationalEntryIn] = Field(min_length=1, max_length=5000)


@router.post("/messages", summary="submit a PAXLST or PNRGOV interchange (EDIFACT text)")
async def post_message(
    request: Request,
    source: str = Query("", max_length=200, description="the sender's file name, if any"),
    user: TokenClaims = Depends(SENDERS),
    service: VettingService = Depends(vetting_service),
) -> Response:
    """The body is the interchange as the airline sent it. 200 with the counts (and the
    iAPI answer when asked for), or 422 when nothing in it could be read: it is then kept
    in quarantine with the segment and the reason."""
    body = await request.body()
    if len(body) > MAX_MESSAGE_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "message too large")
    report = service.ingest(body, source=source or "endpoint", channel="endpoint", actor=user.user)
    payload: dict[str, Any] = report.summary() | {
        "duplicate": bool(report.duplicates),
        "interchange_id": report.interchange_id,
        "response": report.response,
    }
    stored = report.messages > 0 or report.duplicates > 0
    return JSONResponse(payload, status_code=200 if stored else 422)


@router.get("/interchanges/{interchange_id}/response", response_class=PlainTextResponse)
def get_response(
    interchange_id: int = Path(ge=1, le=2**62),
    user: TokenClaims = Depends(SENDERS),
    service: VettingService = Depends(vetting_service),
) -> PlainTextResponse:
    """The CUSRES answer stored with an interchange that asked for one (to whoever sent it,
    and to analysts; another gateway account gets 404)."""
    with service.database.sessions() as session:
        row = session.get(VettingInterchangeRow, interchange_id)
        theirs = row is not None and (user.role is Role.ANALYST or row.received_by == user.user)
        if row is None or row.response is None or not theirs:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no response for this interchange")
        return PlainTextResponse(row.response, media_type="application/edifact")


@router.get("/flights", summary="flights arriving, with their hit counts")
def get_flights(
    port: str | None = Query(None, pattern=r"^[A-Za-z]{3}$"),
    day: dt.date | None = None,
    limit: int = Query(200, ge=1, le=1000),
    _user: TokenClaims = Depends(ANALYSTS),
    service: VettingService = Depends(vetting_service),
) -> dict[str, Any]:
    with service.database.sessions() as session:
        return {"items": analyst.flights(session, port, day, limit)}


def _found(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except analyst.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such {exc}") from exc


@router.get("/flights/{flight_id}", summary="a flight's travellers and their vetting status")
def get_flight(
    flight_id: int = Path(ge=1, le=2**62),
    _user: TokenClaims = Depends(ANALYSTS),
    service: VettingService = Depends(vetting_service),
) -> dict[str, Any]:
    with service.database.sessions() as session:
        return dict(_found(analyst.flight_travellers, session, flight_id))


@router.get("/travellers/{traveller_id}", summary="API and PNR detail, hits, linked booking")
def get_traveller(
    traveller_id: int = Path(ge=1, le=2**62),
    _user: TokenClaims = Depends(ANALYSTS),
    service: VettingService = Depends(vetting_service),
) -> dict[str, Any]:
    with service.database.sessions() as session:
        return dict(_found(analyst.traveller_detail, session, traveller_id))


@router.post("/hits/{hit_id}/decision", summary="confirm or dismiss a hit (audited)")
def post_decision(
    body: DecisionIn,
    hit_id: int = Path(ge=1, le=2**62),
    user: TokenClaims = Depends(ANALYSTS),
    service: VettingService = Depends(vetting_service),
) -> dict[str, Any]:
    with service.database.session() as session:
        hit, flight_id = _found(
            analyst.decide_hit, session, hit_id, body.decision, body.note, user.user
        )
        service.republish(session, [flight_id], f"analyst:{user.user}")
    return dict(hit)


@router.get("/rules", summary="risk rules with their hit counts")
def get_rules(
    _user: TokenClaims = Depends(ANALYSTS), service: VettingService = Depends(vetting_service)
) -> dict[str, Any]:
    with service.database.sessions() as session:
        return {"items": analyst.rules(session)}


def _save_rule(
    service: VettingService, body: RuleIn, user: str, rule_id: int | None
) -> dict[str, Any]:
    with service.database.session() as session:
        saved = _found(analyst.save_rule, session, body, user, rule_id)
        service.revet(
            session, analyst.open_flights(session, service.config.manifest_days), f"rule:{user}"
        )
    with service.database.sessions() as session:
        return next(r for r in analyst.rules(session) if r["id"] == saved)


@router.post("/rules", summary="add a risk rule (owner: you)", status_code=201)
def post_rule(
    body: RuleIn,
    user: TokenClaims = Depends(ANALYSTS),
    service: VettingService = Depends(vetting_service),
) -> dict[str, Any]:
    return _save_rule(service, body, user.user, None)


@router.put("/rules/{rule_id}", summary="change a risk rule")
def put_rule(
    body: RuleIn,
    rule_id: int = Path(ge=1, le=2**62),
    user: TokenClaims = Depends(ANALYSTS),
    service: VettingService = Depends(vetting_service),
) -> dict[str, Any]:
    return _save_rule(service, body, user.user, rule_id)


@router.post("/national/{state}", summary="add or replace entries of a state's national list")
def post_national(
    body: NationalUploadIn,
    state: str = Path(pattern=r"^[A-Z]{3}$"),
    user: TokenClaims = Depends(LISTERS),
    service: VettingService = Depends(vetting_service),
) -> dict[str, Any]:
    with service.database.session() as session:
        version = analyst.add_national(
            session, state, body.kind, [e.model_dump() for e in body.entries], user.user
        )
    with service.database.session() as session:  # vetted again with the new entries
        service.revet(
            session,
            analyst.open_flights(session, service.config.manifest_days),
            f"national:{user.user}",
        )
    return {"state": state, "kind": body.kind, "entries": len(body.entries), "version": version}


@router.get("/national", summary="the member states' national list entries")
def get_national(
    state: str | None = Query(None, pattern=r"^[A-Z]{3}$"),
    limit: int = Query(500, ge=1, le=5000),
    _user: TokenClaims = Depends(LISTERS),
    service: VettingService = Depends(vetting_service),
) -> dict[str, Any]:
    with service.database.sessions() as session:
        return {"items": analyst.national_entries(session, state, limit)}


@router.delete("/national/{state}", summary="remove an entry of a state's national list")
def delete_national(
    state: str = Path(pattern=r"^[A-Z]{3}$"),
    kind: Literal["person", "document"] = Query(...),
    key: str = Query(min_length=1, max_length=128),
    user: TokenClaims = Depends(LISTERS),
    service: VettingService = Depends(vetting_service),
) -> dict[str, Any]:
    with service.database.session() as session:
        version = _found(analyst.delete_national, session, state, kind, key, user.user)
    with service.database.session() as session:  # vetted again without the entry
        service.revet(
            session,
            analyst.open_flights(session, service.config.manifest_days),
            f"national:{user.user}",
        )
    return {"state": state, "kind": kind, "key": key, "version": version}


@router.get("/quarantine", summary="input that could not be read")
def get_quarantine(
    limit: int = Query(100, ge=1, le=1000),
    _user: TokenClaims = Depends(ANALYSTS),
    service: VettingService = Depends(vetting_service),
) -> dict[str, Any]:
    with service.database.sessions() as session:
        return {"items": analyst.quarantine(session, limit)}


def _static(name: str) -> Response:
    data = resources.files("server.vetting.web").joinpath(name).read_bytes()
    headers = {
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:",
        "Cache-Control": "no-cache",
    }
    return Response(data, media_type=_STATIC[name], headers=headers)


def install(app: FastAPI, state: ServerState) -> None:
    """Attach the vetting service, its routes and the analyst page to ``app``."""
    key = load_or_create_secret(state.config.data_dir / "vetting-contact.key")
    app.state.vetting = VettingService(state.database, state.config.vetting, key, state.list_signer)
    app.include_router(router)

    @app.get("/analyst/", include_in_schema=False, response_class=HTMLResponse)
    def analyst_page() -> Response:
        return _static("index.html")

    @app.get("/analyst/{name}", include_in_schema=False)
    def analyst_asset(name: str) -> Response:
        if name not in _STATIC:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
        return _static(name)


def start_background(app: FastAPI) -> DropFolder | None:
    """At server start: load the vetting lists in the background, watch the drop folder."""
    service: VettingService | None = getattr(app.state, "vetting", None)
    if service is None:
        return None
    service.warm_up()
    if service.config.drop_dir is None:
        return None
    return DropFolder(service, service.config.drop_dir, service.config.drop_interval_s).start()
