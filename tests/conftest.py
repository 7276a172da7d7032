"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The PC/SC client library reads PCSCLITE_CSOCK_NAME once per process, at its first call. A
# test that touches pyscard before the PC/SC fixtures start our pcscd (a kiosk built with a
# `pcsc` reader to check it starts out of service, say) would fix the system socket for the
# rest of the session. So the socket of the session's pcscd is chosen here, before any test
# runs; tests/pcsc/conftest.py starts the daemon on exactly that path.
PCSC_RUN_DIR = Path(tempfile.mkdtemp(prefix="kiosk-test-pcscd-"))
os.environ.setdefault("PCSCLITE_CSOCK_NAME", str(PCSC_RUN_DIR / "pcscd.comm"))


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def kiosk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data directory, so no test touches another's database or keys."""
    home = tmp_path / "kiosk-home"
    home.mkdir()
    monkeypatch.setenv("KIOSK_DATA_DIR", str(home))
    return home


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a non-daemon thread of ours running."""
    before = set(threading.enumerate())
    yield
    leaked = [
        t
        for t in threading.enumerate()
        if t not in before and t.is_alive() and not t.daemon and t.name.startswith("kiosk")
    ]
    for t in leaked:
        t.join(timeout=2.0)
    still = [t.name for t in leaked if t.is_alive()]
    assert not still, f"test left threads running: {still}"


@pytest.fixture(scope="session")
def passports(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Personalised chips of the shipped profiles (``passports.chip_image(name)``) and their
    test PKI (``passports.pki``), built once per test session in a temporary directory."""
    from hardware.sim.passports import PassportFactory

    return PassportFactory(tmp_path_factory.mktemp("sim-cache"))
