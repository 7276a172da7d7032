"""One stolen administrator password against the fleet: a face threshold of 1.49, liveness
off and a rogue CSCA pushed to every kiosk. Refused end to end (real server on loopback,
mutual TLS, real kiosk sync):

- a direct upload of configuration or trust is refused (two administrators are needed);
- the proposer cannot approve its own change, nor create a second administrator;
- changes written into the server's database without approval, or signed with another key,
  are refused by the kiosk, which pins the server's change-signing key;
- a change a second administrator approved is still refused by the kiosk's local bounds
  (threshold ceiling; liveness cannot be disabled centrally);
- every step alerts the supervisors."""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.config import FaceConfig, load_config
from kiosk.sync.client import ServerClient
from kiosk.sync.service import SyncService
from kiosk.trust.store import TrustStore
from models.base import utc_now
from models.change_envelope import envelope_message
from models.server_tables import ListSignatureRow
from server.api.lists import append_version
from server.security.tokens import Role

# the kiosk's own threshold: what a refused change must leave in force
DEFAULT_THRESHOLD = FaceConfig().threshold

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery staple"
ROGUE_CSCA = Path(__file__).parent.parent / "data" / "trust" / "DE_ROOT_CA_CSCA07.cer"
FLEET_WIDE = [
    {"op": "upsert", "key": "face", "data": {"threshold": 1.49, "liveness_required": False}}
]


def _rogue_trust() -> list[dict[str, Any]]:
    content = base64.b64encode(ROGUE_CSCA.read_bytes()).decode()
    return [{"op": "upsert", "key": "ROGUE-CSCA", "data": {"content_b64": content}}]


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


def _sync(setup: Any, config: Any, database: Any) -> None:
    with ServerClient(config.sync) as client:
        report = SyncService(config, database, client).run_once()
    assert report.ok, report.error


def _holds_rogue(database: Any) -> bool:
    fingerprint = hashlib.sha256(ROGUE_CSCA.read_bytes()).hexdigest()
    return fingerprint in {c.fingerprint_sha256 for c in TrustStore(database).certificates()}


