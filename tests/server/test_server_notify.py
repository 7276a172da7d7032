"""``server.notify``: what one connection publishes in a committed transaction reaches every
subscriber (thread or asyncio), on PostgreSQL across connections (and so processes), on
SQLite within the process; a rolled-back transaction announces nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from server.database import ServerDatabase, create_server_engine
from server.notify import AsyncSubscriber, NotifyError, Subscriber, publish


class _Abandoned(Exception):
    pass


def _announce(database: ServerDatabase, payload: dict[str, object], *, commit: bool) -> None:
    try:
        with database.session() as session:
            publish(session, "referrals", payload)
            if not commit:
                raise _Abandoned
    except _Abandoned:
        pass


@pytest.mark.postgres
def test_postgres_notifications_reach_thread_and_asyncio_subscribers(server_setup) -> None:  # type: ignore[no-untyped-def]
    database = server_setup.state.database

    async def listen() -> list[dict[str, object]]:
        async with AsyncSubscriber(database, ["referrals"]) as live:
            await asyncio.to_thread(_announce, database, {"n": 2}, commit=True)
            async for note in live:
                return [note.payload]
        return []

    with Subscriber(database, ["referrals", "alerts"]) as live:
        # WHEN one transaction is rolled back and one commits
        _announce(database, {"n": 0}, commit=False)
        _announce(database, {"n": 1}, commit=True)
        # THEN only the committed one arrives
        assert [n.payload for n in live.notifications(timeout_s=2.0)] == [{"n": 1}]
    assert asyncio.run(asyncio.wait_for(listen(), 30)) == [{"n": 2}]


def test_sqlite_notifications_stay_in_the_process(tmp_path: Path) -> None:
    database = ServerDatabase(create_server_engine(f"sqlite:///{tmp_path / 's.db'}"))
    try:
        with Subscriber(database, ["referrals"]) as live:
            _announce(database, {"n": 0}, commit=False)
            _announce(database, {"n": 1}, commit=True)
            assert [n.payload for n in live.notifications(timeout_s=0.2)] == [{"n": 1}]
        with pytest.raises(NotifyError):
            Subscriber(database, ["no-such-channel"])
    finally:
        database.close()
