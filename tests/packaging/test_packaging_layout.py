"""The Debian package specification: control files, conffiles, maintainer scripts, units.

Cheap checks only; `make package-test` builds and installs the real packages in a chroot."""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEB = ROOT / "packaging" / "deb"
PACKAGES = {"kiosk": "open-egate-kiosk", "server": "open-egate-server"}
UNITS = {"kiosk": "kiosk-gate.service", "server": "open-egate-server.service"}
SCRIPTS = ("postinst", "prerm", "postrm")


def render_control(name: str, version: str = "1.2.3-4") -> dict[str, str]:
    text = (DEB / name / "control.in").read_text(encoding="utf-8")
    text = text.replace("@VERSION@", version).replace("@INSTALLED_SIZE@", "1234")
    fields: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if line.startswith(" "):
            fields[key] += "\n" + line
        else:
            key, _, value = line.partition(":")
            assert key not in fields, f"duplicate field {key}"
            fields[key] = value.strip()
    return fields


def installed_paths(name: str) -> set[str]:
    """Absolute paths build_debs.sh installs from packaging/deb/<name>/ into the package."""
    script = (DEB / "build_debs.sh").read_text(encoding="utf-8")
    return set(re.findall(rf'"\$HERE/{name}/[^"]+"\s+(?:\\\s+)?"\$root(/[^"]+)"', script))


def parse_unit(path: Path) -> configparser.RawConfigParser:
    # systemd repeats keys (After=, Environment=): keep them all, newline-joined.
    parser = configparser.RawConfigParser(strict=False, interpolation=None, dict_type=_MultiDict)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


class _MultiDict(dict[str, object]):
    def __setitem__(self, key: str, value: object) -> None:
        if isinstance(value, list) and key in self:
            existing = super().__getitem__(key)
            if isinstance(existing, list):
                existing.extend(value)
                return
        super().__setitem__(key, value)


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_control_renders_with_the_required_fields(name: str) -> None:
    # GIVEN the control template WHEN it is rendered
    fields = render_control(name)
    # THEN it names the package, version, architecture and a description
    assert fields["Package"] == PACKAGES[name]
    assert fields["Version"] == "1.2.3-4"
    assert fields["Architecture"] == "amd64"
    assert fields["Installed-Size"] == "1234"
    assert re.fullmatch(r".+ <[^@>]+@[^>]+>", fields["Maintainer"])
    assert "\n" in fields["Description"]
    assert "@" not in fields["Depends"]


def test_kiosk_declares_its_runtime_dependencies() -> None:
    depends = {d.strip().split(" ")[0] for d in render_control("kiosk")["Depends"].split(",")}
    assert {"pcscd", "libpcsclite1", "python3.11", "adduser", "cage", "libgl1"} <= depends


def test_server_recommends_postgresql() -> None:
    fields = render_control("server")
    assert "postgresql" in fields["Recommends"]
    assert "python3.11" in fields["Depends"]


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_every_file_under_etc_is_a_conffile(name: str) -> None:
    # GIVEN what the builder installs and the conffiles list
    conffiles = set((DEB / name / "conffiles").read_text(encoding="utf-8").split())
    etc_files = {path for path in installed_paths(name) if path.startswith("/etc/")}
    # THEN they are the same files, each of them shipped from packaging/deb
    assert etc_files, "the builder installs no configuration"
    assert conffiles == etc_files


@pytest.mark.parametrize("name", sorted(PACKAGES))
@pytest.mark.parametrize("script", SCRIPTS)
def test_maintainer_scripts_parse_and_pass_shellcheck(name: str, script: str) -> None:
    path = DEB / name / script
    assert path.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
    assert "set -e" in path.read_text(encoding="utf-8")
    assert path.stat().st_mode & 0o111, f"{path} is not executable"
    subprocess.run(["sh", "-n", str(path)], check=True, timeout=10)
    if shutil.which("shellcheck"):
        subprocess.run(["shellcheck", "-s", "sh", str(path)], check=True, timeout=30)


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_maintainer_scripts_cope_without_a_running_systemd(name: str) -> None:
    # systemctl is only called where /run/systemd/system exists (chroots, containers)
    for script in SCRIPTS:
        for line in (DEB / name / script).read_text(encoding="utf-8").splitlines():
            if "systemctl " in line and "command -v" not in line:
                block = (DEB / name / script).read_text(encoding="utf-8")
                assert "[ -d /run/systemd/system ]" in block, f"{script}: unguarded systemctl"


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_postrm_keeps_data_on_remove_and_deletes_it_on_purge(name: str) -> None:
    text = (DEB / name / "postrm").read_text(encoding="utf-8")
    remove, purge = text.split("\nremove)", 1)[1].split("\npurge)", 1)
    assert "rm -rf" not in remove
    assert "rm -rf /var/lib/open-egate" in purge.split(";;", 1)[0]