def test_one_administrator_cannot_push_a_fleet_wide_change(
    server_setup, running_server, kiosk_database, kiosk_config_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "kiosk"
    config = kiosk_config_factory(server_setup, home, running_server.url)
    people = People(server_setup, running_server.url)
    with closing(people.http):
        attacker = people.login(Role.ADMINISTRATOR)
        # WHEN the attacker uploads the change and the rogue CSCA directly
        for name, changes in (("config", FLEET_WIDE), ("trust", _rogue_trust())):
            direct = people.http.post(
                f"/v1/admin/lists/{name}", json={"changes": changes}, headers=attacker
            )
            # THEN both are refused: a second administrator must approve
            assert direct.status_code == 409 and "two administrators" in direct.json()["detail"]
        # WHEN the attacker proposes them and approves its own proposals
        ids = []
        for name, changes in (("config", FLEET_WIDE), ("trust", _rogue_trust())):
            proposed = people.http.post(
                "/v1/admin/changes", json={"list": name, "changes": changes}, headers=attacker
            )
            assert proposed.status_code == 201, proposed.text
            ids.append(proposed.json()["id"])
            own = people.http.post(f"/v1/admin/changes/{ids[-1]}/approve", headers=attacker)
            # THEN that is refused
            assert own.status_code == 403
        # AND the attacker cannot create the second administrator it would need
        minted = people.http.post(
            "/v1/admin/users",
            json={"name": "accomplice", "role": "administrator", "password": PASSWORD},
            headers=attacker,
        )
        assert minted.status_code == 403
        # AND a kiosk that syncs applies nothing
        _sync(server_setup, config, kiosk_database)
        assert not _holds_rogue(kiosk_database)
        unchanged = load_config(data_dir=home, kiosk_id=server_setup.device)
        assert unchanged.face.threshold == DEFAULT_THRESHOLD and unchanged.face.liveness_required

        # WHEN a second administrator is fooled into approving the configuration change
        approver = people.login(Role.ADMINISTRATOR)
        approved = people.http.post(f"/v1/admin/changes/{ids[0]}/approve", headers=approver)
        assert approved.status_code == 200, approved.text
        _sync(server_setup, config, kiosk_database)
        # THEN the kiosk's local bounds refuse it: the threshold and liveness stay
        restarted = load_config(data_dir=home, kiosk_id=server_setup.device)
        assert restarted.face.threshold == DEFAULT_THRESHOLD and restarted.face.liveness_required
        rejected = json.loads((home / "central-config.json").read_text())["rejected"]
        assert "liveness cannot be turned off centrally" in rejected[-1]["reason"]
        # AND the second administrator rejects the rogue CSCA: it can no longer be approved
        rejected_csca = people.http.post(f"/v1/admin/changes/{ids[1]}/reject", headers=approver)
        assert rejected_csca.status_code == 200 and rejected_csca.json()["status"] == "rejected"
        late = people.http.post(f"/v1/admin/changes/{ids[1]}/approve", headers=approver)
        assert late.status_code == 409
        # AND the threshold alone is refused too (above the kiosk's ceiling)
        alone = people.http.post(
            "/v1/admin/changes",
            json={"list": "config", "changes": [
                {"op": "upsert", "key": "face", "data": {"threshold": 1.49}}]},
            headers=attacker,
        )  # fmt: skip
        people.http.post(f"/v1/admin/changes/{alone.json()['id']}/approve", headers=approver)
        _sync(server_setup, config, kiosk_database)
        rejected = json.loads((home / "central-config.json").read_text())["rejected"]
        assert "above this kiosk's ceiling" in rejected[-1]["reason"]
        assert (
            load_config(data_dir=home, kiosk_id=server_setup.device).face.threshold
            == DEFAULT_THRESHOLD
        )

        # AND the supervisors were alerted at every step
        supervisor = people.login(Role.SUPERVISOR)
        alerts = people.http.get("/v1/alerts", headers=supervisor).json()["items"]
        kinds = {alert["kind"] for alert in alerts}
        assert {"config.direct_upload_refused", "trust.direct_upload_refused", "config.proposed",
                "trust.proposed", "config.self_approval_refused", "trust.self_approval_refused",
                "config.approved", "trust.rejected"} <= kinds  # fmt: skip
        officer = people.login(Role.OFFICER)
        assert people.http.get("/v1/alerts", headers=officer).status_code == 403


def test_changes_written_behind_the_approval_are_refused_by_the_kiosk(
    server_setup, running_server, kiosk_database, kiosk_config_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "kiosk"
    config = kiosk_config_factory(server_setup, home, running_server.url)
    database = server_setup.state.database
    # GIVEN an attacker who writes list versions into the server's database: the rogue CSCA
    # unsigned, and the threshold change signed with a key of its own
    with database.session() as session:
        append_version(session, "trust", _rogue_trust(), "attacker")
    forged = Ed25519PrivateKey.generate()
    with database.session() as session:
        version = append_version(session, "config", FLEET_WIDE, "attacker")
        envelope = {"proposed_by": "attacker", "approved_by": "nobody",
                    "approved_at": utc_now().isoformat(), "request": 0}  # fmt: skip
        session.add(
            ListSignatureRow(
                list_name="config", version=version, envelope=envelope,
                key_id=server_setup.state.signer.key_id,  # claims the server's key
                signature=forged.sign(envelope_message("config", version, FLEET_WIDE,
                                                       envelope)).hex(),
            )
        )  # fmt: skip
    # WHEN the kiosk syncs
    _sync(server_setup, config, kiosk_database)
    # THEN neither is applied, and the refusals say why
    assert not _holds_rogue(kiosk_database)
    rejected = json.loads((home / "central-config.json").read_text())["rejected"]
    assert rejected[-1]["reason"] == "the signature does not verify"
    assert load_config(data_dir=home, kiosk_id=server_setup.device).face.liveness_required


def test_a_kiosk_without_a_pinned_key_applies_no_change(
    server_setup, running_server, kiosk_database, kiosk_config_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a properly approved, signed, harmless change, and a kiosk that pins no key
    home = tmp_path / "kiosk"
    config = kiosk_config_factory(server_setup, home, running_server.url)
    config = config.model_copy(
        update={"central": config.central.model_copy(update={"signing_public_key": None})}
    )
    people = People(server_setup, running_server.url)
    with closing(people.http):
        first, second = people.login(Role.ADMINISTRATOR), people.login(Role.ADMINISTRATOR)
        change = [{"op": "upsert", "key": "face", "data": {"threshold": 0.55}}]
        proposed = people.http.post(
            "/v1/admin/changes", json={"list": "config", "changes": change}, headers=first
        ).json()
        assert (
            people.http.post(
                f"/v1/admin/changes/{proposed['id']}/approve", headers=second
            ).status_code
            == 200
        )
    # WHEN it syncs, THEN nothing is applied
    _sync(server_setup, config, kiosk_database)
    rejected = json.loads((home / "central-config.json").read_text())["rejected"]
    assert "no change-signing key is pinned" in rejected[-1]["reason"]
    assert (
        load_config(data_dir=home, kiosk_id=server_setup.device).face.threshold == DEFAULT_THRESHOLD
    )
