"""The database probe of ``/healthz``: it answers within its deadline whatever the database
does. The probe runs on one thread of its own; while a probe is stuck (a partition, a
server that accepts and never answers) no second one is started and the answer is
"unreachable" at once, so a flood of health checks cannot pile up threads or connections."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from server.database import ServerDatabase

_EXECUTOR = ThreadPoolExecutor(1, thread_name_prefix="kiosk-health")
_BUSY = threading.Lock()


def _probe(database: ServerDatabase) -> bool:
    try:
        with database.sessions() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    finally:
        _BUSY.release()
    return True


async def database_reachable(database: ServerDatabase, timeout_s: float) -> bool:
    if not _BUSY.acquire(blocking=False):
        return False  # the previous probe has not come back
    future = asyncio.get_running_loop().run_in_executor(_EXECUTOR, _probe, database)
    try:
        return await asyncio.wait_for(asyncio.shield(future), timeout_s)
    except TimeoutError:
        return False
