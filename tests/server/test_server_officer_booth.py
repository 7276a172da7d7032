"""The officer booth's HTTP source against the real server on loopback (TLS, uvicorn):
log in with a password, list the queue, open a referral with its checks and document,
see its photos, resolve it once (409 the second time); the kiosk then receives the resolution."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.officer.referrals import (
    LoginFailedError,
    OfficerSession,
    ReferralClosedError,
    ReferralNotFoundError,
    SessionExpiredError,
)
from kiosk.officer.remote import HttpReferralSource
from kiosk.officer.samples import seed_sample_referrals
from kiosk.storage.crypto_store import BlobCipher
from kiosk.sync.client import ServerClient
from kiosk.sync.service import SyncService
from models.records import ReferralOutcome
from models.server_tables import ReceivedDecisionRow, ServerAuditEventRow
from models.tables import ReferralRow
from server.security.tokens import Role

pytestmark = pytest.mark.postgres
PASSWORD = "correct horse battery staple"


def test_the_booth_works_the_server_queue_over_real_http(
    server_setup, running_server, kiosk_database, kiosk_config_factory, tmp_path: Path, caplog
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a kiosk whose two sample referrals (with photos) reached the server by sync
    caplog.set_level(logging.DEBUG)
    cipher = BlobCipher(bytes(range(32)))
    referred = seed_sample_referrals(kiosk_database, cipher, None, server_setup.device)
    config = kiosk_config_factory(server_setup, tmp_path / "k", running_server.url)
    officer = server_setup.user(Role.OFFICER)
    with ServerClient(config.sync) as client:
        service = SyncService(config, kiosk_database, client, cipher=cipher)
        assert service.run_once().ok
        booth = HttpReferralSource(
            running_server.url, verify=str(server_setup.credentials / "ca.pem"), face_threshold=0.6
        )
        try:
            # WHEN an officer signs in (after a wrong password) and opens the referrals
            with pytest.raises(LoginFailedError):
                booth.login(officer, "not the password")
            session = booth.login(officer, PASSWORD)
            # (the PostgreSQL schema is shared by the session's tests: keep this kiosk's)
            mine = server_setup.device
            queue = [r for r in booth.open_referrals(session) if r.kiosk_id == mine]
            mismatch, watchlist = (booth.referral(session, txn) for txn in referred)
            with pytest.raises(ReferralNotFoundError):
                booth.referral(session, "no-such-transaction")
            with pytest.raises(SessionExpiredError):
                booth.open_referrals(OfficerSession(officer, token="forged"))
            booth.resolve(session, referred[0], ReferralOutcome.ADMITTED, "  passport checked  ")
            with pytest.raises(ReferralClosedError):
                booth.resolve(session, referred[0], ReferralOutcome.REFUSED, "second try")
            after = [r for r in booth.open_referrals(session) if r.kiosk_id == mine]
        finally:
            booth.close()
        report = service.run_once()

    # THEN the queue, the checks, the document and the screening hits came from the server
    assert {r.transaction_id for r in queue} == set(referred)
    assert queue[0].display_name == "JOSEPH, MARIE ANGELA"
    assert [c.name for c in mismatch.checks][:2] == ["mrz_consistency", "sod_signature"]
    assert mismatch.face_score == 0.71 and mismatch.face_threshold == 0.6
    assert mismatch.document["Issuing state"] == "LCA"
    assert mismatch.document["Chip read"] == "yes"
    assert mismatch.complete and not mismatch.screening_hits
    assert [h.source for h in watchlist.screening_hits] == ["Watchlist"]
    assert "score 0.93" in watchlist.screening_hits[0].detail
    # AND the photos travelled with the referral (kiosk -> server -> booth)
    assert mismatch.chip_portrait is not None and mismatch.live_capture is not None
    assert mismatch.images_note is None
    # AND the resolution is stored once, audited, and reaches the kiosk
    assert [r.transaction_id for r in after] == [referred[1]]
    assert report.ok and report.resolutions == 1
    with kiosk_database.read() as db:
        row = db.get(ReferralRow, referred[0])
        assert row is not None and row.outcome == "admitted" and row.note == "passport checked"
    with server_setup.state.database.sessions() as db:
        actions = db.scalars(
            select(ServerAuditEventRow.action).where(ServerAuditEventRow.actor == officer)
        ).all()
        stored = db.get(ReceivedDecisionRow, (server_setup.device, referred[0]))
        assert stored is not None and "number_token" in (stored.document or {})
    assert sorted(a for a in actions if not a.startswith("login.")) == [
        "referral.list",
        "referral.list",
        "referral.photos_viewed",
        "referral.photos_viewed",
        "referral.resolve",
        "referral.view",
        "referral.view",
    ]
    # AND nothing personal was logged on either side
    assert "JOSEPH" not in caplog.text and "MARIE" not in caplog.text
