"""The live wall of a site's lanes and the booth's remote actions.

Kiosks (mutual TLS) report their lane after every event (``POST /v1/kiosk/lane``) and wait
for remote actions with a long poll (``GET /v1/kiosk/commands?wait=20``); booths read the
tiles (``GET /v1/lanes``), receive every change as server-sent events
(``GET /v1/lanes/stream``: the tiles, then one ``lane`` or ``referral`` event per change) and
send remote actions (``POST /v1/lanes/{lane}/actions``). Everything a person does is audited.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy import select, update
from starlette.concurrency import run_in_threadpool

from models.base import utc_now
from models.server_tables import DeviceRow, LaneCommandRow, LaneStateRow
from server.api.lane_schemas import (
    ActionOut,
    CommandAckIn,
    LaneActionIn,
    LaneCommandList,
    LaneCommandOut,
    LaneEventIn,
    LaneTileList,
)
from server.api.schemas import Identifier, StoredResult, error_responses
from server.control_room import audit, lane_tile, publish_lane, user_site
from server.pubsub import LANES, REFERRALS, commands_channel
from server.security.identity import DeviceIdentity, require_device, require_role
from server.security.tokens import Role, TokenClaims
from server.state import ServerState, server_state

log = logging.getLogger(__name__)

kiosk = APIRouter(
    prefix="/v1/kiosk", tags=["kiosk (mutual TLS)"], responses=error_responses(401, 403, 422)
)
people = APIRouter(
    prefix="/v1/lanes", tags=["officer booth"], responses=error_responses(401, 403, 404, 422)
)
OFFICERS = require_role(Role.OFFICER, Role.SUPERVISOR)
KEEPALIVE_S = 2.0  # also how soon a closing booth's reader notices
MAX_WAIT_S = 30


@kiosk.post("/lane", response_model=StoredResult, summary="the lane's state after an event")
def post_lane(
    event: LaneEventIn,
    device: DeviceIdentity = Depends(require_device),
    state: ServerState = Depends(server_state),
) -> StoredResult:
    """Stored as the lane's tile and pushed to every booth of its site at once. An event
    older (lower ``seq``) than the stored one is ignored (a late retry); the same ``seq``
    again is the kiosk's heartbeat: the lane is still in contact (``received_at``)."""
    now = utc_now()
    with state.database.session() as session:
        registered = session.get(DeviceRow, device.name)
        if registered is not None and registered.site is None and event.site:
            registered.site = event.site  # the site the enrolled kiosk is configured for
        site = registered.site if registered is not None else event.site
        row = session.get(LaneStateRow, device.name, with_for_update=True)
        fresh = row is None or event.seq > row.seq or event.seq == 0
        if row is not None and not fresh and event.seq < row.seq:
            return StoredResult(accepted=0, duplicates=1)
        if row is None:
            row = LaneStateRow(device_name=device.name, step_since=event.event_at)
            session.add(row)
        if fresh:
            if row.step != event.step:
                row.step_since = event.event_at
            row.site, row.seq, row.step = site, event.seq, event.step
            row.in_service, row.causes, row.door = event.in_service, list(event.causes), event.door
            row.assistance, row.event_at = event.assistance, event.event_at
        row.received_at = now  # the same seq again is the heartbeat: still in contact
        session.flush()
        tile = lane_tile(session, row)
    state.pubsub.publish(LANES, {"type": "lane", "tile": tile})
    return StoredResult(accepted=int(fresh), duplicates=int(not fresh))


def _pending(state: ServerState, device: str) -> list[LaneCommandOut]:
    with state.database.sessions() as session:
        rows = session.scalars(
            select(LaneCommandRow)
            .where(LaneCommandRow.device_name == device, LaneCommandRow.acked_at.is_(None))
            .order_by(LaneCommandRow.id)
            .limit(50)
        ).all()
    return [
        LaneCommandOut(id=r.id, action=r.action, issued_by=r.issued_by, issued_at=r.issued_at)
        for r in rows
    ]


@kiosk.get("/commands", response_model=LaneCommandList, summary="remote actions (long poll)")
async def get_commands(
    wait: int = Query(0, ge=0, le=MAX_WAIT_S),
    device: DeviceIdentity = Depends(require_device),
    state: ServerState = Depends(server_state),
) -> LaneCommandList:
    """The actions not yet acknowledged; with ``wait`` the answer waits up to that many
    seconds for one to be issued."""
    subscription = state.pubsub.subscribe(commands_channel(device.name))
    waiting = state.metrics.live.labels(kind="commands")
    try:
        items = await run_in_threadpool(_pending, state, device.name)
        if not items and wait:
            waiting.inc()
            try:
                woken = await subscription.get(float(wait))
            finally:
                waiting.dec()
            if woken is not None:  # an action issued (on any server process), or a resync
                items = await run_in_threadpool(_pending, state, device.name)
    finally:
        subscription.close()
    return LaneCommandList(items=items)


