"""packaging/deb/kiosk/gate_session.py: readiness and watchdog pings from the GUI thread."""

from __future__ import annotations

import importlib.util
import socket
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "packaging" / "deb" / "kiosk" / "gate_session.py"


def load_gate_session() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gate_session_under_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"WATCHDOG_USEC": "30000000"}, 15_000),
        ({"WATCHDOG_USEC": "100"}, 100),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval_is_half_of_systemds(environ: dict[str, str], expected: Any) -> None:
    assert load_gate_session().watchdog_interval_ms(environ) == expected


def test_notify_sender_delivers_a_datagram(tmp_path: Path) -> None:
    # GIVEN a notification socket like systemd's
    address = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(address)
        server.settimeout(5)
        # WHEN a message is sent THEN it arrives unchanged
        load_gate_session().notify_sender(address)(b"READY=1")
        assert server.recv(256) == b"READY=1"


def test_notify_sender_ignores_a_vanished_socket(tmp_path: Path) -> None:
    load_gate_session().notify_sender(str(tmp_path / "nobody-listens"))(b"WATCHDOG=1")


@pytest.mark.gui
def test_event_loop_announces_readiness_and_pings_from_the_gui_thread(qapp: Any) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    # GIVEN the watchdog installed with a short interval
    sent: list[tuple[bytes, bool]] = []

    def send(message: bytes) -> None:
        sent.append((message, threading.current_thread() is threading.main_thread()))

    original = QApplication.exec
    restore = load_gate_session().install(send, 20)
    try:
        # WHEN the screen's event loop runs for a moment
        QTimer.singleShot(200, qapp.quit)
        assert qapp.exec() == 0
    finally:
        restore()
    # THEN readiness came first, then pings, all from the GUI thread, and the original
    # exec is back
    messages = [message for message, _ in sent]
    assert messages[0].startswith(b"READY=1")
    assert messages.count(b"WATCHDOG=1") >= 3
    assert messages[-1] == b"STOPPING=1"
    assert all(on_gui_thread for _, on_gui_thread in sent)
    assert QApplication.exec is original
