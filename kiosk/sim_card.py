"""``kiosk sim card``: put an emulated card on vsmartcard's vpcd reader until told to stop.

``run_sim_card`` is what the command runs once it has built the card from a profile. Without
a command stream it keeps the card inserted until ``stop_event`` is set, plugging it in again
whenever vpcd comes back (pcscd restarted). With one (the terminal), each line is a command:
``insert``, ``remove``, ``status`` or ``quit``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from hardware.sim.vpcd import VirtualCard, VpcdCardLink, VpcdLinkError

log = logging.getLogger(__name__)

RECONNECT_S = 0.5


def run_sim_card(
    card_object: VirtualCard,
    host: str,
    port: int,
    stop_event: threading.Event,
    *,
    commands: Iterable[str] | None = None,
    say: Callable[[str], None] = print,
    connect_timeout_s: float = 5.0,
) -> int:
    """Serve ``card_object`` to vpcd at ``host:port``; return the exit code (2 when vpcd
    cannot be reached)."""
    link = VpcdCardLink(card_object, host, port, connect_timeout_s=connect_timeout_s)
    try:
        if commands is None:
            _keep_inserted(link, stop_event, say)
        else:
            _follow_commands(link, commands, stop_event, say)
    except VpcdLinkError as exc:
        say(f"card: {exc}")
        return 2
    finally:
        link.remove()
    return 0


def _keep_inserted(
    link: VpcdCardLink, stop_event: threading.Event, say: Callable[[str], None]
) -> None:
    link.insert()
    say(f"card inserted into vpcd at {link.host}:{link.port}")
    while not stop_event.wait(RECONNECT_S):
        if link.inserted:
            continue
        link.remove()
        try:
            link.insert()
        except VpcdLinkError:
            continue  # vpcd is still away; try again
        say("vpcd came back: card inserted again")


def _follow_commands(
    link: VpcdCardLink,
    commands: Iterable[str],
    stop_event: threading.Event,
    say: Callable[[str], None],
) -> None:
    link.insert()
    say("card inserted; commands: insert, remove, status, quit")
    for line in commands:
        if stop_event.is_set():
            return
        command = line.strip().lower()
        if command in ("quit", "exit", "q"):
            return
        if command == "insert":
            link.insert()
            say("card inserted")
        elif command == "remove":
            link.remove()
            say("card removed")
        elif command == "status":
            state = "inserted" if link.inserted else "removed"
            say(f"card {state}; {link.apdus_served} APDUs answered")
        elif command:
            say(f"unknown command {command!r}: insert, remove, status, quit")
