"""A simulated gate relay board on a pseudo-terminal: the board side of the serial gate line
protocol (docs/GATE_PROTOCOL.md), door watchdog included.

:class:`SimulatedGateBoard` opens a pty pair, answers the host's commands on the master side
and keeps the two doors' positions; the host (``hardware.serial_gate.SerialGate``, or any
other implementation a board maker tests) uses :attr:`SimulatedGateBoard.port`. It records
every line the host sent and every door movement with its cause and monotonic time
(:attr:`SimulatedGateBoard.movements`), so a test measures what the doors did on the board's
own clock: how long a door stayed open after the host went silent, for instance.

The watchdog: after ``WATCHDOG <ms>`` (``0`` disarms), every line from the host feeds it; when
none arrives for ``ms`` milliseconds the board closes every door, reports
``EVT FAULT watchdog`` and refuses to open a door (``ERR watchdog``) until the host sends
``CLOSE ALL``. Doors released by an emergency stay released: egress first.
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from dataclasses import dataclass

MIN_WATCHDOG_MS = 50
MAX_WATCHDOG_MS = 60_000
DOORS = ("ENTRY", "EXIT")


@dataclass(frozen=True)
class DoorMovement:
    door: str  # ENTRY or EXIT
    opened: bool
    cause: str  # the host's command, "watchdog", "emergency"
    at: float  # time.monotonic() on the board


class SimulatedGateBoard:
    """A relay board on a pty; :meth:`close` it (or use ``with``)."""

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self.received: list[str] = []
        self.movements: list[DoorMovement] = []
        self.doors = dict.fromkeys(DOORS, False)
        self.emergency = False
        self.watchdog_ms = 0
        self.watchdog_tripped = False
        self.last_host_line_at = time.monotonic()
        self.changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="sim-gate-board", daemon=True)
        self._thread.start()

    # --- observation -------------------------------------------------------------------

    def wait_for(self, predicate_name: str, timeout_s: float) -> bool:
        """Wait until ``predicate_name`` ("any_door_open", "all_closed") holds."""
        predicate = {
            "any_door_open": lambda: any(self.doors.values()),
            "all_closed": lambda: not any(self.doors.values()),
            "watchdog_armed": lambda: self.watchdog_ms > 0,
        }[predicate_name]
        with self.changed:
            return self.changed.wait_for(predicate, timeout_s)

    def push(self, line: str) -> None:
        """Send a line to the host (an event of the board's own)."""
        os.write(self.master, line.encode("ascii") + b"\r\n")

    def press_emergency(self) -> None:
        with self.changed:
            self.emergency = True
            for door in DOORS:
                self._move(door, True, "emergency")
        self.push("EVT EMERGENCY")

    # --- the line protocol -------------------------------------------------------------

    def _serve(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            timeout = self._watchdog_wait()
            ready, _, _ = select.select([self.master], [], [], timeout)
            if ready:
                try:
                    data = os.read(self.master, 1024)
                except OSError:
                    data = b""
                buffer += data
                while b"\n" in buffer or b"\r" in buffer:
                    cut = min(i for i in (buffer.find(b"\r"), buffer.find(b"\n")) if i >= 0)
                    raw, buffer = buffer[:cut], buffer[cut + 1 :]
                    if raw.strip():
                        self._answer(raw.decode("ascii", errors="replace").strip())
            self._check_watchdog()

    def _watchdog_wait(self) -> float:
        with self.changed:
            if self.watchdog_ms <= 0 or self.watchdog_tripped:
                return 0.05
            due = self.last_host_line_at + self.watchdog_ms / 1000
        return max(0.0, min(0.05, due - time.monotonic()))

    def _check_watchdog(self) -> None:
        with self.changed:
            if self.watchdog_ms <= 0 or self.watchdog_tripped:
                return
            if time.monotonic() - self.last_host_line_at < self.watchdog_ms / 1000:
                return
            self.watchdog_tripped = True
            if not self.emergency:
                for door in DOORS:
                    self._move(door, False, "watchdog")
        self.push("EVT FAULT watchdog")

    def _answer(self, line: str) -> None:
        with self.changed:
            self.received.append(line)
            self.last_host_line_at = time.monotonic()
            reply = self._execute(line.split())
            self.changed.notify_all()
        self.push(reply)

    def _execute(self, words: list[str]) -> str:
        if words == ["PING"]:
            return "PONG"
        if len(words) == 2 and words[0] == "WATCHDOG":
            return self._arm(words[1])
        if words == ["CLOSE", "ALL"]:  # also the host's reset: ends a watchdog trip, an emergency
            self.watchdog_tripped = False
            self.emergency = False
            for door in DOORS:
                self._move(door, False, "CLOSE ALL")
            return "OK"
        if words == ["EMERGENCY"]:
            self.emergency = True
            for door in DOORS:
                self._move(door, True, "emergency")
            return "OK"
        if len(words) == 2 and words[0] in ("OPEN", "CLOSE") and words[1] in DOORS:
            return self._door(words[0] == "OPEN", words[1])
        return "ERR unknown"

    def _arm(self, value: str) -> str:
        if not value.isdigit():
            return "ERR bad watchdog"
        ms = int(value)
        if ms and not MIN_WATCHDOG_MS <= ms <= MAX_WATCHDOG_MS:
            return "ERR bad watchdog"
        self.watchdog_ms = ms
        return "OK"

    def _door(self, opening: bool, door: str) -> str:
        if self.emergency:
            return "ERR emergency"
        if opening:
            if self.watchdog_tripped:
                return "ERR watchdog"
            other = "EXIT" if door == "ENTRY" else "ENTRY"
            if self.doors[other]:
                return "ERR interlock"
        self._move(door, opening, f"{'OPEN' if opening else 'CLOSE'} {door}")
        return "OK"

    def _move(self, door: str, opened: bool, cause: str) -> None:
        if self.doors[door] is not opened:
            self.doors[door] = opened
            self.movements.append(DoorMovement(door, opened, cause, time.monotonic()))
            self.changed.notify_all()

    # --- life cycle ----------------------------------------------------------------------

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> SimulatedGateBoard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
