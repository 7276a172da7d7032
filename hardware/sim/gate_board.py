"""A scripted gate controller on a pseudo-terminal: the other end of
:class:`hardware.serial_gate.SerialGate`, speaking the board's line protocol.

It answers every command the protocol defines (``OK``, ``ERR <reason>``, ``PONG``), keeps
the doors' state, and checks the host's side of the protocol: an unknown command, or opening
one door while the other is open (the two-door interlock), is answered ``ERR`` and recorded
in :attr:`BoardLog.violations`. A scripted traveller walks through the two-door gate and the
board reports its sensors: when the entry door opens the traveller steps in (``EVT PRESENCE
1``, with ``EVT TAILGATE 1`` when a second person comes in right behind), when the exit door
opens they leave (``EVT PRESENCE 0``). A fault is scripted with :meth:`PtyGateBoard.fault`
(``EVT FAULT <code>``; a latched one answers ``ERR <code>`` to every door command, a reset's
``CLOSE ALL`` included, until :meth:`PtyGateBoard.clear_fault`), and a stuck controller with
:meth:`PtyGateBoard.stall` (it answers nothing, not even ``PONG``). The production rig and the
serial tests drive the real driver against it.
"""

from __future__ import annotations

import os
import select
import threading
import tty
from collections.abc import Callable
from dataclasses import dataclass, field

COMMANDS = (
    "OPEN ENTRY",
    "CLOSE ENTRY",
    "OPEN EXIT",
    "CLOSE EXIT",
    "CLOSE ALL",
    "EMERGENCY",
    "PING",
)
MAX_LINE = 128


@dataclass
class Passage:
    """What the scripted traveller does when the exit door opens."""

    walk_through: bool = True
    tailgate: bool = False
    step_s: float = 0.05


@dataclass
class BoardLog:
    commands: list[str] = field(default_factory=list)  # every line but PING, in order
    violations: list[str] = field(default_factory=list)
    exit_openings: int = 0
    passages: int = 0


class PtyGateBoard:
    def __init__(self, passage: Passage | None = None) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.passage = passage or Passage()
        self.log = BoardLog()
        self.entry_open = self.exit_open = False
        self.inside = False
        self.latched_fault: str | None = None
        self.stalled = False
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="rig-gate-board", daemon=True)
        self._thread.start()

    # --- for the rig ---------------------------------------------------------------------

    def push(self, line: str) -> None:
        os.write(self.master, line.encode("latin-1") + b"\r\n")

    def fault(self, code: str = "jammed", *, latched: bool = True) -> None:
        """Report a fault; a latched one refuses every door command until cleared."""
        if latched:
            self.latched_fault = code
        self.push(f"EVT FAULT {code}")

    def clear_fault(self) -> None:
        """The door is freed: commands are carried out again."""
        self.latched_fault = None

    def stall(self, stalled: bool = True) -> None:
        """The controller stops (or resumes) answering anything at all."""
        self.stalled = stalled

    def wait_exit_openings(self, count: int, timeout_s: float) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: self.log.exit_openings >= count, timeout_s)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5.0)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass

    # --- the board ---------------------------------------------------------------------

    def _serve(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                buffer += os.read(self.master, 1024)
            except OSError:
                return
            while True:
                cut = min(
                    (i for i in (buffer.find(b"\r"), buffer.find(b"\n")) if i >= 0), default=-1
                )
                if cut < 0:
                    if len(buffer) > MAX_LINE:
                        self._violation(f"line longer than {MAX_LINE} bytes")
                        buffer = b""
                    break
                raw, buffer = buffer[:cut], buffer[cut + 1 :]
                if raw:
                    self._answer(raw.decode("ascii", "replace").strip())

    def _violation(self, what: str) -> None:
        with self._lock:
            self.log.violations.append(what)

    def _answer(self, line: str) -> None:
        if self.stalled:
            with self._lock:
                self.log.commands.append(line)  # heard, never answered
            return
        if line == "PING":
            self.push("PONG")
            return
        with self._lock:
            self.log.commands.append(line)
        words = line.split()
        if len(words) == 2 and words[0] == "WATCHDOG" and words[1].isdigit():
            self.push("OK")  # the driver arms the board's watchdog (hardware/sim/watchdog_board)
            return
        if line not in COMMANDS:
            self._violation(f"unknown command {line[:40]!r}")
            self.push("ERR unknown")
            return
        if self.latched_fault is not None and line != "EMERGENCY":
            self.push(f"ERR {self.latched_fault}")  # the jammed door does not move
            return
        if (line == "OPEN EXIT" and self.entry_open) or (line == "OPEN ENTRY" and self.exit_open):
            self._violation(f"{line} while the other door is open")
            self.push("ERR interlock")
            return
        if line == "OPEN ENTRY":
            self.entry_open = True
        elif line == "CLOSE ENTRY":
            self.entry_open = False
        elif line == "CLOSE EXIT":
            self.exit_open = False
        elif line == "CLOSE ALL":
            self.entry_open = self.exit_open = False
        elif line == "EMERGENCY":
            self.entry_open = self.exit_open = True
        self.push("OK")
        if line == "OPEN ENTRY" and self.passage.walk_through:
            self._later(self._step_in)
        elif line == "OPEN EXIT":
            self.exit_open = True
            with self._lock:
                self.log.exit_openings += 1
                self._lock.notify_all()
            if self.passage.walk_through:
                self._later(self._leave)

    def _later(self, action: Callable[[], None]) -> None:
        threading.Thread(target=action, name="rig-traveller", daemon=True).start()

    def _step_in(self) -> None:
        self._stop.wait(self.passage.step_s)
        self.inside = True
        if self.passage.tailgate:  # a second person right behind: both sensors at once
            self.push("EVT TAILGATE 1")
        self.push("EVT PRESENCE 1")

    def _leave(self) -> None:
        if not self.inside:  # the exit opened before anyone came in: step in first
            self._step_in()
        self._stop.wait(self.passage.step_s)
        self.inside = False
        self.push("EVT PRESENCE 0")
        if self.passage.tailgate:
            self.push("EVT TAILGATE 0")
        with self._lock:
            self.log.passages += 1
