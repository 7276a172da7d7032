"""GIVEN two kiosks of one site that used the same transaction id for two different travellers
WHEN the booth works the queue (the booth client and the officer window) THEN every call names
the referral by kiosk and transaction: each opens, is claimed and is resolved on its own, and
a call that names only the transaction id gets the server's 409, never the other traveller."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from kiosk.audit.signing import load_signing_key, public_key_pem
from kiosk.config import load_config
from kiosk.officer.referrals import ReferralAmbiguousError, ReferralKey
from kiosk.storage.database import open_database
from kiosk.storage.recorder import record_transaction
from kiosk.sync.client import ServerClient
from kiosk.sync.service import SyncService
from models.records import ReferralOutcome, ReferralSubject
from models.server_tables import ReferralQueueRow
from server.accounts import enrol_device, write_device_credentials
from tests.server.conftest import make_decided
from ui.officer.window import OfficerWindow

PASSWORD = "correct horse battery staple"
SHARED = "txn-000001"


def _second_kiosk(room: Any, home: Path) -> str:
    """Another kiosk of the room's site, enrolled, with a referral under ``SHARED``."""
    device = f"gate-{uuid.uuid4().hex[:8]}"
    home.mkdir(parents=True)
    audit_key = public_key_pem(load_signing_key(home / "audit-signing.pem").public_key())
    enrolled = enrol_device(room.state.database, room.state.ca, device, days=30,
                            audit_public_key_pem=audit_key, site=room.site)  # fmt: skip
    write_device_credentials(enrolled, home / "credentials", "https://127.0.0.1")
    config = load_config(
        data_dir=home,
        kiosk_id=device,
        site=room.site,
        sync={
            "server_url": room.url,
            "client_cert": str(home / "credentials" / "kiosk.pem"),
            "client_key": str(home / "credentials" / "kiosk.key"),
            "ca_cert": str(home / "credentials" / "ca.pem"),
        },
    )
    database = open_database(config)
    try:
        _refer(database, device, "LINDQVIST", "BRITT")
        with ServerClient(config.sync) as client:
            assert SyncService(config, database, client, cipher=room.cipher).run_once().ok
    finally:
        database.close()
    return device


def _refer(database: Any, device: str, surname: str, given: str) -> None:
    record = dataclasses.replace(
        make_decided(0, device),
        transaction_id=SHARED,
        referral_subject=ReferralSubject(surname, given, date(1974, 8, 12)),
    )
    record_transaction(database, record)


@pytest.fixture
def two_kiosks(room: Any, tmp_path: Path) -> Iterator[tuple[Any, str, str]]:
    _refer(room.kiosk_db, room.device, "ERIKSSON", "ANNA")
    room.sync()
    other = _second_kiosk(room, tmp_path / "kiosk-b")
    yield room, room.device, other


def _status(room: Any, kiosk: str) -> tuple[str, str | None]:
    with room.state.database.sessions() as db:
        row = db.get(ReferralQueueRow, (kiosk, SHARED))
    assert row is not None
    return row.status, row.claimed_by


def test_the_booth_client_names_each_referral_by_kiosk_and_transaction(
    two_kiosks: tuple[Any, str, str],
) -> None:
    room, first, other = two_kiosks
    booth = room.booth()
    try:
        session = booth.login(room.officer(), PASSWORD)
        # GIVEN both referrals in the queue under the same transaction id
        queue = booth.open_referrals(session)
        assert sorted((r.kiosk_id, r.transaction_id) for r in queue) == sorted(
            [(first, SHARED), (other, SHARED)]
        )
        # WHEN each is opened by its key THEN each shows its own traveller
        names = {
            kiosk: booth.referral(session, SHARED, kiosk_id=kiosk).summary.display_name
            for kiosk in (first, other)
        }
        assert names == {first: "ERIKSSON, ANNA", other: "LINDQVIST, BRITT"}
        # WHEN a call names only the transaction id THEN the server refuses to guess (409)
        with pytest.raises(ReferralAmbiguousError):
            booth.referral(session, SHARED)
        with pytest.raises(ReferralAmbiguousError):
            booth.claim(session, SHARED)
        # WHEN the officer claims and refuses the second kiosk's referral
        booth.claim(session, SHARED, kiosk_id=other)
        assert _status(room, other)[1] is not None and _status(room, first)[1] is None
        done = booth.resolve(session, SHARED, ReferralOutcome.REFUSED, "not the holder",
                             kiosk_id=other)  # fmt: skip
        # THEN only that one is resolved; the first kiosk's traveller still waits
        assert done.status == "resolved"
        assert _status(room, other)[0] == "resolved"
        assert _status(room, first) == ("open", None)
        left = booth.open_referrals(session)
        assert [(r.kiosk_id, r.transaction_id) for r in left] == [(first, SHARED)]
    finally:
        booth.close()


@pytest.mark.parametrize("room", ["sqlite"], indirect=True)
def test_the_officer_window_opens_and_resolves_each_by_its_kiosk(
    qtbot: QtBot, two_kiosks: tuple[Any, str, str]
) -> None:
    room, first, other = two_kiosks
    window = OfficerWindow(room.booth(), undo_ms=50, confirm=lambda _n, _r: True)
    qtbot.addWidget(window)
    window.show()
    try:
        window.login(room.officer(), PASSWORD)
        qtbot.waitUntil(lambda: window.queue.count() == 2, timeout=20000)
        # WHEN the officer opens each line THEN the view shows that kiosk's traveller
        for kiosk, name in ((first, "ERIKSSON, ANNA"), (other, "LINDQVIST, BRITT")):
            window.open_referral(ReferralKey(kiosk, SHARED))

            def opened(k: str = kiosk) -> bool:
                detail = window.view.detail
                return detail is not None and detail.summary.kiosk_id == k

            qtbot.waitUntil(opened, timeout=20000)
            assert window.view.detail is not None
            assert window.view.detail.summary.display_name == name
            qtbot.waitUntil(lambda k=kiosk: _status(room, k)[1] is not None, timeout=20000)  # type: ignore[misc]
        # WHEN the second kiosk's referral (open now) is refused THEN only it is resolved
        window.view.note.setPlainText("Not the holder of the passport.")
        window.resolve(ReferralKey(other, SHARED), ReferralOutcome.REFUSED, "Not the holder.")
        qtbot.waitUntil(lambda: _status(room, other)[0] == "resolved", timeout=20000)
        assert _status(room, first)[0] == "open"
        qtbot.waitUntil(lambda: window.queue.count() == 1, timeout=20000)
        assert window.referrals[0].key == ReferralKey(first, SHARED)
    finally:
        window.shutdown()
        window.close()
