"""Equity in operation: mismatch referral rates by nationality and sex per site and month,
from what kiosks sync, with the officers' outcomes and the flag rule; the page in Chromium."""

from __future__ import annotations

import dataclasses
import os
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from kiosk.storage.recorder import record_transaction
from kiosk.sync.client import ServerClient
from kiosk.sync.service import SyncService
from models.records import Decision, ReasonCode
from models.server_tables import DeviceRow, ReceivedDecisionRow
from server.accounts import add_user
from server.api.schemas import DecisionIn, DocumentIn, ReferralSubjectIn
from server.app import build_state, create_app
from server.config import ServerConfig
from server.equity import equity_report, wilson_interval
from server.equity_simulation import simulate_month
from server.ingest import store_decisions
from server.security.tokens import Role
from server.state import ServerState
from tests.server.referral_photos import send_referral_photos

NOVEMBER = datetime(2026, 11, 1, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


@pytest.fixture
def sqlite_state(tmp_path: Path) -> Iterator[ServerState]:
    state = build_state(ServerConfig(data_dir=tmp_path / "server", port=0))
    try:
        yield state
    finally:
        state.close()


def test_wilson_interval() -> None:
    low, high = wilson_interval(5, 10, 1.959964)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    assert wilson_interval(0, 10, 1.96)[0] == 0.0
    assert wilson_interval(0, 0, 1.96) == (0.0, 1.0)


def _decision(index: int, site: str, nationality: str, sex: str, mismatch: bool) -> DecisionIn:
    decided = NOVEMBER + timedelta(hours=index % 600)
    return DecisionIn(
        transaction_id=f"t-{site}-{index:06d}",
        kiosk_id=f"{site.lower()}-gate",
        site=site,
        started_at=decided - timedelta(seconds=5),
        decided_at=decided,
        decision=Decision.REFER if mismatch else Decision.ACCEPT,
        reasons=[ReasonCode.BIOMETRIC_MISMATCH] if mismatch else [],
        document=DocumentIn(doc_type="P", issuer=nationality, nationality=nationality, sex=sex),  # type: ignore[arg-type]
        referral=ReferralSubjectIn() if mismatch else None,
    )


def test_the_flag_needs_a_rate_above_1_5x_and_enough_travellers(
    sqlite_state: ServerState,
) -> None:
    # GIVEN a site with 1,000 travellers at 2 %, a group of 200 at 10 % and one of 3 with
    # one referral (33 %, far above 1.5x but three travellers tell nothing)
    items = [_decision(i, "KIN", "JAM", "M", i % 50 == 0) for i in range(1000)]
    items += [_decision(1000 + i, "KIN", "HTI", "F", i % 10 == 0) for i in range(200)]
    items += [_decision(1200 + i, "KIN", "VCT", "M", i == 0) for i in range(3)]
    with sqlite_state.database.session() as session:
        assert len(store_decisions(session, items)) == 1203
        report = equity_report(session, "2026-11", "2026-11")
    # THEN only the large group with the excess is flagged
    (block,) = report["sites"]
    assert (block["site"], block["month"], block["travellers"]) == ("KIN", "2026-11", 1203)
    assert block["mismatch_referrals"] == 20 + 20 + 1
    nationality = {g["value"]: g for g in block["by"]["nationality"]}
    assert nationality["HTI"]["flagged"] and nationality["HTI"]["rate"] == pytest.approx(0.1)
    assert not nationality["VCT"]["flagged"] and nationality["VCT"]["ratio_to_overall"] > 1.5
    assert not nationality["JAM"]["flagged"]
    sex = {g["value"]: g for g in block["by"]["sex"]}
    assert sex["F"]["travellers"] == 200 and sex["F"]["flagged"]  # the same 200 travellers
    # every referral is still open: no officer outcome yet
    assert block["outcomes"] == {"open": 41} and block["admitted_same_person"] == 0


def test_simulated_traffic_flags_the_group_it_was_built_with(sqlite_state: ServerState) -> None:
    with sqlite_state.database.session() as session:
        stored = simulate_month(session, NOVEMBER, travellers_per_kiosk=4000)
        report = equity_report(session, "2026-11", "2026-11")
    assert stored == 12_000
    flagged = [
        (block["site"], dimension, group["value"])
        for block in report["sites"]
        for dimension, groups in block["by"].items()
        for group in groups
        if group["flagged"]
    ]
    assert flagged == [("KIN", "nationality", "HTI")]
    kin = next(b for b in report["sites"] if b["site"] == "KIN")
    assert sum(g["travellers"] for g in kin["by"]["nationality"]) == kin["travellers"] == 8000
    # the officers admitted most referred travellers as the same person
    assert kin["admitted_same_person"] > kin["mismatch_referrals"] / 2
    assert report["rule"].startswith("flagged when the rate exceeds 1.5x")


def _chromium_or_fail() -> str:
    from server.equity_screenshot import chromium_binary

    try:
        return chromium_binary()
    except RuntimeError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))


