"""GIVEN the real server (SQLite and PostgreSQL) on an injected clock WHEN time passes with
nobody acting THEN a claim not acted on returns the referral to the queue, an admission stuck
waiting for a second officer is visible with its age and then expires (the referral reopens),
and a booth whose sign-in expires while the wall is open is asked to sign in again instead of
reconnecting with the old token. No sleeps: the clock is moved."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk.officer.referrals import ReferralClaimedError, ReferralClosedError
from kiosk.officer.samples import seed_sample_referrals
from kiosk.officer.wall import WallStream, wait_until
from models.base import utc_now
from models.records import ReferralOutcome
from models.server_tables import ReferralQueueRow, ServerAuditEventRow
from ui.i18n.desk_catalogue import DeskCatalogue
from ui.officer.queue_panel import QueuePanel
from ui.officer.window import OfficerWindow

PASSWORD = "correct horse battery staple"


class Clock:
    """The server's time, moved by the test."""

    def __init__(self) -> None:
        self.now = utc_now()
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += timedelta(seconds=seconds)


@pytest.fixture
def clocked(room: Any) -> Iterator[tuple[Any, Clock, str, str]]:
    clock = Clock()
    room.state.clock = clock
    room.state.tokens.clock = clock
    mismatch, watchlist = seed_sample_referrals(room.kiosk_db, room.cipher, None, room.device)
    room.sync()
    yield room, clock, mismatch, watchlist


def _row(room: Any, transaction_id: str) -> ReferralQueueRow:
    with room.state.database.sessions() as db:
        row = db.get(ReferralQueueRow, (room.device, transaction_id))
    assert row is not None
    return row


def _audited(room: Any, action: str) -> list[ServerAuditEventRow]:
    with room.state.database.sessions() as db:
        return list(
            db.scalars(select(ServerAuditEventRow).where(ServerAuditEventRow.action == action))
        )


def _line(queue: list[Any], transaction_id: str) -> Any:
    return next(r for r in queue if r.transaction_id == transaction_id)


def test_a_claim_not_acted_on_returns_the_referral_to_the_queue(clocked: Any) -> None:
    room, clock, mismatch, _watchlist = clocked
    first, second = room.officer(), room.officer()
    booth = room.booth()
    try:
        a, b = booth.login(first, PASSWORD), booth.login(second, PASSWORD)
        # GIVEN the first officer claimed the referral: the second sees it taken
        booth.claim(a, mismatch, kiosk_id=room.device)
        assert _line(booth.open_referrals(b), mismatch).claimed_by == first
        with pytest.raises(ReferralClaimedError):
            booth.claim(b, mismatch, kiosk_id=room.device)
        # WHEN almost the claim timeout passes THEN it is still taken
        clock.advance(room.state.config.claim_timeout_s - 5)
        assert _line(booth.open_referrals(b), mismatch).claimed_by == first
        # WHEN the timeout passes with nothing done THEN the referral is free on the queue
        clock.advance(10)
        assert _line(booth.open_referrals(b), mismatch).claimed_by is None
        assert _row(room, mismatch).claimed_by is None
        (lapsed,) = _audited(room, "referral.claim_lapsed")
        assert lapsed.actor == "server" and lapsed.details["officer"] == first
        # AND the second officer takes it, and the first can no longer resolve it
        booth.claim(b, mismatch, kiosk_id=room.device)
        with pytest.raises(ReferralClaimedError):
            booth.resolve(a, mismatch, ReferralOutcome.REFUSED, "late", kiosk_id=room.device)
    finally:
        booth.close()


