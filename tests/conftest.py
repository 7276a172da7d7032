"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
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
# Under pytest-xdist each worker is a process of its own with its own pcscd: a worker always
# takes a socket of its own (the controller's choice reaches the workers through the
# environment).
PCSC_RUN_DIR = Path(tempfile.mkdtemp(prefix="kiosk-test-pcscd-"))
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["PCSCLITE_CSOCK_NAME"] = str(PCSC_RUN_DIR / "pcscd.comm")
else:
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


LEAK_GRACE_S = 15.0
# threads kept for the whole process by design: anyio's and asyncio's idle worker threads (end after
# 10 s idle), the blocking portal schemathesis keeps for its ASGI transport, and the server's
# process-wide health-check pool (server/health.py), started by the first test that needs it
LIBRARY_THREADS = ("AnyIO worker thread", "asyncio-portal-", "asyncio_", "kiosk-health")


def _children_of(parent: int) -> set[int]:
    children: set[int] = set()
    for task in Path(f"/proc/{parent}/task").glob("*/children"):
        try:
            children.update(int(pid) for pid in task.read_text().split())
        except (OSError, ValueError):
            continue
    return children


def _child_processes() -> set[int]:
    """Live (not zombie) child processes of this process, from /proc, but for the helpers
    multiprocessing keeps for the whole session; the face workers forked by multiprocessing's
    fork server (its children) count as this process's own."""
    alive = set()
    for pid in _live(_children_of(os.getpid())):
        if not _shared_helper(pid):
            alive.add(pid)
        elif b"multiprocessing.forkserver" in _command_line(pid):
            alive.update(_live(_children_of(pid)))
    return alive


def _live(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X"):
            alive.add(pid)
    return alive


def _command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _shared_helper(pid: int) -> bool:
    """multiprocessing's forkserver and resource tracker: started once, live with pytest."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return any(name in command for name in (b"multiprocessing.forkserver", b"resource_tracker"))


def _active_qtimers() -> set[int]:
    """Ids of the running QTimers reachable from the QApplication (none without Qt)."""
    qt = sys.modules.get("PySide6.QtWidgets")
    if qt is None:
        return set()
    from PySide6.QtCore import QTimer

    app = qt.QApplication.instance()
    if app is None:
        return set()
    owners = [app, *qt.QApplication.allWidgets()]
    return {id(t) for owner in owners for t in owner.findChildren(QTimer) if t.isActive()}


def _wait_gone(check: Callable[[], list[str]]) -> list[str]:
    deadline = time.monotonic() + LEAK_GRACE_S
    left = check()
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = check()
    return left


@pytest.fixture(autouse=True)
def _no_leaks() -> Iterator[None]:
    """Fail a test that leaves a thread (daemon or not), a running QTimer or a child process
    behind. Fixtures of a wider scope start theirs before this snapshot is taken. What is left
    gets a few seconds to finish (a joined worker may still be unwinding)."""
    threads_before = set(threading.enumerate())
    # a thread that replaces one of the same name (a device restarted by the test) belongs to
    # the owner of the first, a fixture of a wider scope
    names_before = {t.name for t in threads_before}
    children_before = _child_processes()
    # likewise a child process restarted by the test (pcscd stopped and started again): the
    # same program as a child that ran before
    programs_before = {_command_line(pid).split(b"\0")[0] for pid in children_before}
    timers_before = _active_qtimers()
    yield

    def threads() -> list[str]:
        return [
            f"{t.name}{' (daemon)' if t.daemon else ''}"
            for t in threading.enumerate()
            if t not in threads_before
            and t.name not in names_before
            and not t.name.startswith(LIBRARY_THREADS)
            and (t.name.startswith("kiosk") or not t.daemon)  # ours daemon or not; any non-daemon
            and t.is_alive()
        ]

    def children() -> list[str]:
        new = sorted(_child_processes() - children_before)
        return [
            f"pid {pid}" for pid in new if _command_line(pid).split(b"\0")[0] not in programs_before
        ]

    def timers() -> list[str]:
        return [f"QTimer {timer}" for timer in sorted(_active_qtimers() - timers_before)]

    leaked = _wait_gone(threads) + _wait_gone(children) + _wait_gone(timers)
    assert not leaked, f"test left running: {leaked}"


@pytest.fixture(scope="session")
def passports(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Personalised chips of the shipped profiles (``passports.chip_image(name)``) and their
    test PKI (``passports.pki``), built once per test session in a temporary directory."""
    from hardware.sim.passports import PassportFactory

    return PassportFactory(tmp_path_factory.mktemp("sim-cache"))
