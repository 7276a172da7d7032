"""Manifest deltas uploaded by an administrator, and trust-list and configuration deltas
proposed by one administrator and approved by another (signed), are applied by the kiosk
that pins the signing key (real server on loopback, mutual TLS); versions recorded."""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from kiosk.cli.main import main
from kiosk.config import load_config
from kiosk.screening.store import ScreeningStore
from kiosk.sync.client import ServerClient
from kiosk.sync.service import SyncService
from kiosk.sync.status import sync_status
from kiosk.trust.store import TrustStore
from server.security.tokens import Role

pytestmark = pytest.mark.postgres

TRUST = Path(__file__).parent.parent / "data" / "trust"
MANIFEST_KEY = "XY123:2026-11-22:UTO:L898902C3"
PASSENGER = {
    "flight": "XY123",
    "arrival_date": "2026-11-22",
    "surname": "ERIKSSON",
    "given_names": "ANNA MARIA",
    "document_number": "L898902C3",
    "issuer": "UTO",
    "nationality": "UTO",
    "birth_date": "1974-08-12",
}


class Admins:
    """Two administrators: the first proposes, the second approves."""

    def __init__(self, people: httpx.Client, setup) -> None:  # type: ignore[no-untyped-def]
        self.people = people
        self.headers = [self._token(setup.user(Role.ADMINISTRATOR)) for _ in range(2)]

    def _token(self, name: str) -> dict[str, str]:
        token = self.people.post(
            "/v1/auth/token", json={"username": name, "password": "correct horse battery staple"}
        ).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}


def _admin_client(setup, server) -> tuple[httpx.Client, Admins]:  # type: ignore[no-untyped-def]
    people = httpx.Client(
        base_url=server.url,
        verify=ssl.create_default_context(cafile=str(setup.credentials / "ca.pem")),
    )
    return people, Admins(people, setup)


def _upload(people: httpx.Client, admins: Admins, name: str, changes: list) -> int:  # type: ignore[type-arg]
    first, second = admins.headers
    if name not in ("config", "trust"):
        answer = people.post(f"/v1/admin/lists/{name}", json={"changes": changes}, headers=first)
        assert answer.status_code == 200, answer.text
        return int(answer.json()["version"])
    proposed = people.post(
        "/v1/admin/changes", json={"list": name, "changes": changes}, headers=first
    )
    assert proposed.status_code == 201, proposed.text
    approved = people.post(f"/v1/admin/changes/{proposed.json()['id']}/approve", headers=second)
    assert approved.status_code == 200, approved.text
    return int(approved.json()["version"])


