"""Start the applications: ``python -m ui traveller|officer|technician|all [--config FILE]``.

* ``traveller`` - the e-gate, full screen, over the real kiosk (``kiosk.app.build_kiosk``).
  With simulated devices (the default configuration) it runs on the demo world (test PKI,
  simulated passports) and opens a rehearsal panel to put passports on the readers.
* ``officer`` - the booth: the central server's referrals when ``sync.server_url`` is set,
  else the kiosk's own; ``--demo`` adds sample referrals and a demo officer account.
* ``technician`` - the console over the configured devices and the kiosk database.
* ``all`` - the three windows in one process, sharing one kiosk.

Start-up work (database, models, PKI) happens before the windows show, so it never freezes
them; the face models are loaded then too (loading them holds the GIL for about a second).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
DEMO_OFFICER = ("officer", "officer-demo")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ui", description=__doc__.split("\n\n")[0])
    parser.add_argument("app", choices=("traveller", "officer", "technician", "all"))
    parser.add_argument("--config", type=Path, default=None, help="kiosk TOML configuration")
    parser.add_argument("--windowed", action="store_true", help="traveller not full screen")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="officer: add sample referrals and the demo officer account",
    )
    return parser


def _officer_source(config: Any, kiosk: Any, demo: bool) -> Any:
    from kiosk.officer.accounts import OfficerAccounts
    from kiosk.officer.local import LocalReferralSource
    from kiosk.officer.remote import HttpReferralSource
    from kiosk.officer.samples import seed_sample_referrals

    if config.sync.server_url and not demo:
        return HttpReferralSource(config.sync.server_url)
    accounts = OfficerAccounts.load(config.data_dir / "officers.json")
    if demo and DEMO_OFFICER[0] not in accounts:
        accounts.add(*DEMO_OFFICER)
    if demo:
        seed_sample_referrals(kiosk.database, kiosk.cipher, kiosk.audit, config.kiosk_id)
        print(f"officer booth demo: sign in as {DEMO_OFFICER[0]} / {DEMO_OFFICER[1]}")
    return LocalReferralSource(
        kiosk.database,
        accounts,
        cipher=kiosk.cipher,
        audit=kiosk.audit,
        face_threshold=config.policy.face_threshold or config.face.threshold,
    )


def run(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from PySide6.QtWidgets import QApplication

    from kiosk.app import KioskRuntime, build_kiosk
    from kiosk.config import load_config
    from kiosk.diagnostics.log_buffer import LogBuffer
    from kiosk.logs import setup_logging
    from models.errors import KioskError

    try:
        config = load_config(args.config)
    except KioskError as exc:
        print(f"configuration: {exc}", file=sys.stderr)
        return 2
    setup_logging(
        config.logging.level, json_lines=config.logging.json_lines, file=config.logging.file
    )
    buffer = LogBuffer()
    buffer.install()
    app = QApplication.instance() or QApplication(sys.argv[:1])

    from kiosk.demo.world import DemoWorld
    from kiosk.face.dlib_models import dlib_models
    from kiosk.session.verification import make_verifier

    simulated = config.devices.chip_reader.type == "simulated"
    if not simulated:
        print(
            "the GUI launcher wires simulated devices; real devices start through the kiosk "
            "service (kiosk.app.KioskRuntime)",
            file=sys.stderr,
        )
        return 2
    world = DemoWorld(config)
    kiosk = build_kiosk(
        config,
        verifier=make_verifier(lambda: world.anchors),
        devices=world._devices(world_default_scenario()),
    )
    runtime = KioskRuntime(kiosk)
    windows: list[Any] = []
    try:
        runtime.start()
        dlib_models()
        if args.app in ("traveller", "all"):
            from ui.rehearsal import RehearsalPanel
            from ui.traveller.window import TravellerWindow

            traveller = TravellerWindow(kiosk.bus, kiosk.devices.camera)
            traveller.resize(1280, 800)
            traveller.show() if args.windowed or args.app == "all" else traveller.showFullScreen()
            panel = RehearsalPanel(world, kiosk)
            panel.show()
            windows += [traveller, panel]
        if args.app in ("officer", "all"):
            from ui.officer.window import OfficerWindow

            officer = OfficerWindow(_officer_source(config, kiosk, args.demo or args.app == "all"))
            officer.resize(1440, 900)
            officer.show()
            windows.append(officer)
        if args.app in ("technician", "all"):
            from ui.technician.window import TechnicianWindow

            d = kiosk.devices
            technician = TechnicianWindow(
                config,
                buffer,
                database=kiosk.database,
                camera=d.camera,
                chip_reader=d.chip_reader,
                mrz_reader=d.mrz_reader,
                gate=d.gate,
            )
            technician.resize(1440, 900)
            technician.show()
            windows.append(technician)
        return int(app.exec())
    finally:
        for window in windows:
            getattr(window, "shutdown", lambda: None)()
            window.close()
        runtime.stop()
        kiosk.close()


def world_default_scenario() -> Any:
    from kiosk.demo.scenarios import scenario

    return scenario("genuine-traveller")


def main() -> int:
    if (
        not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
        and os.environ.get("QT_QPA_PLATFORM") is None
    ):
        print(
            "no display: run `kiosk demo --headless` for the scenarios without windows",
            file=sys.stderr,
        )
        return 2
    return run()
