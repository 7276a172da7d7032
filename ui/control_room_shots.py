"""Screenshots of the officer control room against a real central server (SQLite, TLS on a
loopback port, in this process): the live wall with four lanes in different states, a
watchlist hit open with the listed person, the four-eyes approval, the shift report, and a
family of two referred together (one queue line, one view with a member selector).

Four simulated kiosks are enrolled; each reports its lane through the kiosk's own lane link
(mutual TLS), one syncs the sample referrals (photos included). Called by ``ui.screenshots``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

PASSWORD = "screenshot-only-password"
SITE = "UVF"
LANES = ("gate-01", "gate-02", "gate-03", "gate-04")


def _kiosk(home: Path, server: Any, state: Any, name: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.audit.signing import public_key_pem
    from kiosk.config import load_config
    from server.accounts import enrol_device, write_device_credentials

    audit_key = public_key_pem(Ed25519PrivateKey.generate().public_key())
    enrolled = enrol_device(
        state.database, state.ca, name, days=2, audit_public_key_pem=audit_key, site=SITE
    )
    creds = home / f"{name}-credentials"
    write_device_credentials(enrolled, creds, server.url)
    return load_config(
        data_dir=home / name,
        kiosk_id=name,
        site=SITE,
        sync={
            "server_url": server.url,
            "client_cert": str(creds / "kiosk.pem"),
            "client_key": str(creds / "kiosk.key"),
            "ca_cert": str(creds / "ca.pem"),
        },
        wall={"commands_wait_s": 1},
    )


def control_room_shots(
    app: object,
    out: Path,
    home: Path,
    settle: Callable[[object, int], None],
    wait: Callable[..., None],
    size: tuple[int, int],
) -> list[Path]:
    from kiosk.lane import Lane, LaneCause
    from kiosk.officer.families import FamilyKey
    from kiosk.officer.remote import HttpReferralSource
    from kiosk.officer.samples import sample_family, seed_sample_referrals
    from kiosk.session.events import EventBus, State, StateEntered
    from kiosk.storage.crypto_store import BlobCipher
    from kiosk.storage.database import open_database
    from kiosk.storage.recorder import record_transactions
    from kiosk.sync.client import ServerClient
    from kiosk.sync.lane_link import LaneLink
    from kiosk.sync.service import SyncService
    from models.records import ReferralOutcome
    from server.accounts import add_user
    from server.app import build_state
    from server.config import ServerConfig
    from server.runner import ServerThread
    from server.security.tokens import Role
    from ui.officer.window import OfficerWindow

    config = ServerConfig(
        data_dir=home / "control-server",
        database_url=f"sqlite:///{home / 'control-server.db'}",
        port=0,
    )
    state = build_state(config)
    for name in ("officer1", "officer2"):
        add_user(state.database, name, Role.OFFICER, PASSWORD, site=SITE)
    server = ServerThread(config, state=state).start()
    links: list[LaneLink] = []
    written: list[Path] = []
    window: OfficerWindow | None = None
    try:
        kiosks = [_kiosk(home, server, state, name) for name in LANES]
        buses = []
        for kiosk in kiosks:
            lane, bus = Lane(), EventBus()
            link = LaneLink(kiosk, lane)
            link.door = "closed"
            links.append(link.start(bus.subscribe))
            buses.append(bus)
        # four lanes, four states: a traveller at the camera, a hit waiting, a device fault,
        # doors released after an emergency with an assistance call
        buses[0].publish(StateEntered("t-a", State.FACE_CAPTURE))
        buses[1].publish(StateEntered("t-b", State.REFER))
        links[2].lane.set(LaneCause.DEVICE_FAULT, "camera: no frames", key="camera")
        links[3].lane.set(LaneCause.EMERGENCY, "doors released", key="gate")
        links[3].door = "emergency"
        links[3].request_assistance()
        database = open_database(kiosks[1])
        cipher = BlobCipher(bytes(range(32)))
        seed_sample_referrals(database, cipher, None, LANES[1])
        with ServerClient(kiosks[1].sync) as client:
            SyncService(kiosks[1], database, client, cipher=cipher).run_once()
        database.close()

        source = HttpReferralSource(server.url, verify=str(state.ca.cert_path), face_threshold=0.6)
        window = OfficerWindow(source, undo_ms=300, confirm=lambda _n, _r: True)
        window.resize(*size)
        window.show()
        window.login("officer1", PASSWORD)
        wait(app, lambda: window is not None and window.queue.count() == 2)
        wait(app, lambda: len(window.wall.tiles) == 4 and window.wall.alarm.isVisible())
        window.tabs.setCurrentWidget(window.wall)
        settle(app, 400)
        written.append(_grab(window, out / "officer-wall-en.png"))

        window.tabs.setCurrentWidget(window.referral_page)
        hit = window.referrals[0].key
        window.open_referral(hit)
        wait(app, lambda: window.view.detail is not None and window.view.detail.summary.hit)
        settle(app, 600)  # the load started by the queue's own selection lands too
        admit = window.view.buttons[ReferralOutcome.ADMITTED]
        note = "Listed person born 1987-03; passport says 1987-03-14."
        for _ in range(5):  # a load that lands late shows the referral afresh (no note)
            window.view.note.setPlainText(note)
            wait(app, admit.isEnabled)
            settle(app, 300)
            if admit.isEnabled() and window.view.note.toPlainText() == note:
                break
        written.append(_grab(window, out / "officer-hit-en.png"))

        admit.click()
        wait(app, lambda: window.approval_dialog is not None)
        dialog = window.approval_dialog
        assert dialog is not None
        dialog.username.setText("officer2")
        dialog.password.setText("••••••••••")
        dialog.note.setPlainText("Birth date and nationality checked on the data page.")
        dialog.resize(560, 320)
        settle(app, 300)
        written.append(_grab(dialog, out / "officer-four-eyes-en.png"))
        dialog.reject()
        window.approve_with(hit, "officer2", PASSWORD, True, "Birth date checked.")
        wait(app, lambda: window.queue.count() == 1)
        assert window.session is not None
        mismatch = window.referrals[0].key
        # shows (and audits) the photos, then refuses
        source.referral(window.session, mismatch.transaction_id, kiosk_id=mismatch.kiosk_id)
        source.resolve(window.session, mismatch.transaction_id, ReferralOutcome.REFUSED,
                       "Not the holder.", kiosk_id=mismatch.kiosk_id)  # fmt: skip
        window.tabs.setCurrentWidget(window.history)
        wait(app, lambda: window.history.table.rowCount() == 2)
        settle(app, 300)
        written.append(_grab(window, out / "officer-history-en.png"))
        window.tabs.setCurrentWidget(window.report)
        wait(app, lambda: window.report.by_reason.rowCount() == 2)
        settle(app, 300)
        written.append(_grab(window, out / "officer-shift-report-en.png"))
        window.set_language("fr")
        window.tabs.setCurrentWidget(window.wall)
        settle(app, 300)
        written.append(_grab(window, out / "officer-wall-fr.png"))

        # a family of two referred together: one line, one view, the second member open
        window.set_language("en")
        database = open_database(kiosks[1])
        record_transactions(database, sample_family(LANES[1], cipher), cipher=cipher)
        with ServerClient(kiosks[1].sync) as client:
            SyncService(kiosks[1], database, client, cipher=cipher).run_once()
        database.close()
        window.tabs.setCurrentWidget(window.referral_page)
        window.refresh()

        def family_row() -> int:
            keys = window.queue_panel.keys()
            return next((i for i, k in enumerate(keys) if isinstance(k, FamilyKey)), -1)

        wait(app, lambda: family_row() >= 0)
        window.queue.setCurrentRow(family_row())
        wait(app, lambda: len(window.view.members) == 2)
        window.view.member_bar.setCurrentIndex(1)
        window.view.note.setPlainText(
            "Travelling together; the second passport's photo is not this traveller."
        )
        settle(app, 400)
        written.append(_grab(window, out / "officer-family-en.png"))
    finally:
        if window is not None:
            window.shutdown()
            window.close()
        for link in links:
            link.close()
        server.stop()
        state.database.close()
    return written


def _grab(widget: Any, path: Path) -> Path:
    widget.grab().save(str(path))
    return path
