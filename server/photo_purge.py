"""The periodic purge of referral photos (``photo_purge_interval_s``), run by the app."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from server.photos import purge_photos
from server.state import ServerState

log = logging.getLogger(__name__)


def purge_once(state: ServerState) -> int:
    with state.database.session() as session:
        return purge_photos(session, state.config.photo_retention_hours)


async def photo_purge_loop(state: ServerState) -> None:
    while True:
        try:
            await run_in_threadpool(purge_once, state)
        except SQLAlchemyError as exc:
            log.warning("photo purge failed: %s", type(exc).__name__)
        await asyncio.sleep(state.config.photo_purge_interval_s)
