"""GIVEN the Debian package's headless lane unit (kiosk-lane.service) and its command
``kiosk run`` WHEN systemd starts it THEN it is the production kiosk from the installed
configuration: it announces readiness and the lane's state over sd_notify, keeps running out of
service when its devices are missing, and stops cleanly on SIGTERM. The packages carry the
Apache-2.0 text and the NOTICE, and ship only images with a redistribution licence."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEB = ROOT / "packaging" / "deb"


def _ini_values(path: Path, key: str) -> list[str]:
    return [
        line.split("=", 1)[1].strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith(f"{key}=")
    ]


def test_the_lane_unit_runs_kiosk_run_with_the_installed_configuration() -> None:
    unit = DEB / "kiosk" / "kiosk-lane.service"
    (start,) = _ini_values(unit, "ExecStart")
    assert start == "/opt/open-egate/kiosk/bin/kiosk --config /etc/open-egate/kiosk.toml run"
    assert _ini_values(unit, "Type") == ["notify"]
    assert _ini_values(unit, "ExecStartPre") == ["/opt/open-egate/kiosk/bin/kiosk db migrate"]
    assert "kiosk-gate.service" in _ini_values(unit, "Conflicts")[0]
    assert "kiosk-lane.service" in _ini_values(DEB / "kiosk" / "kiosk-gate.service", "Conflicts")[0]
    script = (DEB / "build_debs.sh").read_text(encoding="utf-8")
    assert (
        '"$HERE/kiosk/kiosk-lane.service" "$root/lib/systemd/system/kiosk-lane.service"' in script
    )


def test_kiosk_run_notifies_systemd_and_stops_on_sigterm(tmp_path: Path) -> None:
    # GIVEN a notification socket as systemd gives one, and a configuration naming a serial
    # MRZ reader that is not there
    address = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(address))
    listener.settimeout(60)
    toml = tmp_path / "kiosk.toml"
    toml.write_text(
        f'data_dir = "{tmp_path / "home"}"\n'
        f'[devices.mrz_reader]\ntype = "serial"\nport = "{tmp_path / "no-tty"}"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(NOTIFY_SOCKET=str(address), WATCHDOG_USEC="400000")
    command = [sys.executable, "-m", "kiosk.cli.main", "--config", str(toml), "run"]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    messages: list[str] = []
    try:
        # WHEN it starts THEN it says it is ready, out of service, naming the device
        while not any(m.startswith("READY=1") for m in messages):
            messages.append(listener.recv(4096).decode())
        status = [m for m in messages if m.startswith("STATUS=")]
        assert status and "OUT OF SERVICE" in status[-1] and "mrz_reader" in status[-1]
        # AND it pings the watchdog from its main loop
        while not any(m == "WATCHDOG=1" for m in messages):
            messages.append(listener.recv(4096).decode())
        assert process.poll() is None
        # WHEN systemd stops it THEN it stops cleanly
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
        deadline = time.monotonic() + 10
        while "STOPPING=1" not in messages and time.monotonic() < deadline:
            messages.append(listener.recv(4096).decode())
        assert "STOPPING=1" in messages
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        assert process.stderr is not None
        process.stderr.close()
        listener.close()


def test_the_repository_and_both_packages_carry_the_licence_and_notice() -> None:
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in licence
    assert "END OF TERMS AND CONDITIONS" in licence
    notice = (ROOT / "NOTICE").read_text(encoding="utf-8")
    assert "hardware/sim/profiles/faces" in notice and "MIT License" in notice
    script = (DEB / "build_debs.sh").read_text(encoding="utf-8")
    assert 'install -D -m 0644 LICENSE "$doc/LICENSE"' in script
    assert 'install -D -m 0644 NOTICE "$doc/NOTICE"' in script
    for package in ("open-egate-kiosk", "open-egate-server"):
        assert f'install_licence "$root" {package}' in script


def test_every_shipped_image_has_a_redistribution_licence() -> None:
    # GIVEN every image inside the packages (the wheel ships the packages' data files)
    images = [
        path
        for package in ("kiosk", "hardware", "models", "ui", "server")
        for path in (ROOT / package).rglob("*")
        if path.suffix.lower() in {".jpg", ".jpeg", ".png", ".jp2", ".bmp", ".ppm"}
    ]
    assert images
    for image in images:
        # THEN its folder's provenance names it and an MIT licence (never the LFW set)
        provenance = next(
            (p / "PROVENANCE.md" for p in image.parents if (p / "PROVENANCE.md").exists()), None
        )
        assert provenance is not None, f"{image} has no PROVENANCE.md"
        text = provenance.read_text(encoding="utf-8")
        listed = image.relative_to(provenance.parent).as_posix()
        assert f"| {listed} |" in text, f"{listed} is not listed in {provenance}"
        assert "MIT License" in text and "lfw" not in text.lower()
