"""GIVEN the real server (uvicorn, TLS) on SQLite and on PostgreSQL and a kiosk that syncs to
it over mutual TLS WHEN officers at two booths work its referrals THEN the photos reach the
booth (audited, purged after resolution plus retention), hits come first with the listed
person, the number is masked except on the audited detail, a claim keeps others off, an
admission of a hit needs a second officer, a face mismatch cannot be admitted unseen, and six
officers resolving at once leave exactly one decision."""

from __future__ import annotations

import ssl
import threading
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kiosk.officer.referrals import (
    ApprovalRefusedError,
    PhotosNotShownError,
    ReferralClaimedError,
    ReferralClosedError,
)
from kiosk.officer.samples import sample_referrals, seed_sample_referrals
from kiosk.storage.recorder import decision_payload
from models.base import utc_now
from models.records import ReferralOutcome
from models.server_tables import ReferralPhotoRow, ReferralQueueRow, ServerAuditEventRow
from models.tables import ReferralRow
from server.photos import purge_photos

PASSWORD = "correct horse battery staple"
ControlRoom = Any  # tests/control_room/conftest.py


def _actions(room: ControlRoom, actor: str) -> list[str]:
    with room.state.database.sessions() as db:
        return list(
            db.scalars(
                select(ServerAuditEventRow.action)
                .where(ServerAuditEventRow.actor == actor)
                .order_by(ServerAuditEventRow.id)
            )
        )


def test_photos_travel_to_the_booth_audited_and_are_purged_after_retention(
    room: ControlRoom,
) -> None:
    # GIVEN the kiosk's two sample referrals (chip photo and live frame each), synced
    mismatch, watchlist = seed_sample_referrals(room.kiosk_db, room.cipher, None, room.device)
    room.sync()
    officer = room.officer()
    booth = room.booth()
    try:
        session = booth.login(officer, PASSWORD)
        # WHEN the officer opens the face-mismatch referral
        detail = booth.referral(session, mismatch)
        # THEN both photos arrived, decrypted, as the kiosk had them
        assert detail.chip_portrait is not None and detail.chip_portrait[:2] == b"\xff\xd8"
        assert detail.live_capture is not None and detail.live_capture[:2] == b"\xff\xd8"
        assert detail.images_note is None and detail.needs_photos
        # AND the server holds them sealed, not in the clear
        with room.state.database.sessions() as db:
            rows = db.scalars(
                select(ReferralPhotoRow).where(ReferralPhotoRow.transaction_id == mismatch)
            ).all()
        assert sorted(r.kind for r in rows) == ["chip_portrait", "live_frame"]
        assert all(detail.chip_portrait[:64] not in r.ciphertext for r in rows)
        # AND the view is audited
        assert _actions(room, officer) == [
            "login.success",
            "referral.view",
            "referral.photos_viewed",
        ]
        # WHEN it is resolved and the retention passes
        booth.resolve(session, mismatch, ReferralOutcome.REFUSED, "not the holder")
        with room.state.database.session() as db:
            early = purge_photos(db, retention_hours=24)
        with room.state.database.session() as db:
            later = purge_photos(db, 24, now=utc_now() + timedelta(hours=25))
        # THEN only then are its photos deleted; the open referral keeps its own
        assert early == 0 and later == 2
        after = booth.referral(session, mismatch)
        assert after.chip_portrait is None and "deleted" in (after.images_note or "")
        assert booth.referral(session, watchlist).chip_portrait is not None
    finally:
        booth.close()


def test_hits_first_listed_person_masked_number_and_audited_lists(room: ControlRoom) -> None:
    # GIVEN a face mismatch and (two minutes later) a watchlist hit
    mismatch, watchlist = seed_sample_referrals(room.kiosk_db, room.cipher, None, room.device)
    room.sync()
    officer = room.officer()
    stranger = room.officer(site="ANU")  # an officer of another site
    booth = room.booth()
    try:
        session = booth.login(officer, PASSWORD)
        page = booth.page(session)
        detail = booth.referral(session, watchlist)
        other = booth.page(booth.login(stranger, PASSWORD))
        paged = booth.page(session, offset=1, limit=1)
    finally:
        booth.close()
    # THEN the hit comes first, marked, with the listed person, the score and what agreed
    assert [r.transaction_id for r in page.items] == [watchlist, mismatch]
    hit = page.items[0]
    assert hit.hit and not page.items[1].hit
    person = hit.listed[0]
    assert (person.surname, person.given_names, person.birth_date) == (
        "JOSEPH",
        "MARIE ANGELIQUE",
        "1987-03",
    )
    assert person.reference == "IMPACS-2024-0193" and person.list_name == "regional-watchlist"
    assert person.score == pytest.approx(0.93) and "birth_date" in person.agreeing
    # AND the number is masked on the queue, in full on the (audited) detail view
    assert hit.document_number == "••••••567"
    assert detail.document_number == "LC1234567"
    # AND paging works, and the other site's officer sees none of it
    assert paged.total == 2 and [r.transaction_id for r in paged.items] == [mismatch]
    assert other.items == ()
    # AND reading the list is audited with the ids it returned
    with room.state.database.sessions() as db:
        listed = db.scalars(
            select(ServerAuditEventRow)
            .where(
                ServerAuditEventRow.actor == officer, ServerAuditEventRow.action == "referral.list"
            )
            .order_by(ServerAuditEventRow.id)
        ).first()
    assert listed is not None and listed.details["ids"] == [watchlist, mismatch]


