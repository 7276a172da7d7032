"""A kiosk that refuses a signed version tells the server, and the supervisors see it.

End to end on loopback (real server, mutual TLS, real kiosk sync): a change two
administrators approved and the server signed is then tampered with in the server's
database (a threshold raised after signing), and a rogue CSCA is written there unsigned.
The kiosk refuses both; the refusals travel through its outbox (exactly once, like a
decision) to ``/v1/kiosk/refusals``; the server audits them, alerts the supervisors
(``GET /v1/alerts``) and counts them in the fleet view (``GET /v1/devices``)."""

from __future__ import annotations

import base64
import json
import ssl
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from kiosk.cli.main import main
from kiosk.config import load_config
from kiosk.storage import outbox
from kiosk.sync.client import ServerClient
from kiosk.sync.errors import ServerRefusedError
from kiosk.sync.lists import REFUSAL_KIND, refusal_reports
from kiosk.sync.service import SyncService
from kiosk.sync.status import LATEST_REFUSALS
from models.base import utc_now
from models.server_tables import KioskRefusalRow, ListChangeRow
from models.tables import OutboxMessageRow
from models.tables.trust import TrustCertificateRow
from server import change_approval
from server.api.lists import append_version
from server.security.tokens import Role
from tests.server.test_server_attack_fleet_changes import SHIPPED, _holds_rogue, _rogue_trust

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery staple"
TRUST = Path(__file__).parent.parent / "data" / "trust"


