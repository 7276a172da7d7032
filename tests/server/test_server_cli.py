"""``kiosk server enrol-device`` writes a kiosk's credentials (key 0600, certificate with
CN=NAME from the device CA, CA, config snippet); ``add-user`` reads the password."""

from __future__ import annotations

import io
import stat
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from kiosk.cli.main import main
from kiosk.config import load_config


def test_enrol_device_and_add_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in __import__("os").environ if n.startswith("KIOSK_")]:
        monkeypatch.delenv(name)
    server_dir = tmp_path / "srv"
    out = tmp_path / "creds"
    # WHEN a device is enrolled
    assert main(["server", "--data-dir", str(server_dir), "enrol-device", "gate-7",
                 "--out", str(out)]) == 0  # fmt: skip
    # THEN its key is private, its certificate names it and chains to the CA
    assert stat.S_IMODE((out / "kiosk.key").stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate((out / "kiosk.pem").read_bytes())
    ca = x509.load_pem_x509_certificate((out / "ca.pem").read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "gate-7"
    cert.verify_directly_issued_by(ca)
    config = load_config(out / "sync.toml", data_dir=tmp_path / "kiosk")
    assert config.kiosk_id == "gate-7" and config.sync.client_cert == (out / "kiosk.pem").resolve()
    # AND a user is added with a password from stdin; a short one is refused
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-password-1\n"))
    assert main(["server", "--data-dir", str(server_dir), "add-user", "anna",
                 "--role", "officer"]) == 0  # fmt: skip
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["server", "--data-dir", str(server_dir), "add-user", "bob",
                 "--role", "officer"]) == 2  # fmt: skip
