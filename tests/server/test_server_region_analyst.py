"""The analyst page in a region: two ``kiosk server run`` processes behind HAProxy (TCP
mode, TLS passed through) on one PostgreSQL, the page in Debian's headless Chromium.

A watchlist entry uploaded through one process and an airline's manifest posted through
the other are vetted together; the page served by each process, and through the balancer,
shows the flight's hit; the analyst's confirmation made on one process is seen on the
other and through the balancer; and the port's kiosk, syncing through the balancer, gets
the traveller as "no board" in a manifest version that verifies with the list-signing key
it pins (both processes sign with the region's one key)."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kiosk.sync.client import ServerClient
from kiosk.sync.service import SyncService
from models.tables.screening import ManifestEntryRow
from server.security.tokens import Role
from server.vetting.generator import paxlst
from tests.server.browser import NEEDS_CHROMIUM, Browser
from tests.server.conftest import PASSWORD
from tests.server.vetting_helpers import flight, watch

pytestmark = [pytest.mark.postgres, NEEDS_CHROMIUM]


def _client(base: str, ca: Path, setup: Any, role: Role) -> tuple[httpx.Client, str]:
    """A person's client of ``base`` (one process, or the balancer), signed in; the name."""
    client = httpx.Client(base_url=base, verify=ssl.create_default_context(cafile=str(ca)))
    name = setup.user(role)
    answer = client.post("/v1/auth/token", json={"username": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return client, name


def _sign_in(browser: Browser, base: str, name: str) -> None:
    """The analyst signs in on the page served at ``base`` (each origin keeps its token)."""
    browser.navigate(f"{base}/analyst/")
    browser.wait_for("['login', '#/flights'].includes(document.body.dataset.ready)")
    if browser.evaluate("document.body.dataset.ready") == "login":
        browser.evaluate(
            f"document.getElementById('username').value = {name!r};"
            f"document.getElementById('password').value = {PASSWORD!r};"
            "document.getElementById('login-form').requestSubmit(); true"
        )
        browser.wait_for("document.body.dataset.ready === '#/flights'")


def _traveller_page(browser: Browser, base: str, traveller_id: str) -> str:
    browser.navigate(f"{base}/analyst/#/traveller/{traveller_id}")
    browser.wait_for(f"document.body.dataset.ready === '#/traveller/{traveller_id}'")
    return str(browser.evaluate("document.getElementById('traveller-title').innerText"))


def test_the_analyst_page_works_across_two_processes_behind_haproxy(
    server_setup, region, kiosk_database, kiosk_config_factory, browser: Browser, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ca = server_setup.credentials / "ca.pem"
    first, second = (f"https://127.0.0.1:{server.port}" for server in region.servers)
    balanced = region.balancer.url
    plane = flight(41, 6, number="830")
    suspect = plane.travellers[0]
    # GIVEN a watchlist entry for one traveller uploaded by an administrator via process 2
    admin, _ = _client(second, ca, server_setup, Role.ADMINISTRATOR)
    gateway, _ = _client(first, ca, server_setup, Role.GATEWAY)
    try:
        entry = watch(suspect, f"WL-R-{suspect.document_number}")
        answer = admin.post("/v1/admin/lists/watchlist", json={"changes": [entry]})
        assert answer.status_code == 200, answer.text
        # WHEN the airline's manifest is posted via process 1
        posted = gateway.post(
            "/v1/vetting/messages",
            params={"source": "region.edi"},
            content=paxlst(plane, reference=f"REG{suspect.document_number}").encode(),
        )
        assert posted.status_code == 200, posted.text
    finally:
        admin.close()
        gateway.close()
    # THEN the page served by process 2 lists the flight and the traveller with the hit
    name = server_setup.user(Role.ANALYST)
    _sign_in(browser, second, name)
    browser.evaluate("document.getElementById('port').value = 'POS';"
                     "document.getElementById('flight-filter').requestSubmit(); true")  # fmt: skip
    flight_id = browser.wait_for(
        "[...document.querySelectorAll('#flight-table tbody tr')]"
        ".find(r => r.innerText.includes('BW830'))?.dataset.flight"
    )
    browser.navigate(f"{second}/analyst/#/flight/{flight_id}")
    browser.wait_for(f"document.body.dataset.ready === '#/flight/{flight_id}'")
    find = (
        "[...document.querySelectorAll('#traveller-table tbody tr')]"
        f".find(r => r.innerText.includes({suspect.document_number!r}))"
    )
    assert "refer" in browser.evaluate(f"{find}.innerText")
    traveller_id = str(browser.evaluate(f"{find}.dataset.traveller"))
    # WHEN the analyst confirms the watchlist hit on the page served by process 1
    _sign_in(browser, first, name)
    assert "no board" not in _traveller_page(browser, first, traveller_id)
    hit_row = (
        "[...document.querySelectorAll('#hit-table tbody tr')]"
        ".find(r => r.textContent.includes('watchlist'))"
    )
    try:
        browser.wait_for(f"Boolean({hit_row})")
    except Exception as exc:  # say what the page showed
        shown = browser.evaluate("document.getElementById('hit-table').textContent")
        raise AssertionError(f"no watchlist hit on the page: {shown!r}") from exc
    browser.evaluate(
        f"const row = {hit_row};"
        "row.querySelector('input.note').value = 'identity confirmed with the carrier';"
        "row.querySelector('[data-action=confirm]').click(); true"
    )
    browser.wait_for("document.getElementById('traveller-title').innerText.includes('no board')")
    # THEN the page served by process 2, and the page through the balancer, show it
    assert "no board" in _traveller_page(browser, second, traveller_id)
    _sign_in(browser, balanced, name)
    for _ in range(3):  # fresh page loads: HAProxy balances each new connection
        assert "no board" in _traveller_page(browser, balanced, traveller_id)
        browser.navigate("about:blank")
    # AND the port's kiosk, syncing through the balancer, holds the traveller as no board,
    # from a manifest version that verified with the region's list-signing key
    config = kiosk_config_factory(server_setup, tmp_path / "k", balanced, port="POS")
    with ServerClient(config.sync) as client:
        report = SyncService(config, kiosk_database, client).run_once()
    assert report.ok, report.error
    with kiosk_database.read() as session:
        vetting = session.scalar(
            select(ManifestEntryRow.vetting).where(
                ManifestEntryRow.document_number == suspect.document_number
            )
        )
    assert vetting == "no_board"
