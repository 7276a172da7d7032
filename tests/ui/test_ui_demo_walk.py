"""The walk of `make demo` in the real windows (``ui.launch.launch``, as ``python -m ui all
--demo`` opens them): the embedded central server on loopback, the real kiosk on simulated
devices, the traveller e-gate, the rehearsal panel, the officer booth over HTTP, the technician.

GIVEN the demo WHEN the rehearsal panel presents a genuine passport THEN the gate says proceed;
WHEN it presents a passport whose holder is on the watchlist THEN the gate says see an officer,
the referral reaches the booth through the server with its checks, screening hit and both
photos (chip and live, relayed encrypted over mutual TLS), the officer resolves it with a
note, and the kiosk
receives the resolution; the technician console shows the last contact with the server.
Set KIOSK_WALK_SHOTS=DIR to save a picture of each step."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk.config import load_config
from kiosk.demo.embedded_server import DEMO_OFFICER
from kiosk.diagnostics.log_buffer import LogBuffer
from models.records import ReferralOutcome
from models.tables import ReferralRow
from ui.launch import launch

pytestmark = [pytest.mark.gui]


@pytest.fixture(autouse=True)
def _no_kiosk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("KIOSK_") and name != "KIOSK_WALK_SHOTS":
            monkeypatch.delenv(name)


def _shot(window: Any, name: str) -> None:
    folder = os.environ.get("KIOSK_WALK_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        window.grab().save(str(Path(folder) / f"{name}.png"))


def _present(qtbot: QtBot, launched: Any, scenario: str) -> None:
    panel = launched.windows["rehearsal"]
    panel.choice.setCurrentIndex(panel.choice.findData(scenario))
    panel.present_button.click()
    qtbot.waitUntil(lambda: "passport placed" in panel.status.text(), timeout=20_000)


def _open_referral_ids(launched: Any) -> set[str]:
    with launched.kiosk.database.read() as session:
        return set(
            session.scalars(select(ReferralRow.transaction_id).where(ReferralRow.status == "open"))
        )


def test_the_demo_walk_transaction_and_referral_in_the_real_windows(
    qtbot: QtBot, tmp_path: Path
) -> None:
    config = load_config(data_dir=tmp_path / "demo", kiosk_id="kiosk-walk")
    args = argparse.Namespace(app="all", demo=True, windowed=True)
    launched = launch(args, config, LogBuffer())
    try:
        traveller = launched.windows["traveller"]
        officer = launched.windows["officer"]
        engine = launched.kiosk.engine
        assert launched.server is not None and launched.server.url.startswith("https://127.")
        _shot(traveller, "01-traveller-welcome")

        # a full transaction: genuine passport -> proceed
        _present(qtbot, launched, "genuine-traveller")
        qtbot.waitUntil(lambda: traveller.current_screen == "proceed", timeout=60_000)
        _shot(traveller, "02-traveller-proceed")
        qtbot.waitUntil(lambda: engine.state.value == "waiting", timeout=20_000)
        launched.windows["rehearsal"].remove_button.click()
        samples = _open_referral_ids(launched)

        # a referral: the holder is on the watchlist -> see an officer
        _present(qtbot, launched, "watchlist-hit")
        qtbot.waitUntil(lambda: traveller.current_screen == "officer", timeout=60_000)
        _shot(traveller, "03-traveller-see-officer")
        qtbot.waitUntil(lambda: len(_open_referral_ids(launched) - samples) == 1, timeout=10_000)
        (referred,) = _open_referral_ids(launched) - samples

        # the officer signs in and finds it in the queue (synced through the server)
        officer.login_page.username.setText(DEMO_OFFICER[0])
        officer.login_page.password.setText(DEMO_OFFICER[1])
        officer.login_page.button.click()
        qtbot.waitUntil(lambda: officer.session is not None, timeout=10_000)

        def listed() -> bool:
            officer.refresh()
            qtbot.wait(300)
            return referred in {r.transaction_id for r in officer.referrals}

        qtbot.waitUntil(listed, timeout=20_000)
        view = officer.view

        def photos_shown() -> bool:  # the photos follow the decision in the same relay
            officer.open_referral(officer.key_of(referred))
            qtbot.wait(500)
            detail = view.detail
            return (
                detail is not None
                and detail.summary.transaction_id == referred
                and view.chip_photo.pixmap is not None
                and view.live_photo.pixmap is not None
            )

        qtbot.waitUntil(photos_shown, timeout=30_000)
        _shot(officer, "04-officer-referral")
        checks = {
            view.checks.item(r, 0).toolTip(): view.checks.item(r, 1).text()
            for r in range(view.checks.rowCount())
        }
        assert checks["watchlist"].endswith("failed") and checks["face_match"].endswith("passed")
        assert "Watchlist" in view.hits.text()
        assert not view.chip_photo.picture.pixmap().isNull()
        assert not view.live_photo.picture.pixmap().isNull()
        # the real pipeline's hit: marked, the listed person and the document number carried
        detail = view.detail
        assert detail is not None and detail.summary.hit and detail.summary.listed
        assert detail.summary.listed[0].reference and detail.summary.listed[0].agreeing
        assert detail.document_number and detail.summary.document_number != detail.document_number
        assert view.banner.isVisible() and view.listed.isVisible()
        assert view.score.text() != "–"

        # resolves it with a note; the kiosk receives the resolution from the server
        view.note.setPlainText("Name match checked against the watchlist notice")
        view.buttons[ReferralOutcome.SECONDARY_INSPECTION].click()
        # the resolution travels booth -> server -> kiosk; a busy machine may take a while
        qtbot.waitUntil(lambda: referred not in _open_referral_ids(launched), timeout=60_000)
        _shot(officer, "05-officer-resolved")
        technician = launched.windows["technician"]
        technician.refresh()
        qtbot.waitUntil(
            lambda: bool((technician.health.get("sync") or {}).get("last_contact_at")),
            timeout=10_000,
        )
        _shot(technician, "06-technician")
        with launched.kiosk.database.read() as session:
            row = session.get(ReferralRow, referred)
            assert row is not None and row.outcome == "secondary_inspection"
            assert row.officer_id == DEMO_OFFICER[0]
    finally:
        launched.close()
        # the windows' Qt objects go while the application and its event loop still run
        for window in launched.windows.values():
            window.deleteLater()
        qtbot.wait(200)
