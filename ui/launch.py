"""Start the applications: ``python -m ui traveller|officer|technician|all [--config FILE]``.

* ``traveller`` - the e-gate, full screen, over the production kiosk built from the
  configuration by ``kiosk.app.build_kiosk`` (the drivers it names, the trust store, the
  stored lists); the packaged service starts this. While the lane is out of service it shows
  the closed screen. With simulated chip and MRZ readers it also opens a rehearsal panel.
* ``officer`` - the booth: the central server's referrals when ``sync.server_url`` is set,
  else the kiosk's own; ``--demo`` adds sample referrals and a demo officer account.
* ``technician`` - the console over the configured devices and the kiosk database.
* ``all`` - the three windows in one process, sharing one kiosk.

``--demo`` (``make demo``) is a configuration of the same kiosk: simulated devices, the test
PKI imported into the kiosk's trust store, the demo's lists; it starts the central server
embedded on a loopback port (SQLite and device CA under ``<data_dir>/demo-server``), enrols
the kiosk, creates the demo officer and points the kiosk's sync and the officer booth at it;
sample referrals are recorded and reach the booth through the server like real ones.

Start-up work (database, models, PKI) happens before the windows show, so it never freezes
them; the face models are loaded then too (loading them holds the GIL for about a second).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ui", description=__doc__.split("\n\n")[0])
    parser.add_argument("app", choices=("traveller", "officer", "technician", "all"))
    parser.add_argument("--config", type=Path, default=None, help="kiosk TOML configuration")
    parser.add_argument("--windowed", action="store_true", help="traveller not full screen")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="embedded central server, demo officer account and sample referrals",
    )
    return parser


def _officer_source(config: Any, kiosk: Any, demo: bool) -> Any:
    from kiosk.demo.embedded_server import DEMO_OFFICER
    from kiosk.officer.accounts import OfficerAccounts
    from kiosk.officer.local import LocalReferralSource
    from kiosk.officer.remote import HttpReferralSource
    from kiosk.officer.samples import seed_sample_referrals

    threshold = config.face_threshold
    if demo:
        seed_sample_referrals(kiosk.database, kiosk.cipher, kiosk.audit, config.kiosk_id)
        print(f"officer booth demo: sign in as {DEMO_OFFICER[0]} / {DEMO_OFFICER[1]}")
    if config.sync.server_url:
        ca = str(config.sync.ca_cert) if config.sync.ca_cert else True
        return HttpReferralSource(config.sync.server_url, verify=ca, face_threshold=threshold)
    accounts = OfficerAccounts.load(config.data_dir / "officers.json")
    if demo and DEMO_OFFICER[0] not in accounts:
        accounts.add(*DEMO_OFFICER)
    return LocalReferralSource(
        kiosk.database, accounts, cipher=kiosk.cipher, audit=kiosk.audit, face_threshold=threshold
    )


@dataclass
class Launched:
    """What :func:`launch` opened, closed in reverse order by :meth:`close`."""

    kiosk: Any
    runtime: Any
    server: Any = None
    world: Any = None
    windows: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        try:
            for window in self.windows.values():
                getattr(window, "shutdown", lambda: None)()
                window.close()
            self.runtime.stop()
            self.kiosk.close()
        finally:
            if self.server is not None:
                self.server.stop()


def _simulated_readers(config: Any) -> bool:
    devices = config.devices
    return bool(devices.chip_reader.type == "simulated" and devices.mrz_reader.type == "simulated")


def launch(args: argparse.Namespace, config: Any, buffer: Any) -> Launched:
    """Start the production kiosk from ``config`` (``kiosk.app.build_kiosk``, whatever drivers
    it names) and show the windows ``args.app`` asks for.

    ``--demo`` is a configuration of the same kiosk: the embedded central server, simulated
    devices, and the test PKI imported into the kiosk's trust store (as an operator imports a
    master list), with the demo's screening lists."""
    from kiosk.app import KioskRuntime, build_kiosk
    from kiosk.face.dlib_models import dlib_models

    server = world = None
    try:
        if args.demo:
            from kiosk.demo.embedded_server import EmbeddedServer
            from kiosk.demo.world import DemoWorld

            server = EmbeddedServer(
                config.data_dir / "demo-server",
                config.kiosk_id,
                audit_key_file=config.audit_key_file,
            ).start()
            config = server.kiosk_config(config)
            print(f"demo: central server on {server.url} (kiosk {config.kiosk_id} enrolled)")
            world = DemoWorld(config)
            config = world.kiosk_config(world_default_scenario())
        elif _simulated_readers(config):
            from kiosk.demo.world import DemoWorld

            # Rehearsal passports for the technician; nothing enters the trust store.
            world = DemoWorld(config, import_trust=False)
        # The windows share this process: dlib must run in worker processes, or it would hold
        # the interpreter lock and freeze the screen while it computes.
        config = config.model_copy(
            update={"face": config.face.model_copy(update={"matcher_process": True})}
        )
        kiosk = build_kiosk(config)
    except BaseException:
        if server is not None:
            server.stop()
        raise
    launched = Launched(kiosk, KioskRuntime(kiosk), server, world)
    try:
        if args.demo and world is not None:
            world._lists(kiosk, world_default_scenario())
        launched.runtime.start()
        dlib_models()
        _show_windows(args, config, buffer, launched)
    except BaseException:
        launched.close()
        raise
    return launched