def test_two_booths_claim_four_eyes_and_photos_before_admitting(room: ControlRoom) -> None:
    mismatch, watchlist = seed_sample_referrals(room.kiosk_db, room.cipher, None, room.device)
    room.sync()
    first, second = room.officer(), room.officer()
    booth_a, booth_b = room.booth(), room.booth()
    try:
        a = booth_a.login(first, PASSWORD)
        b = booth_b.login(second, PASSWORD)
        # WHEN booth A claims the watchlist referral THEN booth B sees it taken and cannot act
        booth_a.claim(a, watchlist)
        seen_by_b = {r.transaction_id: r for r in booth_b.page(b).items}
        assert seen_by_b[watchlist].claimed_by == first
        with pytest.raises(ReferralClaimedError):
            booth_b.resolve(b, watchlist, ReferralOutcome.REFUSED, "mine now")
        with pytest.raises(ReferralClaimedError):
            booth_b.claim(b, watchlist)
        # WHEN A admits the hit THEN it waits for a second officer; A cannot approve it
        result = booth_a.resolve(a, watchlist, ReferralOutcome.ADMITTED, "DOB differs")
        assert result.needs_approval and result.status == "pending_approval"
        with pytest.raises(ApprovalRefusedError):
            booth_a.approve(a, watchlist, True, "approving my own")
        # AND B approves with their own login: resolved, both audited
        approved = booth_b.approve(b, watchlist, True, "checked the DOB on the passport")
        assert approved.status == "resolved"
        with pytest.raises(ReferralClosedError):
            booth_b.approve(b, watchlist, True, "again")
        # WHEN A admits the face mismatch without loading its photos THEN refused
        response = httpx.post(
            f"{room.url}/v1/referrals/{mismatch}/resolution",
            json={"outcome": "admitted", "note": "looks like her"},
            headers={"Authorization": f"Bearer {a.token}"},
            verify=ssl.create_default_context(cafile=room.ca),
        )
        assert response.status_code == 409 and "photos" in response.json()["detail"]
        with pytest.raises(PhotosNotShownError):
            booth_a.resolve(a, mismatch, ReferralOutcome.ADMITTED, "looks like her")
        booth_a.referral(a, mismatch)  # loads (and shows) the photos
        assert not booth_a.resolve(
            a, mismatch, ReferralOutcome.ADMITTED, "same person"
        ).needs_approval
    finally:
        booth_a.close()
        booth_b.close()
    with room.state.database.sessions() as db:
        row = db.get(ReferralQueueRow, (room.device, watchlist))
        assert row is not None
        assert (row.status, row.outcome, row.officer, row.approved_by) == (
            "resolved",
            "admitted",
            first,
            second,
        )
    assert "referral.admission_requested" in _actions(room, first)
    assert "referral.admission_approved" in _actions(room, second)
    # AND the kiosk receives both resolutions
    room.sync()
    with room.kiosk_db.read() as db:
        assert {db.get(ReferralRow, t).outcome for t in (mismatch, watchlist)} == {"admitted"}  # type: ignore[union-attr]