@kiosk.post("/commands/ack", response_model=StoredResult, summary="actions applied")
def ack_commands(
    body: CommandAckIn,
    device: DeviceIdentity = Depends(require_device),
    state: ServerState = Depends(server_state),
) -> StoredResult:
    done = 0
    now = utc_now()
    with state.database.session() as session:
        for item in body.items:
            result = session.execute(
                update(LaneCommandRow)
                .where(
                    LaneCommandRow.id == item.id,
                    LaneCommandRow.device_name == device.name,
                    LaneCommandRow.acked_at.is_(None),
                )
                .values(acked_at=now, result=item.result)
            )
            done += int(getattr(result, "rowcount", 0) or 0)
    return StoredResult(accepted=done, duplicates=len(body.items) - done)


def _tiles(
    state: ServerState, claims: TokenClaims, lane: str | None = None
) -> list[dict[str, Any]]:
    with state.database.sessions() as session:
        site = user_site(session, claims)
        query = select(LaneStateRow).order_by(LaneStateRow.device_name)
        if site is not None:
            query = query.where(LaneStateRow.site == site)
        if lane is not None:
            query = query.where(LaneStateRow.device_name == lane)
        return [lane_tile(session, row) for row in session.scalars(query)]


@people.get("", response_model=LaneTileList, summary="the tiles of the officer's site")
def list_lanes(
    user: TokenClaims = Depends(OFFICERS), state: ServerState = Depends(server_state)
) -> LaneTileList:
    return LaneTileList(items=_tiles(state, user))


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


@people.get("/stream", summary="the wall as server-sent events", response_class=StreamingResponse)
async def stream(
    request: Request,
    user: TokenClaims = Depends(OFFICERS),
    state: ServerState = Depends(server_state),
) -> StreamingResponse:
    """``snapshot`` (every tile), then ``lane`` (a tile changed) and ``referral`` (the queue
    changed: reload it) events, limited to the officer's site; a comment every 15 s keeps
    the connection open. The stream ends when the token expires."""
    subscription = state.pubsub.subscribe(LANES, REFERRALS)
    with state.database.sessions() as session:
        site = user_site(session, user)
    tiles = await run_in_threadpool(_tiles, state, user)

    async def events() -> AsyncIterator[bytes]:
        streams = state.metrics.live.labels(kind="wall")
        streams.inc()
        try:
            yield _sse("snapshot", {"items": tiles, "site": site})
            idle = 0.0
            while state.clock() < user.expires_at:
                message = await subscription.get(1.0)
                if message is None:
                    idle += 1.0
                    if await request.is_disconnected():
                        return
                    if idle >= KEEPALIVE_S:
                        idle = 0.0
                        yield b": keepalive\n\n"
                    continue
                idle = 0.0
                kind = str(message.get("type"))
                if kind == "resync":  # messages may have been missed: every tile again
                    items = await run_in_threadpool(_tiles, state, user)
                    yield _sse("snapshot", {"items": items, "site": site})
                    continue
                where = message.get("tile", message).get("site")
                if site is not None and where != site:
                    continue
                yield _sse(kind, message.get("tile", message))
            yield _sse("expired", {})
        finally:
            streams.dec()
            subscription.close()

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@people.post("/{lane}/actions", response_model=ActionOut, summary="a remote action on a lane")
def lane_action(
    lane: Identifier,
    body: LaneActionIn,
    user: TokenClaims = Depends(OFFICERS),
    state: ServerState = Depends(server_state),
) -> ActionOut:
    """Hold the lane, put it out of service, return it to service, release the doors after
    an emergency or acknowledge an assistance call: audited, then carried to the kiosk."""
    now = utc_now()
    with state.database.session() as session:
        site = user_site(session, user)
        row = session.get(LaneStateRow, lane)
        if row is None or (site is not None and row.site != site):
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such lane at your site")
        command = LaneCommandRow(
            device_name=lane, action=body.action.value, issued_by=user.user, issued_at=now
        )
        session.add(command)
        session.flush()
        audit(
            session,
            user,
            "lane.action",
            lane,
            now,
            lane_action=body.action.value,
            command=command.id,
            note_chars=len(body.note),
        )
        command_id = command.id
    state.pubsub.publish(commands_channel(lane), {"type": "command", "id": command_id})
    log.info("lane %s: remote action %s", lane, body.action.value)
    return ActionOut(id=command_id, lane=lane, action=body.action, note_chars=len(body.note))


__all__ = ["kiosk", "people", "publish_lane"]