def test_kiosk_postinst_migrates_and_keeps_keys() -> None:
    text = (DEB / "kiosk" / "postinst").read_text(encoding="utf-8")
    assert text.index("db init-keys") < text.index("db migrate")
    assert "install -d -m 0750 -o egate -g egate" in text
    assert "install -d -m 0700 -o egate -g egate" in text


def test_kiosk_gate_unit_is_locked_down_and_watched() -> None:
    unit = parse_unit(DEB / "kiosk" / UNITS["kiosk"])
    service = unit["Service"]
    assert service["User"] == "egate"
    assert service["Restart"] == "on-failure"
    assert service["Type"] == "notify" and int(service["WatchdogSec"]) > 0
    assert service["NotifyAccess"] == "all"  # the screen is cage's child
    for hardening in ("NoNewPrivileges", "ProtectHome", "PrivateTmp"):
        assert service[hardening] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/open-egate"
    assert {"dialout", "video"} <= set(service["SupplementaryGroups"].split())
    assert service["ExecStart"].endswith(
        "gate_session.py traveller --config /etc/open-egate/kiosk.toml"
    )
    assert service["PAMName"] == "open-egate-gate"
    assert (DEB / "kiosk" / "open-egate-gate.pam").exists()
    assert unit["Install"]["WantedBy"] == "graphical.target"


def test_server_unit_runs_the_server_with_the_installed_configuration() -> None:
    unit = parse_unit(DEB / "server" / UNITS["server"])
    service = unit["Service"]
    assert service["ExecStart"].split() == [
        "/opt/open-egate/server/bin/kiosk",
        "--config",
        "/etc/open-egate/server.toml",
        "server",
        "run",
    ]
    assert service["User"] == "egate-server"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/open-egate-server"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    # the server's own connection cap (max_connections) must bind before the file limit
    from server.config import ServerConfig

    assert int(service["LimitNOFILE"]) > 4 * ServerConfig.model_fields["max_connections"].default


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_units_verify_with_systemd_analyze(name: str, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (the INI checks above still ran)")
    # every unit of the package: kiosk-gate.service and kiosk-lane.service for the kiosk
    units = sorted(str(unit) for unit in (DEB / name).glob("*.service"))
    assert str(DEB / name / UNITS[name]) in units
    result = subprocess.run(
        [analyze, "verify", "--man=no", *units],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Executables under /opt and cage only exist once installed; anything else (an unknown
    # key, a bad value) is a problem.
    missing = re.compile(r"Command \S+ is not executable: No such file or directory")
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and not missing.search(line)
    ]
    assert problems == []


def test_default_configurations_load(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in [name for name in os.environ if name.startswith("KIOSK_")]:
        monkeypatch.delenv(variable)
    # GIVEN the shipped /etc files WHEN the application loads them THEN they are valid
    from kiosk.config import load_config
    from server.config import load_server_config

    kiosk = load_config(DEB / "kiosk" / "kiosk.toml")
    assert str(kiosk.data_dir) == "/var/lib/open-egate"
    assert str(kiosk.storage_key_file).startswith("/etc/open-egate/keys/")
    assert kiosk.devices.camera.type == "simulated"
    server = load_server_config(DEB / "server" / "server.toml")
    assert str(server.data_dir) == "/var/lib/open-egate-server"
    assert server.tls is True


def test_dockerfile_mirrors_the_server_package() -> None:
    text = (ROOT / "packaging" / "server" / "Dockerfile").read_text(encoding="utf-8")
    assert text.count("FROM python:3.11-slim") == 2
    assert "requirements/lock.txt" in text and "uv pip sync" in text
    assert "--no-deps" in text  # the project's wheel, its pins from the lock
    assert "\nUSER egate-server\n" in text
    assert "\nEXPOSE 8443\n" in text
    cmd = re.search(r"^CMD (\[.*\])$", text, re.MULTILINE)
    assert cmd is not None
    unit = parse_unit(DEB / "server" / UNITS["server"])
    assert json.loads(cmd.group(1)) == unit["Service"]["ExecStart"].split()


@pytest.mark.parametrize(
    ("unit_path", "cache"),
    [
        (DEB / "server" / UNITS["server"], "open-egate-server"),
        (DEB / "kiosk" / UNITS["kiosk"], "open-egate"),
        (DEB / "kiosk" / "kiosk-lane.service", "open-egate"),
    ],
)
def test_units_give_numba_a_writable_cache(unit_path: Path, cache: str) -> None:
    # GIVEN a unit whose installed code is read-only (ProtectSystem=strict)
    service = parse_unit(unit_path)["Service"]
    assert service["ProtectSystem"] == "strict"
    # THEN the compiled watchlist loops are cached in the unit's own cache directory
    assert service["CacheDirectory"] == cache
    assert f"NUMBA_CACHE_DIR=/var/cache/{cache}/numba" in str(service["Environment"]).split()
