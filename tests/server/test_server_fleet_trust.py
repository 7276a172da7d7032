"""The fleet view shows each kiosk's trust coverage: the kiosk's heartbeat carries, per state
of its policy, the CSCAs it holds, the earliest CRL next update and the status ``kiosk trust
coverage`` computes; the server keeps the latest and the technicians' ``/v1/devices`` and the
fleet page flag the states whose chipped passports the kiosk would refer (real uvicorn over
mutual TLS, real PostgreSQL, Debian's headless Chromium). Screenshots go to
$FLEET_SCREENSHOT_DIR (docs/screenshots when making them) or tmp."""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select

from kiosk.storage.database import Database, create_database_engine
from kiosk.sync.client import ServerClient
from kiosk.sync.service import SyncService
from kiosk.trust.coverage import HeartbeatCoverage, state_coverage
from kiosk.trust.importer import import_files
from kiosk.trust.store import TrustStore
from models.server_tables import HeartbeatRow
from models.tables.trust import TrustCrlRow
from server.fleet import coverage_out
from server.security.tokens import Role
from tests.server.browser import CHROMIUM, Browser
from tests.server.conftest import PASSWORD

SIM_STATES = {"GUY", "JAM", "LCA", "TTO"}  # the simulator's test PKI: a CSCA and CRL each


def _technician(setup: Any, url: str) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(setup.credentials / "ca.pem"))
    client = httpx.Client(base_url=url, verify=context)
    name = setup.user(Role.TECHNICIAN)
    token = client.post("/v1/auth/token", json={"username": name, "password": PASSWORD})
    assert token.status_code == 200, token.text
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is installed by packaging/bootstrap.sh")
        pytest.skip("chromium is installed by packaging/bootstrap.sh")
    chromium = Browser(tmp_path / "chromium-profile", width=1200, height=900)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.mark.postgres