def test_the_page_in_headless_chromium(sqlite_state: ServerState, tmp_path: Path) -> None:
    # GIVEN a month of simulated traffic and a supervisor
    _chromium_or_fail()
    from server.equity_screenshot import chromium

    with sqlite_state.database.session() as session:
        simulate_month(session, NOVEMBER, travellers_per_kiosk=4000)
    add_user(sqlite_state.database, "sup", Role.SUPERVISOR, "correct horse battery staple")
    add_user(sqlite_state.database, "off", Role.OFFICER, "correct horse battery staple")
    app = create_app(sqlite_state.config, state=sqlite_state)
    with TestClient(app, base_url="https://testserver") as client:

        def login(name: str) -> dict[str, str]:
            token = client.post(
                "/v1/auth/token",
                json={"username": name, "password": "correct horse battery staple"},
            ).json()["access_token"]
            return {"Authorization": f"Bearer {token}"}

        # WHEN the supervisor opens the report; an officer and bad months are refused
        page = client.get(
            "/v1/equity/report?from_month=2026-11&to_month=2026-11", headers=login("sup")
        )
        assert client.get("/v1/equity", headers=login("off")).status_code == 403
        assert client.get("/v1/equity").status_code == 401
        bad = client.get("/v1/equity?from_month=2026-13", headers=login("sup"))
        reversed_period = client.get(
            "/v1/equity?from_month=2026-11&to_month=2026-01", headers=login("sup")
        )
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert bad.status_code == 422 and reversed_period.status_code == 400
    file = tmp_path / "equity.html"
    file.write_text(page.text, encoding="utf-8")
    # THEN Chromium renders it with the flagged group marked
    dom = chromium(["--dump-dom", file.as_uri()]).stdout
    assert "Site KIN, 2026-11" in dom and "Site BGI, 2026-11" in dom
    flagged_row = dom.split('class="flagged"')[1].split("</tr>")[0]
    assert "nationality HTI" in flagged_row and "FLAGGED" in flagged_row


@pytest.mark.postgres
def test_counts_come_from_what_kiosks_sync(
    server_setup: Any,
    running_server: Any,
    kiosk_database: Any,
    decided: Any,
    kiosk_config_factory: Any,
    tmp_path: Path,
) -> None:
    # GIVEN a kiosk enrolled for site KIN that says it is elsewhere, and six travellers: three
    # referred for a face mismatch (women of UTO), three accepted (men)
    with server_setup.state.database.session() as session:
        session.execute(
            update(DeviceRow).where(DeviceRow.name == server_setup.device).values(site="KIN")
        )
    for index in range(6):
        record = decided(index * 3 if index < 3 else index * 3 + 1, server_setup.device)
        sex = "F" if record.decision is Decision.REFER else "M"
        record = dataclasses.replace(record, document=dataclasses.replace(record.document, sex=sex))
        record_transaction(kiosk_database, record, site="ELSEWHERE")
    config = kiosk_config_factory(server_setup, tmp_path / "k", running_server.url)
    verify = ssl.create_default_context(cafile=str(server_setup.credentials / "ca.pem"))
    with httpx.Client(base_url=running_server.url, verify=verify) as people:
        with ServerClient(config.sync) as client:
            assert SyncService(config, kiosk_database, client).run_once().ok

        def login(role: Role) -> dict[str, str]:
            token = people.post(
                "/v1/auth/token",
                json={
                    "username": server_setup.user(role),
                    "password": "correct horse battery staple",
                },
            ).json()["access_token"]
            return {"Authorization": f"Bearer {token}"}

        # WHEN an officer admits one referred traveller as the same person, having looked
        # at the photos the kiosk sent (the server refuses a mismatch admitted unseen)
        officer = login(Role.OFFICER)
        send_referral_photos(config, f"{server_setup.device}-000000")
        seen = people.get(f"/v1/referrals/{server_setup.device}-000000/photos", headers=officer)
        assert seen.status_code == 200, seen.text
        answer = people.post(
            f"/v1/referrals/{server_setup.device}-000000/resolution",
            json={"outcome": "admitted", "note": "same person, photo is old"},
            headers=officer,
        )
        assert answer.status_code == 200, answer.text
        month = datetime.now(UTC).strftime("%Y-%m")
        report = people.get(
            f"/v1/equity?from_month={month}&to_month={month}", headers=login(Role.SUPERVISOR)
        ).json()
    # THEN the server counts them under the site it enrolled the kiosk for
    (block,) = [b for b in report["sites"] if b["site"] == "KIN"]
    assert block["travellers"] == 6 and block["mismatch_referrals"] == 3
    assert block["admitted_same_person"] == 1 and block["outcomes"] == {"admitted": 1, "open": 2}
    sex = {g["value"]: g for g in block["by"]["sex"]}
    assert sex["F"]["mismatch_referrals"] == 3 and sex["M"]["mismatch_referrals"] == 0
    assert {g["value"] for g in block["by"]["nationality"]} == {"UTO"}
    with server_setup.state.database.sessions() as session:
        row = session.get(
            ReceivedDecisionRow, (server_setup.device, f"{server_setup.device}-000000")
        )
        assert row is not None and (row.site, row.sex, row.face_mismatch) == ("KIN", "F", True)
