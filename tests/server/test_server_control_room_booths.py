"""GIVEN two officer booth windows (``ui.officer``) on the real server (SQLite and PostgreSQL)
and a kiosk that syncs and reports its lane WHEN officers work the queue with the keyboard
THEN the wall shows the lane live, the hit comes first, the photos are shown before a face
mismatch can be admitted, the other booth sees the referral taken, admitting the hit asks for
confirmation and a second officer's login, the undo window holds the resolution back, and the
next referral is selected after acting."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kiosk.lane import Lane
from kiosk.officer.samples import seed_sample_referrals
from kiosk.session.events import EventBus, State, StateEntered
from kiosk.sync.lane_link import LaneLink
from models.records import ReferralOutcome
from models.server_tables import ReferralQueueRow
from ui.officer.window import OfficerWindow

pytestmark = pytest.mark.gui
PASSWORD = "correct horse battery staple"


def _window(
    qtbot: QtBot, room: Any, confirmations: list[str], undo_ms: int = 2000
) -> OfficerWindow:
    def confirm(name: str, reasons: str) -> bool:
        confirmations.append(reasons)
        return True

    window = OfficerWindow(room.booth(), undo_ms=undo_ms, confirm=confirm)
    qtbot.addWidget(window)
    window.resize(1440, 900)
    window.show()
    return window


def _sign_in(qtbot: QtBot, window: OfficerWindow, name: str) -> None:
    qtbot.keyClicks(window.login_page.username, name)
    qtbot.keyClicks(window.login_page.password, PASSWORD)
    qtbot.keyClick(window.login_page.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session is not None and window.queue.count() == 2, timeout=20000)


def _row(room: Any, transaction_id: str) -> ReferralQueueRow:
    with room.state.database.sessions() as db:
        row = db.get(ReferralQueueRow, (room.device, transaction_id))
    assert row is not None
    return row


def _opened(window: OfficerWindow, transaction_id: str) -> bool:
    detail = window.view.detail
    return detail is not None and detail.summary.transaction_id == transaction_id


@pytest.fixture
def booths(qtbot: QtBot, room: Any) -> Any:
    mismatch, watchlist = seed_sample_referrals(room.kiosk_db, room.cipher, None, room.device)
    lane, bus = Lane(), EventBus()
    link = LaneLink(room.kiosk_config, lane).start(bus.subscribe)
    room.sync()
    confirmations: list[str] = []
    first, second = room.officer(), room.officer()
    a = _window(qtbot, room, confirmations)
    b = _window(qtbot, room, confirmations)
    try:
        yield room, a, b, first, second, mismatch, watchlist, bus, confirmations
    finally:
        for window in (a, b):
            window.shutdown()
            window.close()
        link.close()


# the window on SQLite; the same two-booth workflow runs on both databases without windows in
# test_server_control_room_referrals.py
@pytest.mark.parametrize("room", ["sqlite"], indirect=True)
def test_two_booths_work_the_queue_with_the_keyboard(qtbot: QtBot, booths: Any) -> None:
    room, a, b, first, second, mismatch, watchlist, bus, confirmations = booths
    # GIVEN both officers signed in: the hit is first and open at booth A (claimed)
    _sign_in(qtbot, a, first)
    qtbot.waitUntil(lambda: _opened(a, watchlist), timeout=20000)
    assert a.queue.item(0).text().startswith("⚠")
    assert "••••••567" in a.queue.item(0).text()
    assert "IMPACS-2024-0193" in a.view.listed.text()
    assert "LC1234567" in a.view.subheader.text()  # in full on the detail view
    # AND the wall shows the lane, pushed, with its alarm, and follows the kiosk's steps
    qtbot.waitUntil(lambda: room.device in a.wall.tiles, timeout=20000)
    bus.publish(StateEntered("t-1", State.CHIP))
    qtbot.waitUntil(lambda: a.wall.tiles[room.device].step.text() == "Chip", timeout=20000)
    assert a.wall.tiles[room.device].property("severity") == "alarm"
    # WHEN booth B signs in THEN it sees the hit taken by A
    _sign_in(qtbot, b, second)
    qtbot.waitUntil(lambda: f"taken by {first}" in b.queue.item(0).text(), timeout=20000)
    b.hide()  # one booth per screen: the offscreen platform makes every window "active"

    # WHEN A moves to the face mismatch with the keyboard THEN Tab reaches the photos, the
    # checks and the note, and admitting waits for the photos to be shown
    a.activateWindow()
    qtbot.waitUntil(a.isActiveWindow, timeout=5000)
    a.queue.setFocus()
    qtbot.keyClick(a.queue, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: _opened(a, mismatch) and a.view.photos_shown, timeout=20000)
    a.queue.setFocus()
    focus_chain = []
    for _ in range(4):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focus_chain.append(QApplication.focusWidget())
    assert focus_chain == [a.view.chip_photo, a.view.live_photo, a.view.checks, a.view.note]
    qtbot.keyClicks(a.view.note, "Compared in person, same scar on the chin.")
    assert a.view.buttons[ReferralOutcome.ADMITTED].isEnabled()

    # WHEN A refuses it and undoes within the window THEN nothing is sent
    qtbot.keyClick(a.view.note, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: a.pending is not None, timeout=5000)  # a shortcut animates a click
    qtbot.keyClick(a, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert a.pending is None
    qtbot.wait(500)
    assert _row(room, mismatch).status == "open"

    # WHEN A admits the mismatch THEN it is sent after the undo window, and the next
    # referral (the hit) is selected at once
    qtbot.waitUntil(lambda: _opened(a, mismatch), timeout=20000)
    qtbot.keyClicks(a.view.note, "Compared in person, same scar on the chin.")
    qtbot.keyClick(a.view.note, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: _opened(a, watchlist), timeout=20000)
    assert _row(room, mismatch).status == "open"  # still within the undo window
    qtbot.waitUntil(lambda: _row(room, mismatch).status == "resolved", timeout=20000)
    row = _row(room, mismatch)
    assert row.outcome == "admitted" and row.officer == first
    qtbot.waitUntil(lambda: a.queue.count() == 1, timeout=20000)

    # WHEN A admits the hit THEN it asks first, then a second officer signs in to approve
    qtbot.keyClicks(a.view.note, "Date of birth differs from the listed person.")
    qtbot.keyClick(a.view.note, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(confirmations), timeout=5000)
    assert confirmations == ["The traveller matches a watchlist entry"]
    qtbot.waitUntil(lambda: a.approval_dialog is not None, timeout=20000)
    dialog = a.approval_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClicks(dialog.username, second)
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.keyClicks(dialog.note, "Checked the birth date on the data page.")
    qtbot.mouseClick(dialog.approve, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _row(room, watchlist).status == "resolved", timeout=20000)
    assert _row(room, watchlist).approved_by == second
    qtbot.waitUntil(lambda: a.queue.count() == 0, timeout=20000)
    # AND the shift report counts both, with the median time to resolve
    a.tabs.setCurrentWidget(a.report)
    qtbot.waitUntil(lambda: a.report.by_reason.rowCount() == 2, timeout=20000)
    assert "2 resolved" in a.report.summary.text()


@pytest.mark.parametrize("room", ["sqlite"], indirect=True)
def test_the_booth_speaks_the_four_languages_in_large_text(qtbot: QtBot, booths: Any) -> None:
    _room, a, _b, first, *_rest = booths
    _sign_in(qtbot, a, first)
    a.set_language("fr")
    assert a.tabs.tabText(0) == "Mur en direct"
    assert a.view.buttons[ReferralOutcome.REFUSED].text().startswith("Refuser")
    a.set_language("nl")
    assert a.logout_button.text() == "Afmelden"
    small = a.view.header.font().pointSizeF(), a.view.header.fontInfo().pixelSize()
    a.set_large_text(True)
    QApplication.processEvents()
    assert a.view.header.fontInfo().pixelSize() > small[1]
