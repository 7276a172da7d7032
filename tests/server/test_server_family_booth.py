"""GIVEN a kiosk that referred a family of two (one member a face mismatch, the other referred
with the family) and a traveller on their own, synced to the real server on loopback WHEN the
officer works the queue in the real officer window (offscreen) THEN the family is one queue
line ("Family of 2", every member's reasons), opening it claims both members and shows both,
and one decision with one note resolves both referrals on the server, each audited."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk.officer.families import FamilyKey, hits_first, resolve_family
from kiosk.storage.recorder import record_transaction, record_transactions
from models.family import family_message
from models.records import (
    CheckResult,
    CheckStatus,
    DecidedTransaction,
    Decision,
    ReasonCode,
    ReferralOutcome,
    ReferralSubject,
)
from models.server_tables import ReferralQueueRow, ServerAuditEventRow
from tests.server.conftest import make_decided
from ui.officer.window import OfficerWindow

PASSWORD = "correct horse battery staple"


def _member(family: str, kiosk: str, position: int, reason: ReasonCode) -> DecidedTransaction:
    decided = datetime.now(UTC) - timedelta(minutes=2)
    face = CheckStatus.FAILED if reason is ReasonCode.BIOMETRIC_MISMATCH else CheckStatus.PASSED
    return DecidedTransaction(
        transaction_id=f"{family}-m{position}",
        kiosk_id=kiosk,
        started_at=decided - timedelta(seconds=30),
        decided_at=decided,
        decision=Decision.REFER,
        reasons=(reason,),
        checks=(
            CheckResult("sod_signature", CheckStatus.PASSED),
            CheckResult("face_match", face),
            CheckResult(
                "family", CheckStatus.FAILED, "family_referral", family_message(family, position, 2)
            ),
        ),
        referral_subject=ReferralSubject(
            surname="JOSEPH", given_names=f"MEMBER {position}", birth_date=None
        ),
    )


def _refer_family(room: Any) -> list[str]:
    family = f"{room.device}-20261201T120000-0001-abcdef"
    members = [
        _member(family, room.device, 1, ReasonCode.FAMILY_REFERRAL),
        _member(family, room.device, 2, ReasonCode.BIOMETRIC_MISMATCH),
    ]
    record_transactions(room.kiosk_db, members)
    alone = dataclasses.replace(make_decided(0, room.device), transaction_id="single-000001")
    record_transaction(room.kiosk_db, alone)
    room.sync()
    return [m.transaction_id for m in members]


def _rows(room: Any, ids: list[str]) -> dict[str, ReferralQueueRow]:
    with room.state.database.sessions() as db:
        rows = db.scalars(
            select(ReferralQueueRow).where(
                ReferralQueueRow.kiosk_id == room.device, ReferralQueueRow.transaction_id.in_(ids)
            )
        ).all()
        return {row.transaction_id: row for row in rows}


def _resolutions_audited(room: Any, ids: list[str]) -> dict[str, str]:
    with room.state.database.sessions() as db:
        events = db.scalars(
            select(ServerAuditEventRow).where(
                ServerAuditEventRow.action == "referral.resolve",
                ServerAuditEventRow.subject.in_(ids),
            )
        ).all()
        return {str(e.subject): str((e.details or {}).get("outcome")) for e in events}


def test_the_server_names_each_members_family_and_one_call_resolves_them(room: Any) -> None:
    ids = _refer_family(room)
    booth = room.booth()
    try:
        session = booth.login(room.officer(), PASSWORD)
        queue = {r.transaction_id: r for r in booth.open_referrals(session)}
        # THEN each member carries the family from its stored family check; the other not
        tags = {tid: queue[tid].family for tid in ids}
        assert [(t.position, t.size) for t in tags.values() if t] == [(1, 2), (2, 2)]
        assert {t.family_id for t in tags.values() if t} == {ids[0][:-3]}
        assert queue["single-000001"].family is None
        detail = booth.referral(session, ids[1], kiosk_id=room.device)
        assert detail.summary.family is not None and detail.summary.family.position == 2
        # WHEN one member was already resolved at another booth and the family is refused
        booth.resolve(session, ids[0], ReferralOutcome.REFUSED, "first", kiosk_id=room.device)
        key = FamilyKey(room.device, ids[0][:-3], 2, tuple(queue[t].key for t in ids))
        result = resolve_family(booth, session, key, ReferralOutcome.REFUSED, "the family")
        # THEN that member is skipped, the other resolved
        assert result.error is None
        assert [k.transaction_id for k in result.already_closed] == [ids[0]]
        assert [k.transaction_id for k, _r in result.resolutions] == [ids[1]]
        assert {r.status for r in _rows(room, ids).values()} == {"resolved"}
    finally:
        booth.close()


def test_the_officer_window_shows_a_family_as_one_line_and_resolves_it_once(
    qtbot: QtBot, room: Any
) -> None:
    ids = _refer_family(room)
    window = OfficerWindow(room.booth(), undo_ms=50, confirm=lambda _n, _r: True)
    qtbot.addWidget(window)
    window.show()
    officer = room.officer()
    try:
        window.login(officer, PASSWORD)
        # THEN three referrals are two lines: the family's and the traveller's alone
        qtbot.waitUntil(lambda: window.queue.count() == 2, timeout=20000)
        texts = [window.queue.item(i).text() for i in range(2)]
        family_line = next(i for i, text in enumerate(texts) if "Family of 2" in text)
        text = texts[family_line]
        assert "Referred with their family" in text and "face does not match" in text, text
        key = window.queue.item(family_line).data(256)
        assert isinstance(key, FamilyKey) and [m.transaction_id for m in key.members] == ids
        # WHEN the officer opens the family's line
        window.queue.setCurrentRow(family_line)
        qtbot.waitUntil(lambda: window.view.family == key and len(window.view.members) == 2,
                        timeout=20000)  # fmt: skip
        # THEN both members are claimed and the view lists them, the second one a click away
        qtbot.waitUntil(
            lambda: {r.claimed_by for r in _rows(room, ids).values()} == {officer}, timeout=20000
        )
        view = window.view
        assert view.member_bar.isVisible() and view.member_bar.count() == 2
        assert "JOSEPH, MEMBER 1" in view.member_bar.tabText(0)
        assert view.header.text().startswith("Family of 2")
        view.member_bar.setCurrentIndex(1)
        assert view.detail is not None and view.detail.summary.transaction_id == ids[1]
        assert "JOSEPH, MEMBER 2" in view.header.text()
        # WHEN one note and one decision are given
        view.note.setPlainText("Family sent to the desk together.")
        button = view.buttons[ReferralOutcome.REFUSED]
        assert button.isEnabled()
        button.click()
        # THEN after the undo window both referrals are resolved on the server, each audited
        qtbot.waitUntil(
            lambda: {r.status for r in _rows(room, ids).values()} == {"resolved"}, timeout=20000
        )
        rows = _rows(room, ids)
        assert {r.outcome for r in rows.values()} == {"refused"}
        assert {r.note for r in rows.values()} == {"Family sent to the desk together."}
        assert _resolutions_audited(room, ids) == dict.fromkeys(ids, "refused")
        qtbot.waitUntil(lambda: window.queue.count() == 1, timeout=20000)
        assert [r.transaction_id for r in window.referrals] == ["single-000001"]
    finally:
        window.shutdown()
        window.close()


@pytest.mark.parametrize("room", ["sqlite"], indirect=True)
def test_admitting_a_family_waits_for_every_members_photos(qtbot: QtBot, room: Any) -> None:
    ids = _refer_family(room)
    window = OfficerWindow(room.booth(), undo_ms=50, confirm=lambda _n, _r: True)
    qtbot.addWidget(window)
    window.show()
    try:
        window.login(room.officer(), PASSWORD)
        qtbot.waitUntil(lambda: window.queue.count() == 2, timeout=20000)
        row = next(
            i
            for i in range(window.queue.count())
            if isinstance(window.queue.item(i).data(256), FamilyKey)
        )
        window.queue.setCurrentRow(row)
        qtbot.waitUntil(lambda: len(window.view.members) == 2, timeout=20000)
        window.view.note.setPlainText("Checked at the desk.")
        # THEN a face mismatch without photos in the family keeps "admit" closed for all
        assert not window.view.buttons[ReferralOutcome.ADMITTED].isEnabled()
        assert window.view.hint.text().startswith("Admitting the family")
        assert window.view.buttons[ReferralOutcome.SECONDARY_INSPECTION].isEnabled()
        assert {r.status for r in _rows(room, ids).values()} == {"open"}
    finally:
        window.shutdown()
        window.close()


def test_admitting_a_family_with_a_hit_waits_for_the_second_officer_before_anyone(
    room: Any,
) -> None:
    family = f"{room.device}-20261201T120000-0002-abcdef"
    members = [
        _member(family, room.device, 1, ReasonCode.FAMILY_REFERRAL),
        _member(family, room.device, 2, ReasonCode.WATCHLIST_HIT),
    ]
    record_transactions(room.kiosk_db, members)
    room.sync()
    ids = [m.transaction_id for m in members]
    booth = room.booth()
    try:
        first = booth.login(room.officer(), PASSWORD)
        second = booth.login(room.officer(), PASSWORD)
        queue = {r.transaction_id: r for r in booth.open_referrals(first)}
        assert queue[ids[1]].hit and not queue[ids[0]].hit
        key = FamilyKey(room.device, family, 2, tuple(queue[t].key for t in ids))
        ordered = hits_first(key, {queue[ids[1]].key})
        # WHEN the family is admitted (the hit goes first)
        result = resolve_family(booth, first, ordered, ReferralOutcome.ADMITTED, "all checked")
        # THEN the hit's admission awaits a second officer and the parent is not admitted yet
        assert [k.transaction_id for k in result.needs_approval] == [ids[1]]
        assert [k.transaction_id for k in result.waiting] == [ids[0]]
        assert {t: r.status for t, r in _rows(room, ids).items()} == {
            ids[0]: "open",
            ids[1]: "pending_approval",
        }
        # WHEN the second officer approves THEN the rest of the family can be admitted
        booth.approve(second, ids[1], True, "listed person is someone else", kiosk_id=room.device)
        rest = resolve_family(booth, first, ordered, ReferralOutcome.ADMITTED, "all checked")
        assert [k.transaction_id for k in rest.already_closed] == [ids[1]]
        assert {r.outcome for r in _rows(room, ids).values()} == {"admitted"}
    finally:
        booth.close()