def test_manifest_trust_and_configuration_deltas_are_applied(
    server_setup, running_server, kiosk_database, kiosk_config_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a kiosk whose policy comes from its own file, and an administrator's uploads: a
    # manifest passenger, a CSCA certificate, and configuration (one allowed change, one
    # for the devices the server may not touch, one of the wrong type)
    home = tmp_path / "k"
    config = kiosk_config_factory(server_setup, home, running_server.url)
    csca = (TRUST / "DE_ROOT_CA_CSCA07.cer").read_bytes()
    people, admin = _admin_client(server_setup, running_server)
    with closing(people):
        manifest_v = _upload(
            people, admin, "manifest", [{"op": "upsert", "key": MANIFEST_KEY, "data": PASSENGER}]
        )
        trust_v = _upload(
            people,
            admin,
            "trust",
            [{"op": "upsert", "key": "DE-CSCA-07",
              "data": {"content_b64": base64.b64encode(csca).decode()}}],
        )  # fmt: skip
        policy = {"face_threshold": 0.5, "minimum_age": 16}
        _upload(people, admin, "config", [{"op": "upsert", "key": "policy", "data": policy}])
        config_v = _upload(
            people,
            admin,
            "config",
            [
                {"op": "upsert", "key": "devices", "data": {"camera": {"type": "opencv"}}},
                {"op": "upsert", "key": "face", "data": {"threshold": "close enough"}},
                {"op": "upsert", "key": "face", "data": {"max_image_pixels": 1}},
                {"op": "upsert", "key": "screening", "data": {"watchlist_threshold": 0.9}},
            ],
        )

        # WHEN the kiosk syncs
        with ServerClient(config.sync) as client:
            report = SyncService(config, kiosk_database, client).run_once()

        # THEN the passenger is in the manifest the screening loads
        assert report.ok, report.error
        manifest = ScreeningStore(kiosk_database).load_manifest()
        assert len(manifest) == 1
        # AND the CSCA is in the trust store, found by its fingerprint
        fingerprint = hashlib.sha256(csca).hexdigest()
        held = {entry.fingerprint_sha256 for entry in TrustStore(kiosk_database).certificates()}
        assert fingerprint in held
        # AND the allowed configuration is what the kiosk loads at its next start
        restarted = load_config(data_dir=home, kiosk_id=server_setup.device)
        assert restarted.policy.face_threshold == 0.5 and restarted.policy.minimum_age == 16
        assert restarted.screening.watchlist_threshold == 0.9
        assert restarted.devices == config.devices and restarted.face == config.face
        document = json.loads((home / "central-config.json").read_text())
        # (versions of other tests in this schema, signed by their servers' keys, are
        # refused too: only this test's key is pinned)
        reasons = [item["reason"] for item in document["rejected"]
                   if item["version"] == config_v]  # fmt: skip
        assert len(reasons) == 3 and "section devices may not be set centrally" in reasons
        assert any(r.startswith("face.threshold") for r in reasons)
        assert "face.max_image_pixels may not be set centrally" in reasons
        # AND every version is recorded
        versions = sync_status(kiosk_database)["list_versions"]
        assert versions["manifest"] == manifest_v and versions["trust"] == trust_v
        assert versions["config"] == config_v

        # WHEN the passenger, the certificate and the policy are withdrawn
        _upload(people, admin, "manifest", [{"op": "delete", "key": MANIFEST_KEY}])
        _upload(people, admin, "trust", [{"op": "delete", "key": fingerprint}])
        _upload(people, admin, "config", [{"op": "delete", "key": "policy"}])
        with ServerClient(config.sync) as client:
            assert SyncService(config, kiosk_database, client).run_once().ok

    # THEN the kiosk no longer holds them and its own policy applies again
    assert len(ScreeningStore(kiosk_database).load_manifest()) == 0
    held = {entry.fingerprint_sha256 for entry in TrustStore(kiosk_database).certificates()}
    assert fingerprint not in held
    restarted = load_config(data_dir=home, kiosk_id=server_setup.device)
    assert restarted.policy == config.policy
    assert restarted.screening.watchlist_threshold == 0.9


def test_a_tampered_central_configuration_stops_the_start(tmp_path: Path) -> None:
    # GIVEN a central configuration file that sets what the server may not set
    (tmp_path / "central-config.json").write_text(
        json.dumps({"version": 3, "sections": {"storage": {"retention_hours": 0}}})
    )
    # WHEN the kiosk loads its configuration THEN it is refused with the file named
    from models.errors import ConfigError

    with pytest.raises(ConfigError, match="central-config.json: storage.retention_hours"):
        load_config(data_dir=tmp_path)


def test_sync_status_json_has_the_contract_keys(
    server_setup, running_server, kiosk_config_factory, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a kiosk configured for the server that synced once
    home = tmp_path / "k"
    config = kiosk_config_factory(server_setup, home, running_server.url)
    toml = tmp_path / "kiosk.toml"
    toml.write_text(
        f'kiosk_id = "{config.kiosk_id}"\ndata_dir = "{home}"\n\n[sync]\n'
        f'server_url = "{running_server.url}"\n'
        f'client_cert = "{config.sync.client_cert}"\nclient_key = "{config.sync.client_key}"\n'
        f'ca_cert = "{config.sync.ca_cert}"\n'
    )
    assert main(["--config", str(toml), "db", "init-keys"]) == 0  # as the package does
    assert main(["--config", str(toml), "sync", "run", "--once"]) == 0
    capsys.readouterr()
    # WHEN its status is asked for as JSON
    assert main(["--config", str(toml), "sync", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    # THEN the contract keys are there with the values of that sync
    assert status["backlog"] == 0 and status["oldest_unsent"] is None
    assert status["last_contact"] is not None
    assert set(status["list_versions"]) >= {"lost_stolen", "watchlist", "manifest", "trust"}
    assert all(isinstance(v, int) for v in status["list_versions"].values())


class _MalformedServer:
    """Answers list deltas whose change lacks its version (a broken or hostile server)."""

    def list_delta(self, name: str, since: int) -> dict[str, object]:
        change = {"op": "upsert", "key": "UTO:X1", "data": {}}
        return {"name": name, "since": since, "version": 9, "more": False, "changes": [change]}


def test_a_malformed_delta_is_a_sync_error_and_its_version_is_not_recorded(
    kiosk_database,
) -> None:  # type: ignore[no-untyped-def]
    from kiosk.sync.errors import ListApplyError, SyncError
    from kiosk.sync.lists import pull_list

    # WHEN a change without a version arrives THEN a typed sync error, nothing recorded
    with pytest.raises(ListApplyError) as caught:
        pull_list(kiosk_database, _MalformedServer(), "lost_stolen")  # type: ignore[arg-type]
    assert isinstance(caught.value, SyncError)
    assert "lost_stolen" not in sync_status(kiosk_database)["list_versions"]
