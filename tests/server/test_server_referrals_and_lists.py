"""The officer booth resolves a referral and the kiosk receives the resolution; an
administrator uploads list changes and the kiosk pulls and applies them (real server)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from kiosk.storage.recorder import record_transaction
from kiosk.sync.client import ServerClient
from kiosk.sync.service import SyncService
from kiosk.sync.status import sync_status
from models.server_tables import HeartbeatRow, ServerAuditEventRow
from models.tables import LostStolenDocumentRow, ReferralRow
from server.security.tokens import Role

pytestmark = pytest.mark.postgres


def test_referral_resolution_and_list_deltas_reach_the_kiosk(
    server_setup, running_server, kiosk_database, decided, kiosk_config_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a kiosk that referred a traveller and synced
    record_transaction(kiosk_database, decided(0, server_setup.device))
    config = kiosk_config_factory(server_setup, tmp_path / "k", running_server.url)
    verify = str(server_setup.credentials / "ca.pem")
    import ssl

    people = httpx.Client(
        base_url=running_server.url, verify=ssl.create_default_context(cafile=verify)
    )
    with people, ServerClient(config.sync) as client:
        service = SyncService(config, kiosk_database, client)
        assert service.run_once().ok
        officer = server_setup.user(Role.OFFICER)
        admin = server_setup.user(Role.ADMINISTRATOR)

        def login(name: str) -> dict[str, str]:
            token = people.post(
                "/v1/auth/token",
                json={"username": name, "password": "correct horse battery staple"},
            ).json()["access_token"]
            return {"Authorization": f"Bearer {token}"}

        # WHEN the officer resolves it with a note, and an administrator uploads a change
        transaction_id = f"{server_setup.device}-000000"
        queue = people.get("/v1/referrals?limit=500", headers=login(officer)).json()["items"]
        assert queue and all(item["status"] == "open" for item in queue)
        shown = people.get(f"/v1/referrals/{transaction_id}", headers=login(officer)).json()
        assert shown["status"] == "open" and shown["reasons"] == ["biometric_mismatch"]
        answer = people.post(
            f"/v1/referrals/{transaction_id}/resolution",
            json={"outcome": "secondary_inspection", "note": "documents checked by hand"},
            headers=login(officer),
        )
        assert answer.status_code == 200, answer.text
        again = people.post(
            f"/v1/referrals/{transaction_id}/resolution",
            json={"outcome": "refused", "note": "second try"},
            headers=login(officer),
        )
        assert again.status_code == 409
        upload = people.post(
            "/v1/admin/lists/lost_stolen",
            json={"changes": [{"op": "upsert", "key": "UTO:L898902C3",
                               "data": {"document_number": "L898902C3", "issuer": "UTO"}}]},
            headers=login(admin),
        )  # fmt: skip
        assert upload.status_code == 200, upload.text
        version = upload.json()["version"]
        report = service.run_once()

    # THEN the kiosk's referral is resolved, the list applied, its version kept
    assert report.ok and report.resolutions == 1 and report.list_changes >= 1
    with kiosk_database.read() as session:
        referral = session.get(ReferralRow, transaction_id)
        assert referral is not None
        assert referral.status == "resolved" and referral.outcome == "secondary_inspection"
        assert referral.officer_id == officer
        stolen = session.scalars(select(LostStolenDocumentRow.document_number)).all()
        assert "L898902C3" in stolen
    assert sync_status(kiosk_database)["lists"]["lost_stolen"]["version"] == version
    with server_setup.state.database.sessions() as session:
        assert session.get(HeartbeatRow, server_setup.device) is not None
        actions = session.scalars(
            select(ServerAuditEventRow.action).where(ServerAuditEventRow.actor == officer)
        ).all()
    assert sorted(a for a in actions if not a.startswith("login.")) == [
        "referral.list",
        "referral.resolve",
        "referral.view",
    ]
    assert "login.success" in actions