def test_six_officers_resolving_at_once_leave_one_decision(room: ControlRoom) -> None:
    # GIVEN one open referral and six officers signed in
    _mismatch, watchlist = seed_sample_referrals(room.kiosk_db, room.cipher, None, room.device)
    room.sync()
    booths = [room.booth() for _ in range(6)]
    sessions = [b.login(room.officer(), PASSWORD) for b in booths]
    outcomes = [ReferralOutcome.REFUSED, ReferralOutcome.SECONDARY_INSPECTION] * 3
    results: list[str] = []
    barrier = threading.Barrier(6)

    def resolve(index: int) -> None:
        barrier.wait()
        try:
            booths[index].resolve(sessions[index], watchlist, outcomes[index], f"officer {index}")
            results.append("ok")
        except ReferralClosedError:
            results.append("conflict")

    # WHEN all six resolve it at the same moment
    threads = [threading.Thread(target=resolve, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for booth in booths:
        booth.close()
    # THEN exactly one succeeded and the stored decision is that officer's
    assert sorted(results) == ["conflict"] * 5 + ["ok"]
    with room.state.database.sessions() as db:
        row = db.get(ReferralQueueRow, (room.device, watchlist))
        resolves = db.scalars(
            select(ServerAuditEventRow).where(
                ServerAuditEventRow.subject == watchlist,
                ServerAuditEventRow.action == "referral.resolve",
            )
        ).all()
    assert row is not None and len(resolves) == 1
    assert row.officer == resolves[0].actor and row.outcome == resolves[0].details["outcome"]


@pytest.mark.parametrize("room", ["sqlite"], indirect=True)
def test_bad_and_hostile_photo_uploads_are_refused(room: ControlRoom) -> None:
    import base64

    from kiosk.officer.samples import FACES
    from kiosk.sync.client import ServerClient
    from kiosk.sync.errors import ServerRefusedError

    png = base64.b64encode((FACES / "rose_1.jpg").read_bytes()).decode()
    cases = {
        "another kiosk's referral": (
            {"transaction_id": "x-1", "kiosk_id": "someone-else", "chip_portrait": png},
            403,
        ),
        "not base64": (
            {"transaction_id": "x-2", "kiosk_id": room.device, "chip_portrait": "@@@@"},
            422,
        ),
        "not an image": (
            {
                "transaction_id": "x-3",
                "kiosk_id": room.device,
                "live_frame": base64.b64encode(b"%PDF-1.7 not an image").decode(),
            },
            422,
        ),
        "unknown field": (
            {"transaction_id": "x-4", "kiosk_id": room.device, "template": png},
            422,
        ),
    }
    with ServerClient(room.kiosk_config.sync) as client:
        for name, (item, status) in cases.items():
            with pytest.raises(ServerRefusedError) as refused:
                client.post_batch("referral-photos", [item])
            assert refused.value.status_code == status, name
        # a genuine upload is stored once (a resend is a duplicate)
        ok = {"transaction_id": "x-5", "kiosk_id": room.device, "chip_portrait": png}
        assert client.post_batch("referral-photos", [ok])["accepted"] == 1
        assert client.post_batch("referral-photos", [ok])["duplicates"] == 1
    # AND without a device certificate the endpoint is closed
    response = httpx.post(
        f"{room.url}/v1/kiosk/referral-photos",
        json={"items": [ok]},
        verify=ssl.create_default_context(cafile=room.ca),
    )
    assert response.status_code in (401, 403)
    with room.state.database.sessions() as db:
        kept = db.scalars(select(ReferralPhotoRow.transaction_id)).all()
    assert list(kept) == ["x-5"]


@pytest.mark.parametrize("room", ["sqlite"], indirect=True)
def test_a_resolution_for_a_referral_the_kiosk_lacks_is_kept_until_it_has_it(
    room: ControlRoom,
) -> None:
    from kiosk.storage.recorder import record_transaction
    from kiosk.sync.client import ServerClient
    from kiosk.sync.resolutions import pull_resolutions

    # GIVEN a referral the server has (sent before the kiosk's database was restored)
    record = sample_referrals(room.device, room.cipher)[0]
    with ServerClient(room.kiosk_config.sync) as client:
        client.post_batch("decisions", [decision_payload(record)])
    booth = room.booth()
    try:
        session = booth.login(room.officer(), PASSWORD)
        booth.resolve(session, record.transaction_id, ReferralOutcome.REFUSED, "seen at desk")
    finally:
        booth.close()
    # WHEN the kiosk, which does not have it, pulls resolutions THEN it does not acknowledge it
    with ServerClient(room.kiosk_config.sync) as client:
        assert pull_resolutions(room.kiosk_db, client) == 0
        with room.state.database.sessions() as db:
            row = db.get(ReferralQueueRow, (room.device, record.transaction_id))
            assert row is not None and row.delivered_at is None
        # WHEN the kiosk has the referral again THEN the resolution is applied and acknowledged
        record_transaction(room.kiosk_db, record, cipher=room.cipher)
        assert pull_resolutions(room.kiosk_db, client) == 1
    with room.kiosk_db.read() as db:
        kiosk_row = db.get(ReferralRow, record.transaction_id)
        assert kiosk_row is not None and kiosk_row.outcome == "refused"
    with room.state.database.sessions() as db:
        row = db.get(ReferralQueueRow, (room.device, record.transaction_id))
        assert row is not None and row.delivered_at is not None
