"""Start a kiosk screen (``python -m ui ...``) under systemd's service watchdog.

Installed as /opt/open-egate/kiosk/libexec/gate_session.py; kiosk-gate.service runs
``cage -s -- python gate_session.py traveller --config ...``. When systemd gives a
notification socket (``Type=notify``, ``NotifyAccess=all``: the screen is a child of cage),
the Qt event loop sends ``READY=1`` as it starts and ``WATCHDOG=1`` every half
``WatchdogSec`` from a QTimer on the GUI thread. A screen whose GUI thread hangs stops
pinging, and systemd restarts the session. Without a socket (a technician running it by
hand) it simply runs the screen.
"""

from __future__ import annotations

import os
import runpy
import socket
import sys
from collections.abc import Callable, Sequence

Send = Callable[[bytes], None]


def notify_sender(address: str) -> Send:
    """A function that sends one sd_notify datagram to ``address`` (``@`` = abstract)."""
    target = "\0" + address[1:] if address.startswith("@") else address

    def send(message: bytes) -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            try:
                sock.sendto(message, target)
            except OSError:
                pass  # systemd gone or restarting: nothing useful to do from here

    return send


def watchdog_interval_ms(environ: dict[str, str]) -> int | None:
    """Half of systemd's WATCHDOG_USEC in milliseconds, or None when there is no watchdog."""
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return max(usec // 2000, 100) if usec > 0 else None


def install(send: Send, interval_ms: int | None) -> Callable[[], None]:
    """Make ``QApplication.exec`` announce readiness and ping the watchdog from the GUI thread.

    Returns a function that restores the original ``exec``."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    original = QApplication.exec

    def exec_with_notifications(*_args: object) -> int:
        timer = None
        if interval_ms is not None:
            timer = QTimer()  # on the GUI thread: exec() runs there
            timer.setObjectName("kiosk-watchdog")
            timer.setInterval(interval_ms)
            timer.timeout.connect(lambda: send(b"WATCHDOG=1"))
            timer.start()
        QTimer.singleShot(0, lambda: send(b"READY=1\nSTATUS=screen running"))
        try:
            return int(original())
        finally:
            if timer is not None:
                timer.stop()
            send(b"STOPPING=1")

    QApplication.exec = exec_with_notifications  # type: ignore[method-assign]

    def restore() -> None:
        QApplication.exec = original  # type: ignore[method-assign]

    return restore


def main(argv: Sequence[str]) -> None:
    address = os.environ.get("NOTIFY_SOCKET")
    if address:
        install(notify_sender(address), watchdog_interval_ms(dict(os.environ)))
    sys.argv = ["ui", *argv]
    runpy.run_module("ui", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
