"""``kiosk server enrol-device`` writes a kiosk's credentials (key 0600, certificate with
CN=NAME from the device CA, CA, config snippet) and needs the kiosk's audit key;
``add-user`` reads the password; accounts are disabled, reset and removed, never below two
administrators; ``signing-key`` prints the key kiosks pin."""

from __future__ import annotations

import io
import stat
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from kiosk.audit.signing import load_signing_key, public_key_pem
from kiosk.cli.main import main
from kiosk.config import load_config


def test_enrol_device_and_add_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in __import__("os").environ if n.startswith("KIOSK_")]:
        monkeypatch.delenv(name)
    server_dir = tmp_path / "srv"
    out = tmp_path / "creds"
    # GIVEN the kiosk's audit key (as `kiosk db init-keys` makes it on the kiosk)
    audit_key = tmp_path / "audit-signing.pem"
    load_signing_key(audit_key)
    # WHEN a device is enrolled without it, THEN that is refused (no trust on first use)
    with pytest.raises(SystemExit):
        main(["server", "--data-dir", str(server_dir), "enrol-device", "gate-7",
              "--out", str(out)])  # fmt: skip
    # WHEN a device is enrolled with it
    assert main(["server", "--data-dir", str(server_dir), "enrol-device", "gate-7",
                 "--out", str(out), "--audit-public-key", str(audit_key)]) == 0  # fmt: skip
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


def test_accounts_are_managed_and_two_administrators_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [n for n in __import__("os").environ if n.startswith("KIOSK_")]:
        monkeypatch.delenv(name)
    base = ["server", "--data-dir", str(tmp_path / "srv")]

    def run(*args: str, stdin: str = "") -> int:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return main([*base, *args])

    # GIVEN two administrators and an officer
    for user, role in (("ada", "administrator"), ("ben", "administrator"), ("oli", "officer")):
        assert run("add-user", user, "--role", role, stdin="a-long-password-1\n") == 0
    # WHEN the officer is disabled, enabled, given a new password and removed: THEN done
    assert run("disable-user", "oli") == 0 and run("enable-user", "oli") == 0
    assert run("reset-password", "oli", stdin="another-long-password\n") == 0
    assert run("remove-user", "oli") == 0
    assert run("remove-user", "oli") == 1  # gone
    # AND an administrator cannot be removed or disabled while only two are left
    assert run("remove-user", "ada") == 1 and run("disable-user", "ben") == 1
    # AND with a third one, one of them can be removed
    assert run("add-user", "cid", "--role", "administrator", stdin="a-long-password-1\n") == 0
    assert run("remove-user", "ada") == 0
    capsys.readouterr()
    assert run("signing-key") == 0
    assert capsys.readouterr().out.startswith("-----BEGIN PUBLIC KEY-----")


def test_a_kiosk_prints_the_audit_key_its_enrolment_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [n for n in __import__("os").environ if n.startswith("KIOSK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "kiosk"))
    # WHEN the kiosk prints its audit public key and the server enrols it with that
    assert main(["sync", "audit-key"]) == 0
    public = tmp_path / "audit.pub"
    public.write_text(capsys.readouterr().out, encoding="ascii")
    enrol = ["enrol-device", "gate-8", "--out", str(tmp_path / "creds")]
    server = ["server", "--data-dir", str(tmp_path / "srv")]
    assert main([*server, *enrol, "--audit-public-key", str(public)]) == 0
    # THEN the key is the kiosk's own, and no private key was printed
    kiosk_key = load_signing_key(tmp_path / "kiosk" / "audit-signing.pem", create=False)
    assert public.read_text() == public_key_pem(kiosk_key.public_key())
    assert "PRIVATE" not in public.read_text()
