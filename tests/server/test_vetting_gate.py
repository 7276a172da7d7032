"""The vetting reaches the gate: a gateway submits a PAXLST to the real server over TLS,
the kiosk of the arrival port pulls its vetted manifest through the existing sync, and a
passenger with a watchlist hit is referred at the gate with the vetting's reason for the
officer; kiosks of other ports get none of it. The drop folder is the other channel."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import httpx
import pytest

from kiosk.config import ScreeningConfig
from kiosk.officer.referrals import CheckLine, screening_hits
from kiosk.policy.config import PolicyConfig
from kiosk.policy.engine import DocumentFacts, PolicyEngine
from kiosk.screening.importers import ListKind
from kiosk.screening.manifest import VettingStatus
from kiosk.screening.screening import Screener, ScreeningLists, Traveller
from kiosk.screening.store import ScreeningStore
from kiosk.session.pipeline import vetting_check
from kiosk.storage.database import open_database
from kiosk.sync.client import ServerClient
from kiosk.sync.lists import pull_list
from models.records import CheckStatus, Decision, ReasonCode
from server.api.schemas import ListName
from server.security.tokens import Role
from server.vetting.dropfolder import DropFolder
from server.vetting.generator import paxlst
from tests.policy.test_policy_engine import genuine
from tests.server.vetting_helpers import flight, service_of, upload, watch

pytestmark = pytest.mark.postgres


def _traveller(t) -> Traveller:  # type: ignore[no-untyped-def]
    return Traveller(
        t.surname, t.given_names, t.birth_date, t.nationality, t.document_number, t.issuer,
        "P", t.expiry,
    )  # fmt: skip


def test_a_watchlisted_passenger_is_referred_at_the_gate_with_the_vetting_reason(
    server_setup, running_server, kiosk_config_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    state = server_setup.state
    to_pos = flight(21, 6, number="700")
    to_bgi = flight(22, 3, number="710", stops=("JFK", "BGI"))
    suspect = to_pos.travellers[2]
    upload(state, ListName.WATCHLIST, [watch(suspect, "WL-GATE-1", category="regional")])
    gateway = server_setup.user(Role.GATEWAY)
    verify = ssl.create_default_context(cafile=str(server_setup.credentials / "ca.pem"))
    # WHEN the airlines' gateway submits both flights' PAXLST (authenticated, over TLS)
    with httpx.Client(base_url=running_server.url, verify=verify) as people:
        token = people.post(
            "/v1/auth/token",
            json={"username": gateway, "password": "correct horse battery staple"},
        ).json()["access_token"]
        for plane, ref in ((to_pos, "GATE700"), (to_bgi, "GATE710")):
            answer = people.post(
                "/v1/vetting/messages",
                content=paxlst(plane, reference=f"{ref}{plane.travellers[0].document_number}"),
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 200, answer.text
        refused = people.post("/v1/vetting/messages", content=b"UNB+garbage")
        assert refused.status_code == 401
    # AND the kiosk of Piarco (POS) pulls its lists through the existing sync
    config = kiosk_config_factory(server_setup, tmp_path / "kiosk", running_server.url, port="POS")
    database = open_database(config)
    try:
        with ServerClient(config.sync) as client:
            assert pull_list(database, client, "manifest") >= 6
        store = ScreeningStore(database)
        manifest = store.load_manifest()
        info = store.info(ListKind.MANIFEST)
        assert info is not None
    finally:
        database.close()
    flights = {entry.flight for entry in manifest.entries}
    assert "BW700" in flights and "BW710" not in flights  # another port's flight stays away
    # a kiosk that names no port gets no vetted manifest at all
    portless = kiosk_config_factory(server_setup, tmp_path / "portless", running_server.url)
    other = open_database(portless)
    try:
        with ServerClient(portless.sync) as client:
            pull_list(other, client, "manifest")
        assert not any(
            e.flight in ("BW700", "BW710") for e in ScreeningStore(other).load_manifest().entries
        )
    finally:
        other.close()
    screener = Screener(ScreeningConfig(), ScreeningLists(manifest=manifest, manifest_info=info))
    # THEN the watchlisted passenger is expected but vetted and referred, with the reason
    now = dt.datetime.combine(to_pos.departure.date(), dt.time(16), dt.UTC)
    result = screener.screen(_traveller(suspect), now=now)
    assert result.manifest.match is not None
    assert result.manifest.match.vetting is VettingStatus.REFERRED
    assert any("regional watchlist" in r for r in result.manifest.match.vetting_reasons)
    check = vetting_check(result.manifest.match)
    assert check.status is CheckStatus.FAILED and "regional watchlist" in check.message
    # the officer's booth lists it among the screening hits, with the reason
    (hit,) = screening_hits((CheckLine("vetting", "failed", check.reason or "", check.message),))
    assert hit.source == "Pre-arrival vetting" and "regional watchlist" in hit.detail
    document = DocumentFacts(
        "P", suspect.issuer, suspect.nationality, suspect.birth_date, suspect.expiry
    )
    decision = PolicyEngine(PolicyConfig()).decide(
        genuine(
            document=document,
            vetting=result.manifest.match.vetting.value,
            vetting_reasons=result.manifest.match.vetting_reasons,
        )
    )
    assert decision.decision is Decision.REFER
    assert decision.reason_codes == [ReasonCode.VETTING_REFERRAL.value]
    # AND a fellow passenger is vetted and cleared; someone on another document is not vetted
    fellow = next(t for t in to_pos.travellers if t.reservation != suspect.reservation)
    cleared = screener.screen(_traveller(fellow), now=now).manifest.match
    assert cleared is not None and cleared.vetting is VettingStatus.CLEARED
    other_document = _traveller(fellow).__class__(
        fellow.surname, fellow.given_names, fellow.birth_date, fellow.nationality,
        "ZZ9999999", fellow.issuer, "P", fellow.expiry,
    )  # fmt: skip
    by_name = screener.screen(other_document, now=now).manifest.match
    assert by_name is not None and by_name.vetting is VettingStatus.NOT_VETTED


def test_the_drop_folder_ingests_complete_files_and_quarantines_bad_ones(
    server_setup, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    service = service_of(server_setup.state)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    plane = flight(23, 4, number="720")
    (inbox / "bw720.edi").write_text(
        paxlst(plane, reference=f"DROP{plane.travellers[0].document_number}")
    )
    (inbox / "broken.edi").write_bytes(b"UNB+UNOA:4+X+Y+1+2'UNH+1+PAXLST:D:05B'BGM+745'")
    (inbox / ".partial").write_text("still being written")
    folder = DropFolder(service, inbox, 0.1)
    # the first look only notes the sizes (a file may still be growing)
    assert folder.scan_once().messages == 0
    report = folder.scan_once()
    assert report.messages == 1 and report.passengers == 4
    assert [q["file"] for q in report.quarantined] == ["broken.edi"]
    assert (inbox / "done" / "bw720.edi").exists()
    assert (inbox / "quarantine" / "broken.edi").exists()
    assert (inbox / ".partial").exists()
