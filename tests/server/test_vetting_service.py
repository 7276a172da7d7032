"""Vetting on PostgreSQL: every traveller against the regional and national lists and the
rules; idempotent ingestion, updates, quarantine, PNR linking, analysts' decisions, iAPI."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.server_tables import ListChangeRow, ServerAuditEventRow
from models.vetting_tables import (
    VettingHitRow,
    VettingInterchangeRow,
    VettingQuarantineRow,
    VettingRuleRow,
    VettingTravellerRow,
)
from server.api.schemas import ListName
from server.security.tokens import Role
from server.vetting import analyst
from server.vetting.generator import GeneratedBooking, paxlst, pnrgov
from server.vetting.rules import Condition, RuleIn
from tests.server.vetting_helpers import (
    flight,
    payment_rule,
    service_of,
    stolen,
    upload,
    watch,
)

pytestmark = pytest.mark.postgres
DATA = Path(__file__).resolve().parents[1] / "data" / "vetting"


def _ref() -> str:
    return uuid.uuid4().hex[:12].upper()


def _by_document(session, number: str) -> VettingTravellerRow:  # type: ignore[no-untyped-def]
    return session.scalars(
        select(VettingTravellerRow).where(VettingTravellerRow.doc_number == number)
    ).one()


def test_every_traveller_is_vetted_against_lists_and_rules(server_setup) -> None:  # type: ignore[no-untyped-def]
    state = server_setup.state
    service = service_of(state)
    plane = flight(11, 9)
    a, b, c, d, e = plane.travellers[:5]
    # GIVEN a regional watchlist naming A (given names in another order), a stolen passport
    # of B, C on Barbados's national list, and rules on bookings
    listed = replace(a, given_names=" ".join(reversed(a.given_names.split())))
    upload(state, ListName.WATCHLIST, [watch(listed, f"WL-{_ref()}", category="regional")])
    upload(state, ListName.LOST_STOLEN, [stolen(b)])
    with state.database.session() as session:
        analyst.add_national(
            session,
            "BRB",
            "person",
            [
                {
                    "key": "N1",
                    "data": {
                        "surname": c.surname,
                        "given_names": c.given_names,
                        "birth_date": c.birth_date.isoformat(),
                    },
                }
            ],
            "analyst",
        )
        late_cash = analyst.save_rule(
            session,
            RuleIn(
                name="Cash one-way booked late",
                reason="pattern of couriers",
                conditions=[
                    Condition(fact="payment", op="in", value=["CA"]),
                    Condition(fact="one_way", op="eq", value=True),
                    Condition(fact="booking_to_departure_hours", op="lt", value=24),
                ],
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
            ),
            "analyst-1",
        )
        expired = analyst.save_rule(
            session,
            RuleIn(
                name="Expired",
                reason="old",
                conditions=[Condition(fact="role", op="eq", value="passenger")],
                expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
            ),
            "analyst-1",
        )
        analyst.save_rule(
            session,
            RuleIn(
                name="Travels with a listed person",
                reason="companions of a hit",
                conditions=[Condition(fact="companion_hit", op="eq", value=True)],
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
            ),
            "analyst-2",
        )
    # WHEN the flight's PAXLST arrives, then the PNR of D's booking (cash, one-way, 3 h before)
    report = service.ingest(
        paxlst(plane, reference=_ref()).encode(), source="t", channel="cli", actor="t"
    )
    assert (report.passengers, report.crew, len(report.flights)) == (9, 0, 1)
    party = tuple(t for t in plane.travellers if t.reservation == d.reservation)
    booked = plane.departure - dt.timedelta(hours=3)
    booking = GeneratedBooking(d.reservation, party, booked, booked, payment="CA", one_way=True)
    pnr = service.ingest(
        pnrgov(plane, [booking], reference=_ref()).encode(), source="p", channel="cli", actor="t"
    )
    assert pnr.reservations == 1 and pnr.flights == report.flights
    # THEN each traveller has exactly the hits they should, with the agreeing fields
    with state.database.sessions() as session:

        def hits(t):  # type: ignore[no-untyped-def]
            row = _by_document(session, t.document_number)
            found = session.scalars(
                select(VettingHitRow).where(VettingHitRow.traveller_id == row.id)
            ).all()
            return row, {(h.kind, h.source) for h in found}, found

        row_a, kinds_a, found_a = hits(a)
        assert ("watchlist", "regional") in kinds_a and row_a.status == "refer"
        assert set(found_a[0].fields) >= {"name", "birth_date"}
        assert row_a.list_versions["watchlist"] >= 1 and row_a.list_versions["vetting_rules"] >= 3
        assert ("lost_stolen", "regional") in hits(b)[1]
        assert ("watchlist", "national:BRB") in hits(c)[1]
        row_d, kinds_d, _ = hits(d)
        assert ("rule", str(late_cash)) in kinds_d and row_d.pnr_id is not None
        assert ("rule", str(expired)) not in kinds_d
        clean = [
            t
            for t in plane.travellers[4:]
            if t.reservation not in {a.reservation, b.reservation, c.reservation, d.reservation}
        ]
        for t in clean:
            row, kinds, _ = hits(t)
            assert row.status == "cleared" and not kinds, t.surname
        # a companion of A (same booking) is referred by the companion rule
        companions = [t for t in plane.travellers if t.reservation == a.reservation and t is not a]
        for t in companions:
            assert any(k == "rule" for k, _ in hits(t)[1])
        rules = {r["name"]: r for r in analyst.rules(session)}
        assert rules["Cash one-way booked late"]["hits"] >= 1 and rules["Expired"]["hits"] == 0


def test_idempotent_updates_replace_and_changes_amend(server_setup) -> None:  # type: ignore[no-untyped-def]
    state = server_setup.state
    service = service_of(state)
    plane = flight(12, 10, number="610")
    reference = _ref()
    text = paxlst(plane, reference=reference).encode()
    first = service.ingest(text, source="a", channel="cli", actor="t")
    # a resend is stored once
    again = service.ingest(text, source="a", channel="cli", actor="t")
    assert again.duplicates == 1 and again.interchange_id == first.interchange_id
    (flight_id,) = first.flights
    with state.database.sessions() as session:
        stored = session.scalars(
            select(VettingInterchangeRow).where(
                VettingInterchangeRow.control_reference == reference
            )
        ).all()
        assert len(stored) == 1 and stored[0].raw == text.decode()
    # an update of the same flight replaces its manifest; the kiosks lose the removed travellers
    smaller = replace(plane, travellers=plane.travellers[:7])
    service.ingest(paxlst(smaller, reference=_ref()).encode(), source="b", channel="cli", actor="t")
    # a change message amends one traveller and adds none
    moved = replace(plane.travellers[0], seat="1A", given_names="NEW NAME")
    change = replace(plane, travellers=(moved,))
    service.ingest(
        paxlst(change, reference=_ref(), function="CP").encode(),
        source="c",
        channel="cli",
        actor="t",
    )
    with state.database.sessions() as session:
        rows = session.scalars(
            select(VettingTravellerRow).where(VettingTravellerRow.flight_id == flight_id)
        ).all()
        assert len(rows) == 7
        assert _by_document(session, moved.document_number).given_names == "NEW NAME"
        changes = session.scalars(
            select(ListChangeRow).where(
                ListChangeRow.list_name == "manifest", ListChangeRow.key.like("vetted:POS:BW610:%")
            )
        ).all()
        deleted = {c.key.rsplit(":", 1)[1] for c in changes if c.op == "delete"}
        assert deleted == {t.document_number for t in plane.travellers[7:]}


def test_unreadable_messages_are_quarantined_whole(server_setup) -> None:  # type: ignore[no-untyped-def]
    service = service_of(server_setup.state)
    for name in ("bad_truncated.edi", "bad_not_paxlst.edi"):
        data = (DATA / name).read_bytes()
        report = service.ingest(data, source=name, channel="cli", actor="t")
        assert report.messages == 0 and report.quarantined[0]["segment"] in ("4 NAD", "2 UNH")
        with server_setup.state.database.sessions() as session:
            row = session.scalars(
                select(VettingQuarantineRow).where(VettingQuarantineRow.source == name)
            ).all()[-1]
            assert row.raw == data.decode() and row.reason == report.quarantined[0]["reason"]
    garbage = service.ingest(
        b"\x00\xff not edifact at all", source="junk", channel="cli", actor="t"
    )
    assert garbage.quarantined and garbage.messages == 0


def test_iapi_answer_per_passenger_and_analyst_decisions(
    server_setup, people_client, token_headers
) -> None:  # type: ignore[no-untyped-def]
    state = server_setup.state
    plane = flight(13, 4, number="620", party_size=1)  # no companions: one answer per hit
    target = plane.travellers[1]
    upload(state, ListName.WATCHLIST, [watch(target, f"WL-{_ref()}")])
    headers = token_headers(people_client, server_setup.user(Role.GATEWAY))
    # WHEN the gateway submits a PAXLST that asks for an answer
    answer = people_client.post(
        "/v1/vetting/messages", content=paxlst(plane, reference=_ref(), iapi=True), headers=headers
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["passengers"] == 4 and body["response"].startswith("UNA")
    # THEN the answer says contact the authority for the referred one, board for the others
    response = people_client.get(
        f"/v1/vetting/interchanges/{body['interchange_id']}/response", headers=headers
    ).text
    assert response == body["response"] and response.count("ERC+0Z") == 3
    # another carrier's gateway account may not read it
    other = token_headers(people_client, server_setup.user(Role.GATEWAY))
    path = f"/v1/vetting/interchanges/{body['interchange_id']}/response"
    assert people_client.get(path, headers=other).status_code == 404
    assert f"DOC+P+{target.document_number}'ERC+2Z'" in response
    # an analyst confirms the hit: the traveller may not board; dismissing it clears them
    analyst_headers = token_headers(people_client, server_setup.user(Role.ANALYST))
    flights = people_client.get("/v1/vetting/flights?port=POS", headers=analyst_headers).json()[
        "items"
    ]
    mine = next(
        f
        for f in flights
        if f["id"] == next(iter([f["id"] for f in flights if f["flight"] == "BW620"]))
    )
    assert mine["open_hits"] >= 1 and mine["refer"] == 1
    listing = people_client.get(f"/v1/vetting/flights/{mine['id']}", headers=analyst_headers).json()
    referred = listing["travellers"][0]
    assert (
        referred["status"] == "refer" and referred["document"]["number"] == target.document_number
    )
    detail = people_client.get(
        f"/v1/vetting/travellers/{referred['id']}", headers=analyst_headers
    ).json()
    hit = next(h for h in detail["hits"] if h["kind"] == "watchlist")
    assert (
        people_client.post(
            f"/v1/vetting/hits/{hit['id']}/decision",
            json={"decision": "confirm", "note": "same person"},
            headers=headers,
        ).status_code
        == 403
    )
    confirmed = people_client.post(
        f"/v1/vetting/hits/{hit['id']}/decision",
        json={"decision": "confirm", "note": "same person"},
        headers=analyst_headers,
    ).json()
    assert confirmed["status"] == "confirmed" and confirmed["traveller_status"] == "no_board"
    dismissed = people_client.post(
        f"/v1/vetting/hits/{hit['id']}/decision",
        json={"decision": "dismiss", "note": "namesake"},
        headers=analyst_headers,
    ).json()
    assert dismissed["traveller_status"] == "cleared"
    with state.database.sessions() as session:
        actions = session.scalars(
            select(ServerAuditEventRow.action)
            .where(ServerAuditEventRow.subject == f"hit:{hit['id']}")
            .order_by(ServerAuditEventRow.id)
        ).all()
        assert actions == ["vetting.hit.confirmed", "vetting.hit.dismissed"]
        latest = session.scalars(
            select(ListChangeRow)
            .where(ListChangeRow.key.like(f"vetted:POS:BW620:%:{target.document_number}"))
            .order_by(ListChangeRow.id.desc())
        ).first()
        assert latest is not None and latest.data["vetting"] == "cleared"
        count = session.scalar(select(func.count()).select_from(VettingRuleRow))
        assert count is not None


def test_a_list_entry_deleted_later_no_longer_hits(server_setup) -> None:  # type: ignore[no-untyped-def]
    state = server_setup.state
    plane = flight(14, 2, number="630", party_size=1)
    first, second = plane.travellers
    key_1, key_2 = (
        f"{first.issuer}:{first.document_number}",
        f"{second.issuer}:{second.document_number}",
    )
    upload(
        state,
        ListName.LOST_STOLEN,
        [
            {"op": "upsert", "key": key_1, "data": {"doc_type": "P"}},
            {"op": "upsert", "key": key_2, "data": {"status": "stolen"}},
        ],
    )
    upload(state, ListName.LOST_STOLEN, [{"op": "delete", "key": key_1}])
    report = service_of(state).ingest(
        paxlst(plane, reference=_ref()).encode(), source="d", channel="cli", actor="t"
    )
    assert report.passengers == 2
    with state.database.sessions() as session:
        assert _by_document(session, first.document_number).status == "cleared"
        assert _by_document(session, second.document_number).status == "refer"  # no type given


def test_a_list_moved_between_messages_applies_to_the_next_one_and_national_uploads_revet(
    server_setup, people_client, token_headers
) -> None:  # type: ignore[no-untyped-def]
    state = server_setup.state
    service = service_of(state)
    early, late = (
        flight(15, 2, number="640", party_size=1),
        flight(16, 2, number="650", party_size=1),
    )
    service.ingest(paxlst(early, reference=_ref()).encode(), source="e", channel="cli", actor="t")
    with state.database.sessions() as session:
        before = _by_document(session, early.travellers[0].document_number).list_versions
    # WHEN the watchlist moves on (only it: the lost/stolen index is kept as it is)
    assert service._lists is not None
    documents = service._lists.regional_documents
    names = service._lists.watchlist.base
    key = f"WL-{_ref()}"
    upload(state, ListName.WATCHLIST, [watch(late.travellers[0], key)])
    service.ingest(paxlst(late, reference=_ref()).encode(), source="l", channel="cli", actor="t")
    # THEN the next message is vetted with the new copy, and says so
    with state.database.sessions() as session:
        row = _by_document(session, late.travellers[0].document_number)
        assert row.status == "refer" and row.list_versions["watchlist"] > before["watchlist"]
    assert service._lists.regional_documents is documents
    # AND the change was applied as a delta: the name index was not rebuilt
    assert service._lists.watchlist.base is names and key in service._lists.watchlist.added
    # AND a delete applies the same way: the same traveller, sent again, no longer hits
    upload(state, ListName.WATCHLIST, [{"op": "delete", "key": key}])
    again = replace(late, number="651")
    service.ingest(paxlst(again, reference=_ref()).encode(), source="a", channel="cli", actor="t")
    with state.database.sessions() as session:
        rows = session.scalars(
            select(VettingTravellerRow).where(
                VettingTravellerRow.doc_number == late.travellers[0].document_number
            )
        ).all()
        assert sorted(r.status for r in rows) == ["cleared", "refer"]
    assert service._lists.watchlist.base is names and not service._lists.watchlist.added
    # AND a national upload through the API vets the open flights again at once
    app_headers = token_headers(people_client, server_setup.user(Role.ADMINISTRATOR))
    target = early.travellers[1]
    people_client.app.state.vetting.ingest(
        paxlst(replace(early, number="641"), reference=_ref()).encode(),
        source="x", channel="cli", actor="t",
    )  # fmt: skip
    answer = people_client.post(
        "/v1/vetting/national/GUY",
        json={
            "kind": "document",
            "entries": [{"key": f"{target.issuer}:{target.document_number}"}],
        },
        headers=app_headers,
    )
    assert answer.status_code == 200, answer.text
    with state.database.sessions() as session:
        rows = session.scalars(
            select(VettingTravellerRow).where(
                VettingTravellerRow.doc_number == target.document_number
            )
        ).all()
        assert rows and all(r.status == "refer" for r in rows)


@pytest.mark.parametrize("pnr_first", [True, False], ids=["pnr-first", "api-first"])
def test_an_api_traveller_is_linked_by_document_to_its_booking_in_either_order(
    server_setup, pnr_first: bool
) -> None:  # type: ignore[no-untyped-def]
    state = server_setup.state
    service = service_of(state)
    # GIVEN a traveller whose API record names no reservation, and a booking (another
    # locator) that names their passport, from an agency a rule watches
    plane = flight(41 if pnr_first else 42, 2, number="660" if pnr_first else "661", party_size=1)
    traveller = replace(plane.travellers[0], reservation="")
    plane = replace(plane, travellers=(traveller, *plane.travellers[1:]))
    agency = f"7{uuid.uuid4().int % 10**7:07d}"
    with state.database.session() as session:
        rule = analyst.save_rule(
            session,
            RuleIn(
                name=f"Agency {agency}",
                reason="agency under review",
                conditions=[Condition(fact="agency", op="eq", value=agency)],
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
            ),
            "analyst-1",
        )
    booked = plane.departure - dt.timedelta(days=3)
    booking = GeneratedBooking(f"Q{_ref()[:5]}", (traveller,), booked, booked, agency=agency)
    api = paxlst(plane, reference=_ref()).encode()
    pnr = pnrgov(plane, [booking], reference=_ref()).encode()
    # WHEN the two arrive in this order
    for data in (pnr, api) if pnr_first else (api, pnr):
        service.ingest(data, source="o", channel="cli", actor="t")
    # THEN the traveller is linked to the booking by the document, and vetted with it
    with state.database.sessions() as session:
        row = _by_document(session, traveller.document_number)
        assert row.pnr_id is not None and row.reservation is None
        found = session.scalars(select(VettingHitRow).where(VettingHitRow.traveller_id == row.id))
        assert ("rule", str(rule)) in {(h.kind, h.source) for h in found}
        assert row.status == "refer"
        detail = analyst.traveller_detail(session, row.id)
        assert detail["booking"] is not None and detail["booking"]["agency"] == agency
        other = _by_document(session, plane.travellers[1].document_number)
        assert other.pnr_id is None and other.status == "cleared"


def test_the_iapi_codes_of_the_configuration_are_the_ones_answered(server_setup) -> None:  # type: ignore[no-untyped-def]
    # GIVEN an authority whose implementation guide codes the directives otherwise
    state = server_setup.state
    plane = flight(43, 3, number="670", party_size=1)
    target = plane.travellers[0]
    upload(state, ListName.WATCHLIST, [watch(target, f"WL-{_ref()}")])
    service = service_of(state, iapi_codes={"board": "B1", "no_board": "N1", "contact": "C1"})
    # WHEN a PAXLST asks for an answer
    report = service.ingest(
        paxlst(plane, reference=_ref(), iapi=True).encode(), source="i", channel="cli", actor="t"
    )
    # THEN the answer carries the configured codes, never the defaults
    assert report.response is not None
    assert f"DOC+P+{target.document_number}'ERC+C1'" in report.response
    assert report.response.count("ERC+B1") == 2 and "ERC+0Z" not in report.response
    with pytest.raises(ValueError, match="ERC code"):
        service_of(state, iapi_codes={"board": "NOT A CODE"})


def test_national_list_entries_are_listed_and_removed_only_by_analysts_and_administrators(
    server_setup, people_client, token_headers
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN an entry of Saint Lucia's list
    entry = {"kind": "document", "entries": [{"key": f"LCA:{_ref()[:9]}"}]}
    analyst_headers = token_headers(people_client, server_setup.user(Role.ANALYST))
    assert (
        people_client.post(
            "/v1/vetting/national/LCA", json=entry, headers=analyst_headers
        ).status_code
        == 200
    )
    key = entry["entries"][0]["key"]
    path = f"/v1/vetting/national/LCA?kind=document&key={key}"
    # THEN officers and gateways may neither read nor remove it; nobody unsigned may
    for role in (Role.OFFICER, Role.GATEWAY):
        headers = token_headers(people_client, server_setup.user(role))
        assert people_client.get("/v1/vetting/national", headers=headers).status_code == 403
        assert people_client.delete(path, headers=headers).status_code == 403
    assert people_client.delete(path).status_code == 401
    # AND an administrator sees it and removes it; removing it again is 404
    admin = token_headers(people_client, server_setup.user(Role.ADMINISTRATOR))
    listed = people_client.get("/v1/vetting/national?state=LCA", headers=admin).json()["items"]
    assert any(e["key"] == key and e["kind"] == "document" for e in listed)
    assert people_client.delete(path, headers=admin).status_code == 200
    assert people_client.delete(path, headers=admin).status_code == 404
    listed = people_client.get("/v1/vetting/national?state=LCA", headers=admin).json()["items"]
    assert all(e["key"] != key for e in listed)
    bad = people_client.delete("/v1/vetting/national/LCA?kind=visa&key=X", headers=admin)
    assert bad.status_code == 422


def test_a_message_that_loses_a_race_for_a_new_row_is_ingested_again_not_dropped(
    server_setup, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a message whose first attempt fails as when another request inserted the same
    # new flight (or the manifest's version row) first: PostgreSQL's unique violation
    from sqlalchemy.exc import IntegrityError

    from server.vetting import service as service_module

    state = server_setup.state
    service = service_of(state)
    plane = flight(21, 6, number="660")
    reference = _ref()
    real = service_module.publish_flight
    calls = {"n": 0}

    def racing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise IntegrityError("INSERT", {}, Exception("duplicate key value"))
        return real(*args, **kwargs)

    monkeypatch.setattr(service_module, "publish_flight", racing)
    # WHEN it is ingested
    report = service.ingest(
        paxlst(plane, reference=reference).encode(), source="a", channel="cli", actor="t"
    )
    # THEN it was not taken for a duplicate: stored once, every traveller vetted, published
    assert report.duplicates == 0 and report.passengers == 6 and calls["n"] == 2
    with state.database.sessions() as session:
        stored = session.scalars(
            select(VettingInterchangeRow).where(
                VettingInterchangeRow.control_reference == reference
            )
        ).all()
        assert len(stored) == 1 and stored[0].id == report.interchange_id
        (flight_id,) = report.flights
        travellers = session.scalars(
            select(VettingTravellerRow).where(VettingTravellerRow.flight_id == flight_id)
        ).all()
        assert len(travellers) == 6 and all(t.vetted_at is not None for t in travellers)


def test_two_messages_for_one_new_flight_arriving_together_are_both_stored(server_setup) -> None:  # type: ignore[no-untyped-def]
    # GIVEN two interchanges for the same flight, not yet known, posted at the same moment
    # by two gateways (threads released together)
    import threading

    state = server_setup.state
    service = service_of(state)
    plane = flight(22, 5, number="661")
    texts = [paxlst(plane, reference=_ref()).encode() for _ in range(2)]
    start = threading.Barrier(2)
    reports: list = []  # type: ignore[type-arg]

    def post(text: bytes) -> None:
        start.wait()
        reports.append(service.ingest(text, source="g", channel="endpoint", actor="gw"))

    threads = [threading.Thread(target=post, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN neither was taken for a duplicate of the other and both are stored; the flight
    # exists once, with its five travellers (the later original replaced the earlier one)
    assert sorted(r.duplicates for r in reports) == [0, 0]
    assert len({r.interchange_id for r in reports}) == 2
    (flight_id,) = {f for r in reports for f in r.flights}
    with state.database.sessions() as session:
        count = session.scalar(
            select(func.count()).where(VettingTravellerRow.flight_id == flight_id)
        )
        assert count == 5


def test_a_whole_manifest_vetted_as_it_is_stored_equals_one_stored_then_vetted(
    server_setup, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import server.vetting.service as service_module

    stored_then_vetted: list[int] = []
    general = service_module.store_travellers

    def store_travellers(session, flight, *args):  # type: ignore[no-untyped-def]
        stored_then_vetted.append(flight.id)
        return general(session, flight, *args)

    monkeypatch.setattr(service_module, "store_travellers", store_travellers)
    state = server_setup.state
    service = service_of(state)
    plane = flight(23, 12)
    a, b, c = plane.travellers[:3]
    # GIVEN a listed traveller, a stolen document, a rule on bookings, and the booking of C
    # (cash, late) arriving before the API message (linked by its document)
    upload(state, ListName.WATCHLIST, [watch(a, f"WL-{_ref()}", category="regional")])
    upload(state, ListName.LOST_STOLEN, [stolen(b)])
    with state.database.session() as session:
        payment_rule(session, "Cash booked late")
    party = tuple(t for t in plane.travellers if t.reservation == c.reservation)
    booked = plane.departure - dt.timedelta(hours=5)
    booking = GeneratedBooking(c.reservation, party, booked, booked, payment="CA", one_way=True)
    service.ingest(
        pnrgov(plane, [booking], reference=_ref()).encode(), source="p", channel="cli", actor="t"
    )

    def outcome() -> dict:  # type: ignore[type-arg]
        with state.database.sessions() as session:
            travellers = session.scalars(
                select(VettingTravellerRow)
                .where(VettingTravellerRow.flight_id.in_(report.flights))
                .order_by(VettingTravellerRow.id)
            ).all()
            out = {}
            for t in travellers:
                found = session.scalars(
                    select(VettingHitRow).where(VettingHitRow.traveller_id == t.id)
                ).all()
                out[t.doc_number] = (
                    t.status, t.pnr_id, t.iapi, dict(t.list_versions), t.surname, t.birth_date,
                    sorted((h.kind, h.source, h.reference, h.score, tuple(h.fields), h.detail,
                            h.status) for h in found),
                )  # fmt: skip
            return out

    # WHEN the manifest arrives (vetted as it is stored), asking for an iAPI answer
    report = service.ingest(
        paxlst(plane, reference=_ref(), iapi=True).encode(), source="t", channel="cli", actor="t"
    )
    assert len(report.flights) == 1 and report.response
    assert stored_then_vetted == []  # the whole manifest was not written twice
    first = outcome()
    # THEN it was vetted: the hits and statuses are there, the booking linked
    assert first[a.document_number][0] == "refer" and first[b.document_number][0] == "refer"
    assert first[c.document_number][1] is not None
    assert {v[2] for v in first.values()} <= {"board", "no_board", "contact"}
    assert len(first) == len(plane.travellers)
    # WHEN the same flight is vetted again from what is stored (the general path)
    with state.database.session() as session:
        service.revet(session, sorted(report.flights), "analyst")
    # THEN every traveller has the same status, booking and hits as before
    again = outcome()
    assert {k: (v[0], v[1], v[4], v[5], v[6]) for k, v in again.items()} == {
        k: (v[0], v[1], v[4], v[5], v[6]) for k, v in first.items()
    }