def _show_windows(args: argparse.Namespace, config: Any, buffer: Any, launched: Launched) -> None:
    kiosk, windows = launched.kiosk, launched.windows
    if args.app in ("traveller", "all"):
        from ui.traveller.window import TravellerWindow

        traveller = TravellerWindow(
            kiosk.bus,
            kiosk.devices.camera,
            voice=kiosk.voice,
            officer_directions=kiosk.config.traveller.officer_directions,
            assistance=kiosk.assistance,
            language_by_nationality=kiosk.config.traveller.language_by_nationality,
            engine=kiosk.engine,
        )
        traveller.follow_lane(kiosk.lane)
        windows["traveller"] = traveller
        traveller.resize(1280, 800)
        traveller.show() if args.windowed or args.app == "all" else traveller.showFullScreen()
        if launched.world is not None:
            from ui.rehearsal import RehearsalPanel

            windows["rehearsal"] = RehearsalPanel(launched.world, kiosk, demo=args.demo)
            windows["rehearsal"].show()
    if args.app in ("officer", "all"):
        from ui.officer.window import OfficerWindow

        source = _officer_source(config, kiosk, args.demo or args.app == "all")
        windows["officer"] = OfficerWindow(source)
        windows["officer"].resize(1440, 900)
        windows["officer"].show()
    if args.app in ("technician", "all"):
        from ui.technician.window import TechnicianWindow

        windows["technician"] = TechnicianWindow.for_kiosk(kiosk, buffer)
        windows["technician"].resize(1440, 900)
        windows["technician"].show()


def run(argv: list[str] | None = None) -> int:
    from ui import stop_signals

    stop = stop_signals.install()  # first: a stop at any moment of start-up closes cleanly
    try:
        return _run(argv, stop)
    finally:
        stop.close()


def _run(argv: list[str] | None, stop: Any) -> int:
    args = _parser().parse_args(argv)
    from PySide6.QtWidgets import QApplication

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
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per sync request otherwise
    buffer = LogBuffer()
    buffer.install()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    try:
        launched = launch(args, config, buffer)
    except KioskError as exc:
        print(f"start-up: {exc.user_message} ({exc.code}): {exc}", file=sys.stderr)
        return 1
    try:
        if stop.requested:  # asked to stop while starting: close what was started
            return 0
        stop.attach(app)
        return int(app.exec())
    finally:
        launched.close()


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
            "no display: run `kiosk demo --headless --all` for the scenarios without windows",
            file=sys.stderr,
        )
        return 2
    return run()
