"""The simulated gate: a real driver with two simulated doors and scriptable sensors.

Selected by ``type = "simulated"``. It records every command it was sent
(:attr:`SimulatedGate.commands`) and keeps the position of each simulated door, so tests check
what the doors did, not just what the interface said. With ``auto_passage`` a simulated
traveller uses the gate as a mantrap: steps in when the entry door opens (presence on, and
stays on while the doors are closed), and walks out ``transit_s`` after the exit door opens.
Tests and the technician's rehearsal screen script the rest: :meth:`~SimulatedGate.person_enters`,
:meth:`~SimulatedGate.tailgate`, :meth:`~SimulatedGate.follow_next_entry`,
:meth:`~SimulatedGate.press_emergency`, and fault injection
(:meth:`~SimulatedGate.fail_next_command`, :meth:`~SimulatedGate.stop_heartbeat`,
:meth:`~SimulatedGate.board_fault`). Scripted sensor changes run on the thread
``kiosk-gate-sim``, as board input would arrive.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

from hardware.config import SimulatedGateConfig
from hardware.gate import Gate, GateCommand, GateCommandError, Sensor


class SimulatedGate(Gate):
    """Two simulated doors, a presence and a tailgating sensor."""

    def __init__(self, config: SimulatedGateConfig | None = None) -> None:
        self.config = config or SimulatedGateConfig()
        super().__init__(
            heartbeat_s=self.config.heartbeat_s,
            heartbeat_misses=1,
            open_timeout_s=self.config.open_timeout_s,
        )
        self.commands: list[GateCommand] = []
        self.entry_door_open = False
        self.exit_door_open = False
        self.heartbeats = 0
        self._fail_next: BaseException | None = None
        self._fail_on: GateCommand | None = None  # fail the next command of this kind only
        self._followed = False  # a second person comes in with the next traveller
        self._follow_transit_s = 5.0
        self._heartbeat_alive = True
        self._jammed: str | None = None  # a persistent board fault: door commands refused
        self._script: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    # --- scripting (any thread) --------------------------------------------------------

    def person_enters(self, transit_s: float | None = None) -> None:
        """One traveller walks in now and is out of the gate ``transit_s`` later."""
        transit = self.config.transit_s if transit_s is None else transit_s
        self._at(0.0, lambda: self._sensor_changed(Sensor.PRESENCE, True))
        self._at(transit, lambda: self._sensor_changed(Sensor.PRESENCE, False))

    def tailgate(self, transit_s: float | None = None) -> None:
        """Two people walk in together: tailgating is seen while they are inside."""
        transit = self.config.transit_s if transit_s is None else transit_s
        self._at(0.0, lambda: self._sensor_changed(Sensor.PRESENCE, True))
        self._at(0.0, lambda: self._sensor_changed(Sensor.TAILGATING, True))
        self._at(transit, lambda: self._sensor_changed(Sensor.TAILGATING, False))
        self._at(transit, lambda: self._sensor_changed(Sensor.PRESENCE, False))

    def press_emergency(self) -> None:
        """The gate's own emergency button (or the fire alarm input) fires."""
        self._at(0.0, self._emergency_input)

    def fail_next_command(
        self, error: BaseException | None = None, *, command: GateCommand | None = None
    ) -> None:
        """The next command (of kind ``command``, when given) raises ``error`` (a board that
        stopped answering, by default)."""
        self._fail_next = error or GateCommandError("simulated board did not confirm")
        self._fail_on = command

    def follow_next_entry(self, transit_s: float = 5.0) -> None:
        """A second person slips in with the next traveller: when the entry door next opens,
        both sensors fire at once (tailgating clears ``transit_s`` later)."""
        self._followed = True
        self._follow_transit_s = transit_s

    def stop_heartbeat(self, stopped: bool = True) -> None:
        """The board stops (or resumes) answering heartbeats."""
        self._heartbeat_alive = not stopped

    def board_fault(self, code: str = "gate_board_fault", *, persistent: bool = False) -> None:
        """The board reports a fault of its own (a door jammed, a motor overloaded). A
        ``persistent`` one stays: the board refuses every door command (a reset included)
        until :meth:`clear_board_fault`."""
        if persistent:
            self._jammed = code
        self._at(0.0, lambda: self._report_fault(code, "simulated board fault"))

    def clear_board_fault(self) -> None:
        """The jammed door is freed: the board carries out commands again."""
        self._jammed = None

    def _walk_out(self) -> None:
        self._sensor_changed(Sensor.PRESENCE, False)

    def _emergency_input(self) -> None:
        self.entry_door_open = self.exit_door_open = True
        self._board_emergency()

    def _at(self, delay_s: float, action: Callable[[], None]) -> None:
        with self._wake:
            heapq.heappush(self._script, (time.monotonic() + delay_s, next(self._order), action))
            self._wake.notify()

    # --- driver hooks ------------------------------------------------------------------

    def _command(self, command: GateCommand) -> None:
        self.commands.append(command)
        if self._jammed is not None and command is not GateCommand.EMERGENCY_OPEN:
            raise GateCommandError(f"simulated board refuses {command.name}: {self._jammed}")
        if self._fail_next is not None and self._fail_on in (None, command):
            error, self._fail_next, self._fail_on = self._fail_next, None, None
            raise error
        if command is GateCommand.OPEN_ENTRY and self._followed:
            self._followed = False
            self._sensor_changed(Sensor.TAILGATING, True)
            self._sensor_changed(Sensor.PRESENCE, True)
            self._at(self._follow_transit_s, lambda: self._sensor_changed(Sensor.TAILGATING, False))
        if command is GateCommand.OPEN_ENTRY:
            self.entry_door_open = True
        elif command is GateCommand.OPEN_EXIT:
            self.exit_door_open = True
        elif command is GateCommand.CLOSE_ENTRY:
            self.entry_door_open = False
        elif command is GateCommand.CLOSE_EXIT:
            self.exit_door_open = False
        elif command is GateCommand.CLOSE_ALL:
            self.entry_door_open = self.exit_door_open = False
        elif command is GateCommand.EMERGENCY_OPEN:
            self.entry_door_open = self.exit_door_open = True
        if self.config.auto_passage:
            if command is GateCommand.OPEN_ENTRY:  # the traveller steps in, and stays inside
                self._at(0.0, lambda: self._sensor_changed(Sensor.PRESENCE, True))
            elif command is GateCommand.OPEN_EXIT:  # ... and walks out
                self._at(self.config.transit_s, self._walk_out)

    def _heartbeat(self) -> bool:
        self.heartbeats += 1
        return self._heartbeat_alive

    def _open(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(
            target=self._script_loop, name="kiosk-gate-sim", daemon=True
        )
        self._thread.start()

    def _close(self) -> None:
        with self._wake:
            self._stopping = True
            self._script.clear()
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    def _script_loop(self) -> None:
        while True:
            with self._wake:
                while not self._stopping:
                    if self._script and self._script[0][0] <= time.monotonic():
                        break
                    timeout = self._script[0][0] - time.monotonic() if self._script else None
                    self._wake.wait(timeout)
                if self._stopping:
                    return
                _, _, action = heapq.heappop(self._script)
            action()