class People:
    def __init__(self, setup: Any, url: str) -> None:
        context = ssl.create_default_context(cafile=str(setup.credentials / "ca.pem"))
        self.http = httpx.Client(base_url=url, verify=context)
        self.setup = setup

    def login(self, role: Role) -> dict[str, str]:
        name = self.setup.user(role)
        answer = self.http.post("/v1/auth/token", json={"username": name, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _sync(config: Any, database: Any) -> None:
    with ServerClient(config.sync) as client:
        report = SyncService(config, database, client).run_once()
    assert report.ok, report.error


def _approved_then_tampered(setup: Any, people: People) -> int:
    """A harmless threshold change, proposed and approved by two administrators and
    signed; then raised to 1.49 in the database behind the signature. Its version."""
    first, second = people.login(Role.ADMINISTRATOR), people.login(Role.ADMINISTRATOR)
    change = [{"op": "upsert", "key": "face", "data": {"threshold": 0.55}}]
    proposed = people.http.post(
        "/v1/admin/changes", json={"list": "config", "changes": change}, headers=first
    )
    assert proposed.status_code == 201, proposed.text
    approved = people.http.post(f"/v1/admin/changes/{proposed.json()['id']}/approve",
                                headers=second)  # fmt: skip
    assert approved.status_code == 200, approved.text
    version = int(approved.json()["version"])
    with setup.state.database.session() as session:
        tampered = session.execute(
            update(ListChangeRow)
            .where(ListChangeRow.list_name == "config", ListChangeRow.version == version)
            .values(data={"threshold": 1.49})
        )
        assert tampered.rowcount == 1  # type: ignore[attr-defined]
    return version


def _stored_refusals(setup: Any) -> list[KioskRefusalRow]:
    with setup.state.database.sessions() as session:
        return list(
            session.scalars(
                select(KioskRefusalRow).where(KioskRefusalRow.kiosk_id == setup.device)
            ).all()
        )


def _sync_status(setup: Any, home: Path, capsys: Any, *args: str) -> str:
    """What ``kiosk sync status`` prints for the kiosk whose data is in ``home``."""
    toml = home.parent / "kiosk-status.toml"
    toml.write_text(
        f'kiosk_id = "{setup.device}"\ndata_dir = "{home}"\n\n'
        f'[storage]\naudit_key_file = "{setup.audit_key_file}"\n'
    )
    capsys.readouterr()
    assert main(["--config", str(toml), "sync", "status", *args]) == 0
    return str(capsys.readouterr().out)


def test_a_refused_signed_version_is_reported_and_shown_to_the_supervisors(
    server_setup, running_server, kiosk_database, kiosk_config_factory, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "kiosk"
    config = kiosk_config_factory(server_setup, home, running_server.url)
    people = People(server_setup, running_server.url)
    with closing(people.http):
        # GIVEN a signed config version tampered with after signing, and an unsigned rogue CSCA
        config_version = _approved_then_tampered(server_setup, people)
        with server_setup.state.database.session() as session:
            trust_version = append_version(session, "trust", _rogue_trust(), "attacker")
        # WHEN the kiosk syncs (the refusals are queued with the versions reached, then
        # relayed in the same cycle)
        _sync(config, kiosk_database)
        assert load_config(data_dir=home, kiosk_id=server_setup.device).face.threshold == SHIPPED
        assert not _holds_rogue(kiosk_database)
        rejected = json.loads((home / "central-config.json").read_text())["rejected"]
        assert rejected[-1]["reason"] == "the signature does not verify"
        # THEN the server holds both refusals, with the kiosk's reasons (and any version
        # other tests left in this schema, signed by their servers' keys: refused too)
        stored = {(r.list_name, r.version): r.reason for r in _stored_refusals(server_setup)}
        assert stored[("config", config_version)] == "the signature does not verify"
        assert stored[("trust", trust_version)] == "unsigned"
        # AND the supervisors are alerted, the audit names the kiosk, the fleet view counts them
        mine = {f"config v{config_version}", f"trust v{trust_version}"}
        supervisor = people.login(Role.SUPERVISOR)
        alerts = people.http.get("/v1/alerts", headers=supervisor).json()["items"]
        kiosk_alerts = [a for a in alerts if a["kind"] == "kiosk.refused_change"]
        assert mine <= {a["subject"] for a in kiosk_alerts if a["actor"] == server_setup.device}
        events = people.http.get("/v1/audit/events", headers=supervisor).json()["items"]
        audited = {
            e["subject"]
            for e in events
            if e["action"] == "kiosk.refused_change" and e["actor"] == server_setup.device
        }
        assert mine <= audited  # fmt: skip
        technician = people.login(Role.TECHNICIAN)
        device = people.http.get(f"/v1/devices/{server_setup.device}", headers=technician).json()
        assert device["refused_changes"] == len(stored) >= 2
        assert device["latest_refusal"]
        fleet = people.http.get("/v1/devices", headers=technician).json()["items"]
        assert [d["refused_changes"] for d in fleet if d["name"] == server_setup.device] == [
            len(stored)
        ]
        # WHEN the kiosk syncs once more, THEN nothing is reported twice
        _sync(config, kiosk_database)
        assert len(_stored_refusals(server_setup)) == len(stored)
        with kiosk_database.read() as session:
            queued = session.scalars(
                select(OutboxMessageRow).where(OutboxMessageRow.kind == "refused_change")
            ).all()
            assert len(queued) == len(stored) and all(row.sent_at for row in queued)
    # AND the technician sees them at the kiosk: `kiosk sync status`, as JSON and as a table
    refusals = json.loads(_sync_status(server_setup, home, capsys, "--json"))["refusals"]
    assert refusals["count"] == len(stored) and refusals["unreported"] == 0
    # (the latest few: other tests' versions in this schema may be refused after ours)
    latest = refusals["latest"]
    assert len(latest) == min(LATEST_REFUSALS, len(stored))
    for item in latest:
        assert stored[(item["list_name"], item["version"])] == item["reason"]
        assert item["reported"] and item["refused_at"]
    table = _sync_status(server_setup, home, capsys)
    assert f"refused         {len(stored)}\n" in table
    for item in latest:
        assert f"{item['list_name']} v{item['version']}: {item['reason']}" in table


def test_sync_status_counts_every_refusal_and_lists_the_latest(
    server_setup, kiosk_database, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN seven refused versions queued at the kiosk, the server told of all but the last
    refused = [{"version": v, "key": f"watchlist v{v}", "reason": "another key"} for v in range(7)]
    with kiosk_database.write() as session:
        rows = [
            outbox.enqueue(session, REFUSAL_KIND, item)
            for item in refusal_reports(server_setup.device, "watchlist", refused)
        ]
        session.flush()
        outbox.mark_sent(session, [row.id for row in rows[:-1]])
    # WHEN the technician asks for the status
    refusals = json.loads(_sync_status(server_setup, tmp_path / "kiosk", capsys, "--json"))[
        "refusals"
    ]
    # THEN all seven are counted, one waits for the server, and the latest five are listed,
    # newest first
    assert (refusals["count"], refusals["unreported"]) == (7, 1)
    assert [item["version"] for item in refusals["latest"]] == [6, 5, 4, 3, 2]
    assert [item["reported"] for item in refusals["latest"]] == [False] + [True] * 4
    table = _sync_status(server_setup, tmp_path / "kiosk", capsys)
    assert "refused         7 (1 not yet reported to the server)" in table
    assert "watchlist v6: another key  (not yet reported)" in table
    assert "watchlist v1:" not in table


def test_a_resent_refusal_is_a_duplicate_and_another_kiosk_cannot_report_for_it(
    server_setup, running_server, kiosk_database, kiosk_config_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    config = kiosk_config_factory(server_setup, tmp_path / "kiosk", running_server.url)
    item = {"refusal_id": "r-1", "kiosk_id": server_setup.device, "list_name": "config",
            "version": 7, "key": "face", "reason": "the signature does not verify",
            "refused_at": utc_now().isoformat()}  # fmt: skip
    with ServerClient(config.sync) as client:
        # WHEN the same refusal arrives twice (a lost answer)
        first = client.post_batch("refusals", [item])
        again = client.post_batch("refusals", [item])
        # THEN it is stored once
        assert (first["accepted"], again["accepted"], again["duplicates"]) == (1, 0, 1)
        # AND a refusal in another kiosk's name is refused whole
        with pytest.raises(ServerRefusedError) as refused:
            client.post_batch("refusals", [{**item, "refusal_id": "r-2", "kiosk_id": "other"}])
        assert refused.value.status_code == 403
    assert len(_stored_refusals(server_setup)) == 1
    with kiosk_database.read() as session:  # nothing was queued at the kiosk for these
        assert not outbox.pending(session, limit=10)


def test_trust_content_outside_the_pinned_anchors_is_reported(
    server_setup, running_server, kiosk_database, kiosk_config_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a trust version two administrators approved (so signed, and verified by the
    # kiosk) holding a master list this kiosk's pinned anchors do not cover, and a file
    # that is no trust content at all
    state = server_setup.state
    master_list = (TRUST / "DE_ML_2026-05-28-08-28-45.ml").read_bytes()
    changes = [
        {"op": "upsert", "key": "de-master-list",
         "data": {"content_b64": base64.b64encode(master_list).decode()}},
        {"op": "upsert", "key": "not-a-certificate",
         "data": {"content_b64": base64.b64encode(b"hello").decode()}},
    ]  # fmt: skip
    request = change_approval.propose(state.database, "trust", changes, reason="ml",
                                      actor="admin-a")  # fmt: skip
    version = change_approval.approve(state.database, state.signer, request.id, actor="admin-b")
    assert version.version is not None
    config = kiosk_config_factory(server_setup, tmp_path / "kiosk", running_server.url)
    # WHEN the kiosk syncs
    _sync(config, kiosk_database)
    # THEN nothing of the master list is trusted
    with kiosk_database.read() as session:
        assert not session.scalars(select(TrustCertificateRow)).all()
    # AND the server holds one refusal per rejected entry of that version, with its reason
    with state.database.sessions() as session:
        rows = session.scalars(
            select(KioskRefusalRow).where(
                KioskRefusalRow.kiosk_id == server_setup.device,
                KioskRefusalRow.list_name == "trust",
                KioskRefusalRow.version == version.version,
            )
        ).all()
        reasons = {row.key: row.reason for row in rows}
    assert set(reasons) == {"de-master-list", "not-a-certificate"}
    assert all(reason.startswith("trust content rejected: ") for reason in reasons.values())
    assert "pinned" in reasons["de-master-list"]
    # AND a second sync reports nothing again
    before = len(_stored_refusals(server_setup))
    _sync(config, kiosk_database)
    assert len(_stored_refusals(server_setup)) == before