def test_the_fleet_view_flags_the_states_a_kiosk_would_refer(
    server_setup: Any,
    running_server: Any,
    kiosk_database: Database,
    kiosk_config_factory: Any,
    passports: Any,
    browser: Browser,
    tmp_path: Path,
) -> None:
    # GIVEN a kiosk whose trust store holds the test PKI (GUY, JAM, LCA, TTO) but not Jamaica's
    # CRL, and nothing of the other states of its CARICOM policy
    pki = passports.pki
    summary = import_files(
        [*pki.trust_anchor_paths(), *pki.crl_paths()], TrustStore(kiosk_database)
    )
    assert not summary.rejected
    with kiosk_database.write() as session:
        assert session.execute(delete(TrustCrlRow).where(TrustCrlRow.country == "JM")).rowcount
    config = kiosk_config_factory(server_setup, tmp_path / "kiosk", running_server.url)
    codes = list(config.policy.eligible_issuers)
    expected = {s.code: s for s in state_coverage(TrustStore(kiosk_database), codes)}
    assert expected["JAM"].status == "no_crl" and expected["LCA"].status == "ok"
    # WHEN the kiosk's sync sends its heartbeat to the real server
    with ServerClient(config.sync) as client:
        assert SyncService(config, kiosk_database, client).run_once().ok
    # THEN the server keeps the coverage as `kiosk trust coverage` computes it
    with server_setup.state.database.sessions() as session:
        row = session.get(HeartbeatRow, server_setup.device)
        assert row is not None and row.trust_reported_at is not None
        stored = {s["code"]: s for s in row.trust_coverage["states"]}
    assert set(stored) == set(codes)
    for code, state in expected.items():
        assert stored[code]["status"] == state.status
        assert stored[code]["cscas"] == len(state.cscas)
    # AND the technicians' fleet API flags every state this kiosk would refer, and only those
    technician = _technician(server_setup, running_server.url)
    try:
        device = technician.get(f"/v1/devices/{server_setup.device}").json()
        page = technician.get("/v1/devices/fleet/report")
        token = technician.headers["Authorization"]
    finally:
        technician.close()
    referring = {code for code, s in expected.items() if s.status != "ok"}
    assert set(device["trust_refers"]) == referring
    assert "JAM" in referring and not (SIM_STATES - {"JAM"}) & referring
    assert {"GRD", "HTI"} <= referring  # no CSCA collected: referred
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    # AND the fleet page shows it in Chromium: the kiosk flagged, its referring states marked
    browser.call("Network.setExtraHTTPHeaders", session=True, headers={"Authorization": token})
    browser.call("Network.enable", session=True)
    browser.navigate(f"{running_server.url}/v1/devices/fleet/report")
    browser.wait_for("document.querySelector('h1') !== null")
    kiosk = f"document.getElementById('kiosk-{server_setup.device}')"  # other tests' kiosks too
    flagged = browser.evaluate(
        f"[...{kiosk}.querySelectorAll('tr.refers td:first-child')].map(td => td.textContent)"
    )
    assert set(flagged) == referring
    assert browser.evaluate(f"{kiosk}.textContent.includes('REFERS chipped passports of')")
    shots = Path(os.environ.get("FLEET_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    browser.screenshot(shots / "server-fleet-trust.png")
    # AND a later heartbeat without coverage keeps the coverage the kiosk reported
    with ServerClient(config.sync) as client:
        SyncService(config, kiosk_database, client, trust=_no_coverage).run_once()
    with server_setup.state.database.sessions() as session:
        kept = session.scalars(
            select(HeartbeatRow.trust_coverage).where(
                HeartbeatRow.device_name == server_setup.device
            )
        ).one()
    assert kept is not None and {s["code"] for s in kept["states"]} == set(codes)


def _no_coverage() -> dict[str, Any]:
    raise OSError("trust store unreadable")  # the heartbeat goes without its coverage


@pytest.fixture
def trust_database(tmp_path: Path) -> Iterator[Database]:
    database = Database(create_database_engine(f"sqlite:///{tmp_path / 'trust.db'}"))
    database.migrate()
    yield database
    database.close()


def test_the_heartbeat_coverage_is_computed_again_only_when_the_store_changes(
    trust_database: Database, passports: Any
) -> None:
    # GIVEN the heartbeat's coverage of an empty store
    clock = [0.0]
    coverage = HeartbeatCoverage(trust_database, ["LCA", "UNO"], monotonic=lambda: clock[0])
    first = coverage()
    assert [s["status"] for s in first["states"]] == ["no_csca", "not_a_state"]
    # WHEN nothing changed THEN the last figures are sent again, not computed again
    assert coverage() == first and coverage.computed == 1
    # WHEN the CSCAs and CRLs are imported THEN it is computed again at once
    pki = passports.pki
    import_files([*pki.trust_anchor_paths(), *pki.crl_paths()], TrustStore(trust_database))
    lca = coverage()["states"][0]
    assert coverage.computed == 2 and lca["status"] == "ok" and lca["cscas"] >= 1
    # AND after refresh_s even an unchanged store is computed again (CRLs go stale with time)
    clock[0] += coverage.refresh_s
    coverage()
    assert coverage.computed == 3


def test_the_server_judges_a_reported_crl_by_the_time_it_is_viewed() -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    stored = {
        "states": [
            {"code": "LCA", "cscas": 2, "status": "ok",
             "crl_next_update": (now - timedelta(hours=1)).isoformat()},
            {"code": "TTO", "cscas": 1, "status": "ok",
             "crl_next_update": (now + timedelta(hours=20)).isoformat()},
            {"code": "GUY", "cscas": 1, "status": "ok",
             "crl_next_update": (now + timedelta(days=20)).isoformat()},
            {"code": "GRD", "cscas": 0, "status": "no_csca", "crl_next_update": None},
        ]
    }  # fmt: skip
    states = {s.code: s for s in coverage_out(stored, now)}
    # a CRL that was fresh when reported and has since passed its next update refers now
    assert (states["LCA"].status, states["LCA"].refers) == ("crl_stale", True)
    # a CRL due within the warning window is flagged before it refers anyone
    assert (states["TTO"].refers, states["TTO"].crl_due) == (False, True)
    assert (states["GUY"].refers, states["GUY"].crl_due) == (False, False)
    assert states["GRD"].refers
    assert coverage_out(None, now) == [] and coverage_out({"states": "x"}, now) == []


@pytest.mark.postgres
def test_migration_s1301_gives_the_heartbeat_table_of_the_models(server_setup: Any) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from models.server_tables import ServerBase

    with server_setup.state.database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = [
            d
            for d in compare_metadata(context, ServerBase.metadata)
            if "server_heartbeats" in repr(d)
        ]
    assert differences == []