def test_a_stuck_approval_is_visible_then_expires(clocked: Any, qtbot: QtBot) -> None:
    room, clock, _mismatch, watchlist = clocked
    first, second = room.officer(), room.officer()
    booth = room.booth()
    try:
        a, b = booth.login(first, PASSWORD), booth.login(second, PASSWORD)
        # GIVEN the first officer admitted the watchlist hit: it awaits a second officer
        booth.claim(a, watchlist, kiosk_id=room.device)
        result = booth.resolve(a, watchlist, ReferralOutcome.ADMITTED, "birth date differs",
                               kiosk_id=room.device)  # fmt: skip
        assert result.needs_approval
        requested_at = clock()
        # WHEN nobody approves for a while THEN the queue shows who waits, and since when
        clock.advance(room.state.config.approval_timeout_s - 5)
        b = booth.login(second, PASSWORD)  # a new sign-in: tokens live shorter than that
        line = _line(booth.open_referrals(b), watchlist)
        assert line.status == "pending_approval" and line.pending_by == first
        assert line.pending_at == requested_at
        shown = QueuePanel(DeskCatalogue("en")).line(line, second)
        since = requested_at.astimezone().strftime("%H:%M")
        assert f"{first}'s admission awaits a second officer since {since}" in shown
        # WHEN the approval timeout passes THEN the request expires and the referral reopens
        clock.advance(10)
        b = booth.login(second, PASSWORD)
        line = _line(booth.open_referrals(b), watchlist)
        assert line.status == "open" and line.pending_by is None and line.claimed_by is None
        row = _row(room, watchlist)
        assert row.status == "open" and row.outcome is None and row.pending_outcome is None
        (expired,) = _audited(room, "referral.approval_expired")
        assert expired.actor == "server" and expired.details["requested_by"] == first
        # AND a late approval is refused: nothing awaits it, the traveller was not admitted
        with pytest.raises(ReferralClosedError):
            booth.approve(b, watchlist, True, "late", kiosk_id=room.device)
        assert _row(room, watchlist).status == "open"
    finally:
        booth.close()


def test_an_expired_sign_in_stops_the_wall_instead_of_reconnecting(clocked: Any) -> None:
    room, clock, *_ = clocked
    officer = room.officer()
    booth = room.booth()
    session = booth.login(officer, PASSWORD)
    token = {"value": session.token}
    expired = threading.Event()
    stream = WallStream(room.url, lambda: token["value"], lambda _e, _d: None, verify=room.ca,
                        on_expired=expired.set).start()  # fmt: skip
    try:
        # GIVEN the wall open with the officer's token
        assert stream.connected.wait(20)
        # WHEN the token's lifetime passes on the server's clock
        clock.advance(room.state.config.token_lifetime_s + 1)
        # THEN the server ends the stream, the booth is told to sign in again, and it does
        # not reconnect with the old token (it waits round after round for a new one)
        assert expired.wait(20)
        assert wait_until(lambda: stream.idle_waits >= 2, 20)
        assert stream.attempts == 1 and not stream.connected.is_set()
        old = {"Authorization": f"Bearer {session.token}"}
        verify = __import__("ssl").create_default_context(cafile=room.ca)
        refused = httpx.get(f"{room.url}/v1/lanes/stream", headers=old, verify=verify)
        assert refused.status_code == 401
        # WHEN the officer signs in again THEN the wall reconnects with the new token
        token["value"] = booth.login(officer, PASSWORD).token
        assert stream.connected.wait(20)
        assert stream.attempts == 2
    finally:
        stream.close()
        booth.close()


@pytest.mark.parametrize("room", ["sqlite"], indirect=True)
def test_the_booth_asks_the_officer_to_sign_in_again(clocked: Any, qtbot: QtBot) -> None:
    room, clock, *_ = clocked
    window = OfficerWindow(room.booth(), undo_ms=50, confirm=lambda _n, _r: True)
    qtbot.addWidget(window)
    window.show()
    try:
        window.login(room.officer(), PASSWORD)
        qtbot.waitUntil(lambda: window.session is not None and window.queue.count() == 2,
                        timeout=20000)  # fmt: skip
        qtbot.waitUntil(lambda: window.wall_link.stream.connected.is_set(), timeout=20000)
        # WHEN the sign-in expires while the wall is open
        clock.advance(room.state.config.token_lifetime_s + 1)
        # THEN the booth is back on the login page, saying why, with no wall running
        qtbot.waitUntil(lambda: window.pages.currentWidget() is window.login_page, timeout=20000)
        assert window.session is None and window.wall_link.stream is None
        assert window.login_page.error.text() == window.tr_("login.expired")
    finally:
        window.shutdown()
        window.close()
