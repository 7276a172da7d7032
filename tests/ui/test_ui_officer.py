"""GIVEN the officer booth over the kiosk's local referrals WHEN an officer signs in, opens a
referral and resolves it THEN the queue, the photos, the score, the checks, the document and
the screening hits are shown, actions wait for a note, shortcuts work, and all is audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk.audit.log import AuditLog
from kiosk.audit.verify import verify
from kiosk.officer.accounts import OfficerAccounts
from kiosk.officer.local import LocalReferralSource
from kiosk.storage.crypto_store import BlobCipher
from kiosk.storage.database import Database
from models.records import ReferralOutcome
from models.tables import AuditEntryRow, ReferralRow
from ui.officer.window import OfficerWindow

from .conftest import OFFICER_PASSWORD

pytestmark = pytest.mark.gui


@pytest.fixture
def source(
    database: Database, accounts: OfficerAccounts, cipher: BlobCipher, audit: AuditLog
) -> LocalReferralSource:
    return LocalReferralSource(database, accounts, cipher=cipher, audit=audit, face_threshold=0.6)


@pytest.fixture
def window(qtbot: QtBot, source: LocalReferralSource) -> Iterator[OfficerWindow]:
    win = OfficerWindow(source, refresh_ms=60_000, undo_ms=150, confirm=lambda _n, _r: True)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    yield win
    win.close()
    assert not win.timer.isActive()


def sign_in(qtbot: QtBot, window: OfficerWindow, password: str = OFFICER_PASSWORD) -> None:
    page = window.login_page
    assert not page.button.isEnabled()
    qtbot.keyClicks(page.username, "officer1")
    qtbot.keyClicks(page.password, password)
    assert page.button.isEnabled()
    qtbot.mouseClick(page.button, Qt.MouseButton.LeftButton)


def actions(database: Database) -> list[str]:
    with database.read() as session:
        return list(session.scalars(select(AuditEntryRow.action).order_by(AuditEntryRow.seq)))


def test_a_wrong_password_is_refused_and_audited(
    qtbot: QtBot, window: OfficerWindow, database: Database
) -> None:
    sign_in(qtbot, window, "wrong password")
    qtbot.waitUntil(lambda: window.login_page.error.text() != "", timeout=5000)
    assert "officer_login_failed" in window.login_page.error.text()
    assert window.pages.currentWidget() is window.login_page
    assert "officer.login_failed" in actions(database)


def test_an_officer_reviews_and_admits_a_referral_with_a_note(
    qtbot: QtBot,
    window: OfficerWindow,
    referral_ids: list[str],
    database: Database,
    audit: AuditLog,
) -> None:
    sign_in(qtbot, window)
    qtbot.waitUntil(lambda: window.queue.count() == 2, timeout=5000)
    assert "JOSEPH, MARIE ANGELA" in window.queue.item(1).text()

    window.queue.setCurrentRow(1)  # the watchlist hit comes first
    view = window.view
    qtbot.waitUntil(
        lambda: (
            view.detail is not None
            and view.detail.summary.transaction_id == referral_ids[0]
            and view.photos_shown
        ),
        timeout=5000,
    )
    assert view.detail is not None
    assert view.detail.summary.transaction_id == referral_ids[0]
    assert view.chip_photo.picture.pixmap() is not None
    assert not view.chip_photo.picture.pixmap().isNull()
    assert not view.live_photo.picture.pixmap().isNull()
    assert view.score.text() == "0.71" and "NO match" in view.score_caption.text()
    check_names = {view.checks.item(r, 0).toolTip() for r in range(view.checks.rowCount())}
    assert {"face_match", "sod_signature", "watchlist"} <= check_names
    assert view.hits.text() == "none"

    # every action waits for a note
    assert not any(b.isEnabled() for b in view.buttons.values())
    qtbot.keyClicks(view.note, "   ")
    assert not any(b.isEnabled() for b in view.buttons.values())
    qtbot.keyClicks(view.note, "Compared in person; photo is ten years old.")
    assert all(b.isEnabled() for b in view.buttons.values())

    qtbot.keyClick(view.note, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.queue.count() == 1, timeout=5000)

    with database.read() as session:
        row = session.get(ReferralRow, referral_ids[0])
        assert row is not None
        assert row.outcome == ReferralOutcome.ADMITTED.value and row.officer_id == "officer1"
        assert row.note == "Compared in person; photo is ten years old."
        report = verify(session, [audit.public_key])
    assert report.ok
    done = actions(database)
    assert "officer.login" in done and "referral.viewed" in done and "referral.resolved" in done


def test_screening_hits_show_their_source_and_f5_refreshes(
    qtbot: QtBot, window: OfficerWindow, referral_ids: list[str], source: LocalReferralSource
) -> None:
    sign_in(qtbot, window)
    qtbot.waitUntil(lambda: window.queue.count() == 2, timeout=5000)
    window.queue.setCurrentRow(0)
    qtbot.waitUntil(
        lambda: (
            window.view.detail is not None
            and window.view.detail.summary.transaction_id == referral_ids[1]
        ),
        timeout=5000,
    )
    assert window.view.hits.text().startswith("Watchlist: 1 candidate")
    # resolved elsewhere (another booth): F5 brings the queue up to date
    assert window.session is not None
    source.resolve(window.session, referral_ids[0], ReferralOutcome.REFUSED, "seen at desk 2")
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.queue.count() == 1, timeout=5000)
