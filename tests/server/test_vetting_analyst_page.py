"""The analyst page in Debian's headless Chromium against the real server: sign in, the
flights of a port with their hit counts, a flight's travellers, a traveller's API and PNR
detail with the linked booking, confirming a hit, and the rules editor with hit counts.
Screenshots go to $VETTING_SCREENSHOT_DIR (docs/screenshots when making them) or tmp."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from models.server_tables import ServerAuditEventRow
from models.vetting_tables import VettingHitRow, VettingTravellerRow
from server.api.schemas import ListName
from server.security.tokens import Role
from server.vetting import analyst
from server.vetting.generator import GeneratedBooking, paxlst, pnrgov
from server.vetting.rules import Condition, RuleIn
from tests.server.browser import NEEDS_CHROMIUM, Browser
from tests.server.conftest import PASSWORD
from tests.server.vetting_helpers import flight, service_of, upload, watch

pytestmark = [pytest.mark.postgres, NEEDS_CHROMIUM]


def test_the_analyst_page_shows_flights_hits_bookings_and_rules(
    server_setup, running_server, browser: Browser, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    state = server_setup.state
    shots = Path(os.environ.get("VETTING_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    # GIVEN a flight to Piarco with a watchlisted passenger whose booking is known
    plane = flight(31, 9, number="800")
    # a name carrying markup must show as text, never run (the page builds text nodes)
    marked = replace(plane.travellers[5], given_names="<IMG SRC=X ONERROR=ALERT(1)>")
    plane = replace(plane, travellers=(*plane.travellers[:5], marked, *plane.travellers[6:]))
    suspect = plane.travellers[0]
    upload(state, ListName.WATCHLIST, [watch(suspect, "WL-PAGE-1", category="regional")])
    with state.database.session() as session:
        analyst.save_rule(
            session,
            RuleIn(
                name="Cash, booked late",
                reason="courier pattern seen this quarter",
                conditions=[
                    Condition(fact="payment", op="in", value=["CA"]),
                    Condition(fact="booking_to_departure_hours", op="lt", value=48),
                ],
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=60),
            ),
            "analyst-lead",
        )
    service = service_of(state)
    party = tuple(t for t in plane.travellers if t.reservation == suspect.reservation)
    booked = plane.departure - dt.timedelta(hours=20)
    booking = GeneratedBooking(
        suspect.reservation, party, booked, booked, payment="CA", one_way=True
    )
    service.ingest(
        paxlst(plane, reference=f"PAGE{suspect.document_number}").encode(),
        source="p",
        channel="cli",
        actor="t",
    )
    service.ingest(
        pnrgov(plane, [booking], reference=f"PNR{suspect.document_number}").encode(),
        source="n",
        channel="cli",
        actor="t",
    )
    name = server_setup.user(Role.ANALYST)
    base = running_server.url
    # WHEN the analyst signs in
    browser.navigate(f"{base}/analyst/")
    browser.wait_for("document.body.dataset.ready === 'login'")  # the page's handlers are set
    browser.evaluate(
        f"document.getElementById('username').value = {name!r};"
        f"document.getElementById('password').value = {PASSWORD!r};"
        "document.getElementById('login-form').requestSubmit(); true"
    )
    browser.wait_for("document.body.dataset.ready === '#/flights'")
    browser.evaluate("document.getElementById('port').value = 'POS';"
                     "document.getElementById('flight-filter').requestSubmit(); true")  # fmt: skip
    row = browser.wait_for(
        "[...document.querySelectorAll('#flight-table tbody tr')].map(r => r.innerText)"
        ".find(t => t.includes('BW800'))"
    )
    # THEN the flights show their counts of referrals and open hits
    assert "POS" in row and "9" in row
    browser.screenshot(shots / "analyst-flights.png")
    flight_id = browser.evaluate(
        "[...document.querySelectorAll('#flight-table tbody tr')]"
        ".find(r => r.innerText.includes('BW800')).dataset.flight"
    )
    browser.navigate(f"{base}/analyst/#/flight/{flight_id}")
    browser.wait_for(f"document.body.dataset.ready === '#/flight/{flight_id}'")
    find = (
        "[...document.querySelectorAll('#traveller-table tbody tr')]"
        f".find(r => r.innerText.includes({suspect.document_number!r}))"
    )
    assert browser.evaluate("document.querySelectorAll('#traveller-table img').length") == 0
    assert "<IMG SRC=X" in browser.evaluate("document.getElementById('traveller-table').innerText")
    listed = browser.evaluate(f"{find}.innerText")
    assert suspect.surname in listed and "refer" in listed
    browser.screenshot(shots / "analyst-flight-passengers.png")
    traveller_id = browser.evaluate(f"{find}.dataset.traveller")
    browser.navigate(f"{base}/analyst/#/traveller/{traveller_id}")
    browser.wait_for(f"document.body.dataset.ready === '#/traveller/{traveller_id}'")
    page = browser.evaluate("document.getElementById('traveller').innerText")
    assert "regional watchlist" in page and suspect.reservation in page and "CA" in page
    assert "Cash, booked late" in page  # the rule hit beside the list hit
    assert "phone:***" in page and "555 0199" not in page  # contacts only masked
    browser.screenshot(shots / "analyst-passenger-detail.png")
    # AND confirming the watchlist hit makes the traveller no-board (audited on the server)
    browser.evaluate(
        "const row = [...document.querySelectorAll('#hit-table tbody tr')]"
        ".find(r => r.innerText.includes('watchlist'));"
        "row.querySelector('input.note').value = 'identity confirmed with the carrier';"
        "row.querySelector('[data-action=confirm]').click(); true"
    )
    browser.wait_for("document.getElementById('traveller-title').innerText.includes('no board')")
    with state.database.sessions() as session:
        hit = session.scalars(
            select(VettingHitRow).where(
                VettingHitRow.traveller_id == int(traveller_id), VettingHitRow.kind == "watchlist"
            )
        ).one()
        assert hit.status == "confirmed" and hit.decided_by == name
    browser.screenshot(shots / "analyst-hit-confirmed.png")
    # AND the rules editor lists the rule with its hit count and saves a new one
    browser.navigate(f"{base}/analyst/#/rules")
    browser.wait_for("document.body.dataset.ready === '#/rules'")
    rules = browser.evaluate("document.getElementById('rule-table').innerText")
    assert "Cash, booked late" in rules
    browser.evaluate(
        "document.getElementById('rule-name').value = 'Route through a transit hub';"
        "document.getElementById('rule-reason').value = 'regional alert 12/2026';"
        "document.getElementById('rule-expires').value = '2031-01-01';"
        "const c = document.querySelector('#conditions .condition');"
        "c.querySelector('.fact').value = 'route'; c.querySelector('.op').value = 'contains';"
        "c.querySelector('.value').value = 'CCS-';"
        "document.getElementById('rule-form').requestSubmit(); true"
    )
    browser.wait_for(
        "document.getElementById('rule-table').innerText.includes('Route through a transit hub')"
    )
    browser.screenshot(shots / "analyst-rules.png")
    # AND unreadable input is listed with where reading stopped and why
    service.ingest(b"UNB+UNOA:4+X+Y+1+Q1'UNH+1+PAXLST:D:05B'BGM+745'NAD+FL", source="late.edi",
                   channel="folder", actor="drop-folder")  # fmt: skip
    browser.navigate(f"{base}/analyst/#/quarantine")
    browser.wait_for("document.body.dataset.ready === '#/quarantine'")
    listed = browser.evaluate("document.getElementById('quarantine-table').innerText")
    assert "late.edi" in listed and "no terminator" in listed
    browser.screenshot(shots / "analyst-quarantine.png")


def test_national_lists_are_viewed_uploaded_and_removed_on_the_page(
    server_setup, running_server, browser: Browser, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    state = server_setup.state
    shots = Path(os.environ.get("VETTING_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    # GIVEN an open flight to Georgetown whose traveller no list names yet
    plane = flight(32, 3, number="810", stops=("MIA", "GEO"), party_size=1)
    suspect = plane.travellers[0]
    service = service_of(state)
    service.ingest(paxlst(plane, reference=f"NAT{suspect.document_number}").encode(),
                   source="n", channel="cli", actor="t")  # fmt: skip
    with state.database.sessions() as session:
        row = session.scalars(
            select(VettingTravellerRow).where(
                VettingTravellerRow.doc_number == suspect.document_number
            )
        ).one()
        assert row.status == "cleared"
    name = server_setup.user(Role.ANALYST)
    base = running_server.url
    browser.navigate(f"{base}/analyst/")
    browser.wait_for("document.body.dataset.ready === 'login'")
    browser.evaluate(
        f"document.getElementById('username').value = {name!r};"
        f"document.getElementById('password').value = {PASSWORD!r};"
        "document.getElementById('login-form').requestSubmit(); true"
    )
    browser.wait_for("document.body.dataset.ready === '#/flights'")
    # WHEN the analyst uploads Guyana's entries for that person (markup in a name) and a document
    browser.navigate(f"{base}/analyst/#/national")
    browser.wait_for("document.body.dataset.ready === '#/national'")
    person = (
        f"GUY-P-{suspect.document_number} | {suspect.surname} | {suspect.given_names} | "
        f"{suspect.birth_date.isoformat()} | {suspect.nationality}"
    )
    browser.evaluate(
        "document.getElementById('upload-state').value = 'guy';"
        "document.getElementById('upload-kind').value = 'person';"
        f"document.getElementById('upload-entries').value = {person!r};"
        "document.getElementById('national-form').requestSubmit(); true"
    )
    browser.wait_for("document.body.dataset.ready === '#/national uploaded 1'")
    marked = "GUY-P-MARKUP | <IMG SRC=X ONERROR=ALERT(1)> | Test"
    browser.evaluate(
        f"document.getElementById('upload-entries').value = {marked!r};"
        "document.getElementById('national-form').requestSubmit(); true"
    )
    browser.wait_for("document.getElementById('national-table').innerText.includes('GUY-P-MARKUP')")
    browser.evaluate(
        "document.getElementById('upload-kind').value = 'document';"
        "document.getElementById('upload-entries').value = 'GUY:R1234567 | P';"
        "document.getElementById('national-form').requestSubmit(); true"
    )
    browser.wait_for("document.getElementById('national-table').innerText.includes('GUY:R1234567')")
    # THEN the list shows them as text, and the open flight was vetted again with them
    listed = browser.evaluate("document.getElementById('national-table').innerText")
    assert f"GUY-P-{suspect.document_number}" in listed and suspect.surname in listed
    assert "<IMG SRC=X" in listed
    assert browser.evaluate("document.querySelectorAll('#national-table img').length") == 0
    browser.screenshot(shots / "analyst-national-lists.png")
    with state.database.sessions() as session:
        row = session.get(VettingTravellerRow, row.id)
        assert row is not None and row.status == "refer"
    # WHEN the analyst removes the person's entry
    browser.evaluate(
        "window.confirm = () => true;"
        "[...document.querySelectorAll('#national-table tbody tr')]"
        f".find(r => r.innerText.includes('GUY-P-{suspect.document_number}'))"
        ".querySelector('[data-action=delete]').click(); true"
    )
    browser.wait_for("document.body.dataset.ready.startsWith('#/national removed')")
    # THEN it is gone, the traveller is cleared again, and both changes are in the audit log
    listed = browser.evaluate("document.getElementById('national-table').innerText")
    assert f"GUY-P-{suspect.document_number}" not in listed and "GUY:R1234567" in listed
    with state.database.sessions() as session:
        row = session.get(VettingTravellerRow, row.id)
        assert row is not None and row.status == "cleared"
        actions = [
            (e.action, e.actor)
            for e in session.scalars(
                select(ServerAuditEventRow).where(ServerAuditEventRow.subject.like("GUY:%"))
            )
        ]
        assert ("vetting.national.upload", name) in actions
        assert ("vetting.national.delete", name) in actions
