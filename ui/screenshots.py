"""Render every main screen of the three applications into PNG files, offscreen.

    python -m ui.screenshots OUTDIR

Traveller screens in every language (plus the large-text and high-contrast modes), the
officer booth (login, queue with a referral open; the control room against a real server on
loopback: the live wall of four lanes, a hit, the four-eyes approval, the shift report) and the
technician console (each tab), in English. Devices are simulated; the officer's referrals are
the sample referrals of ``kiosk.officer.samples`` (a fictitious traveller), in a throw-away
database.
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SIZE = (1280, 800)
DESK_SIZE = (1440, 900)


def _settle(app: object, ms: int = 150) -> None:
    from PySide6.QtWidgets import QApplication

    assert isinstance(app, QApplication)
    deadline = time.monotonic() + ms / 1000
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)


def _wait(app: object, condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        _settle(app, 30)


def traveller_shots(app: object, out: Path, camera: object) -> list[Path]:
    from kiosk.assistance import Assistance
    from kiosk.session.events import EventBus
    from ui.i18n import LANGUAGES
    from ui.traveller.screen_map import SCREENS
    from ui.traveller.screens import CameraScreen
    from ui.traveller.window import TravellerWindow

    written = []
    assistance = Assistance()
    window = TravellerWindow(EventBus(), camera, assistance=assistance)  # type: ignore[arg-type]
    window.resize(*SIZE)
    window.show()
    try:
        for language in LANGUAGES:
            window.set_language(language)
            for name in SCREENS:
                if name == "family_next":
                    continue  # shown with its progress by family_shots
                window.show_screen(name)
                screen = window.screens[name]
                if isinstance(screen, CameraScreen):
                    _wait(app, lambda s=screen: s.preview.image is not None, 10)  # type: ignore[misc]
                    window.on_guidance("move_closer" if name == "camera" else "hold_still", "")
                if name == "chip":
                    window.on_progress("chip", 0.6)
                _settle(app)
                path = out / f"traveller-{name}-{language}.png"
                window.grab().save(str(path))
                written.append(path)
        for language in LANGUAGES:  # the Help button pressed: help is coming
            window.set_language(language)
            window.show_screen("camera")
            window.on_assistance(assistance.call("camera"))
            _settle(app)
            path = out / f"traveller-help-{language}.png"
            window.grab().save(str(path))
            written.append(path)
            window.on_assistance(assistance.acknowledge("screenshot"))
            window.show_screen("passport")  # nobody touched the screen: more time?
            window._idle()
            _settle(app)
            path = out / f"traveller-more-time-{language}.png"
            window.grab().save(str(path))
            written.append(path)
            window.grant_more_time()
            window.show_screen("camera")  # the accessibility options open
            window.show_options(True)
            _settle(app)
            path = out / f"traveller-options-{language}.png"
            window.grab().save(str(path))
            written.append(path)
            window.show_options(False)
        window.set_language("en")
        window.set_low_reach(True)  # the seated / low-reach layout
        for name in ("welcome", "camera"):
            window.show_screen(name)
            _settle(app)
            path = out / f"traveller-{name}-en-seated.png"
            window.grab().save(str(path))
            written.append(path)
        window.set_low_reach(False)
        for mode, setter in (
            ("large-text", window.set_large_text),
            ("high-contrast", window.set_high_contrast),
        ):
            setter(True)
            for name in ("welcome", "passport", "camera", "proceed"):
                window.show_screen(name)
                _settle(app)
                path = out / f"traveller-{name}-en-{mode}.png"
                window.grab().save(str(path))
                written.append(path)
            setter(False)
    finally:
        window.close()
    return written + family_shots(app, out, camera)


def family_shots(app: object, out: Path, camera: object) -> list[Path]:
    """A deployment that admits families: the welcome screen's choice, the chosen size, and
    the "Family: next passport" screen with its progress, in every language."""
    from typing import Any

    from kiosk.policy.config import PolicyConfig
    from kiosk.policy.engine import PolicyEngine
    from kiosk.session.engine import SessionEngine
    from kiosk.session.events import EventBus
    from ui.i18n import LANGUAGES
    from ui.traveller.window import TravellerWindow

    pipeline: Any = None  # nothing is read: the screens only
    engine = SessionEngine(pipeline, PolicyEngine(PolicyConfig(family_max_members=4)))
    engine.group_passage = True
    window = TravellerWindow(EventBus(), camera, engine=engine)  # type: ignore[arg-type]
    window.resize(*SIZE)
    window.show()
    written = []
    try:
        for language in LANGUAGES:
            window.reset_to_welcome()
            window.set_language(language)
            window.family.choice.open_button.setChecked(True)
            _settle(app)
            for name in ("family-choice", "family-chosen", "family-next"):
                if name == "family-chosen":
                    window.family.choose(3)
                elif name == "family-next":
                    window.family.on_progress(2, 3)
                    window.show_screen("family_next")
                _settle(app)
                path = out / f"traveller-{name}-{language}.png"
                window.grab().save(str(path))
                written.append(path)
    finally:
        window.close()
    return written


def officer_shots(app: object, out: Path, home: Path) -> list[Path]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.audit.log import AuditLog
    from kiosk.config import load_config
    from kiosk.officer.accounts import OfficerAccounts
    from kiosk.officer.local import LocalReferralSource
    from kiosk.officer.samples import seed_sample_referrals
    from kiosk.storage.crypto_store import BlobCipher
    from kiosk.storage.database import open_database
    from ui.officer.window import OfficerWindow

    config = load_config(data_dir=home / "officer", kiosk_id="gate-03")
    database = open_database(config)
    cipher = BlobCipher(base64.b64decode(base64.b64encode(os.urandom(32))))
    audit = AuditLog(Ed25519PrivateKey.generate(), kiosk_id="gate-03")
    seed_sample_referrals(database, cipher, audit, "gate-03")
    accounts = OfficerAccounts()
    accounts.add("officer1", "screenshot-only")
    source = LocalReferralSource(database, accounts, cipher=cipher, audit=audit, face_threshold=0.6)
    window = OfficerWindow(source, confirm=lambda _name, _reasons: False)
    window.resize(*DESK_SIZE)
    window.show()
    written = []
    try:
        _settle(app)
        window.login_page.username.setText("officer1")
        path = out / "officer-login-en.png"
        window.grab().save(str(path))
        written.append(path)
        window.login("officer1", "screenshot-only")
        _wait(app, lambda: window.queue.count() > 0)
        hit_row = next(i for i, r in enumerate(window.referrals) if r.hit)
        for row, name in (
            (1 - hit_row, "officer-referral-mismatch-en.png"),
            (hit_row, "officer-referral-watchlist-en.png"),
        ):
            window.queue.setCurrentRow(row)
            _wait(
                app,
                lambda r=row: (
                    window.view.detail is not None  # type: ignore[misc]
                    and window.view.detail.summary.transaction_id
                    == window.referrals[r].transaction_id
                ),
            )
            _settle(app, 400)
            if row == hit_row:
                window.view.note.setPlainText(
                    "Watchlist candidate: date of birth differs; "
                    "refer to secondary for identity check."
                )
            _settle(app)
            path = out / name
            window.grab().save(str(path))
            written.append(path)
    finally:
        window.close()
        database.close()
    return written


def technician_shots(app: object, out: Path, home: Path, camera: object) -> list[Path]:
    from hardware.config import SimulatedGateConfig
    from hardware.sim.chip_reader import SimulatedChipReader
    from hardware.sim.gate import SimulatedGate
    from hardware.sim.mrz_reader import SimulatedMrzReader
    from kiosk.config import load_config
    from kiosk.diagnostics.log_buffer import LogBuffer
    from kiosk.storage.database import open_database
    from ui.technician.window import TechnicianWindow

    config = load_config(data_dir=home / "technician", kiosk_id="gate-03")
    database = open_database(config)
    buffer = LogBuffer()
    detach = buffer.install()
    logging.getLogger().setLevel(logging.INFO)
    gate = SimulatedGate(SimulatedGateConfig())
    gate.open()
    reader = SimulatedMrzReader()
    reader.open()
    window = TechnicianWindow(
        config,
        buffer,
        database=database,
        camera=camera,  # type: ignore[arg-type]
        chip_reader=SimulatedChipReader(),
        mrz_reader=reader,
        gate=gate,
    )
    window.resize(*DESK_SIZE)
    window.show()
    written = []
    try:
        window.devices_tab.run_all()
        _wait(app, lambda: len(window.devices_tab.results) == 4, 30)
        _wait(app, lambda: window.devices_tab.table.rowCount() == 4, 5)
        _settle(app, 300)
        for index, name in enumerate(("devices", "logs", "health", "trust", "configuration")):
            window.tabs.setCurrentIndex(index)
            _settle(app)
            path = out / f"technician-{name}-en.png"
            window.grab().save(str(path))
            written.append(path)
    finally:
        window.close()
        reader.close()
        gate.close()
        detach()
        database.close()
    return written


def _optimise(path: Path) -> None:
    """Re-encode losslessly with Pillow's optimiser (smaller files in the repository)."""
    from PIL import Image

    with Image.open(path) as image:
        picture = image.convert("RGB")
    picture.save(path, format="PNG", optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui.screenshots", description=__doc__)
    parser.add_argument("outdir", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from hardware.config import SimulatedCameraConfig
    from hardware.sim.camera import SimulatedCamera
    from kiosk.officer.samples import FACES
    from ui.control_room_shots import control_room_shots

    out: Path = args.outdir
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    camera = SimulatedCamera(SimulatedCameraConfig(face_image=FACES / "rose_1.jpg"))
    camera.start()
    camera.wait_frame(timeout_s=20)
    written: list[Path] = []
    try:
        with tempfile.TemporaryDirectory() as home:
            written += traveller_shots(app, out, camera)
            written += officer_shots(app, out, Path(home))
            written += control_room_shots(app, out, Path(home), _settle, _wait, DESK_SIZE)
            written += technician_shots(app, out, Path(home), camera)
    finally:
        camera.stop()
    for path in written:
        _optimise(path)
        print(path)
    total = sum(path.stat().st_size for path in written)
    print(f"{len(written)} screenshots in {out} ({total / 1e6:.1f} MB)")
    # every window's Qt objects go while the application still runs (not at interpreter exit)
    for widget in QApplication.topLevelWidgets():
        widget.deleteLater()
    _settle(app, 300)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
