"""The walk through a two-door gate (a mantrap), above the gate driver.

For an accepted traveller: once nobody is left inside, the entry door opens; once the presence
sensor sees the traveller inside, the entry door closes behind them; only when it is closed,
and nobody else is inside (the tailgating / second-person sensor), does the exit door open;
the passage is complete when the traveller has left and the exit door is closed again. The
result is a :class:`~kiosk.session.steps.PassageResult`:

* ``tailgating`` when the second-person sensor fires at any point: the exit stays closed (or
  is closed at once), the entry is closed, an officer comes;
* ``timeout`` when the gate is still occupied, or the traveller does not step in, or does not
  leave, in time (a door with a person in its way is left for the gate's own timer to close,
  never shut on them);
* ``gate_fault`` when a door command fails, a door does not reach its position, or the gate
  faults or goes to emergency release during the passage.

A family passes as one group of ``persons``: the entry opens once, the exit opens once when all
of them are inside, and the gate's people counter stands in for the two-state tailgating
sensor (which fires whenever more than one person is inside): more persons counted than the
family has members is tailgating. A gate that does not count persons lets no group through
(``gate_fault`` before any door opens).

Every gate command runs on the gate's device executor (:mod:`hardware.executor`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from hardware.executor import CancelToken
from hardware.gate import (
    Gate,
    GateError,
    GateEvent,
    GateState,
    PersonsCounted,
    Sensor,
    SensorChanged,
)
from kiosk.session.steps import PassageResult
from models.errors import DeviceError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PassageSettings:
    enter_s: float = 20.0  # to step in once the entry door is open
    leave_s: float = 20.0  # to leave once the exit door is open
    door_s: float = 5.0  # for a door to reach its position


class _Watch:
    """What the gate's sensors said since the passage began (gate worker thread)."""

    def __init__(self, persons: int = 1) -> None:
        self.persons = persons
        self.changed = threading.Event()
        self.presence_on = 0  # times presence went on
        self.presence_off = 0  # times presence went off
        self.tailgating = False

    def __call__(self, event: GateEvent) -> None:
        if isinstance(event, PersonsCounted):
            if event.count > self.persons:
                self.tailgating = True
        elif isinstance(event, SensorChanged):
            if event.sensor is Sensor.TAILGATING and event.active and self.persons == 1:
                self.tailgating = True
            elif event.sensor is Sensor.PRESENCE:
                if event.active:
                    self.presence_on += 1
                else:
                    self.presence_off += 1
        self.changed.set()


class _Ended(Exception):
    def __init__(self, result: PassageResult) -> None:
        super().__init__(result.value)
        self.result = result


class Passage:
    """Runs one traveller (or one family of ``persons``) through the gate; one instance per
    passage."""

    def __init__(
        self, gate: Gate, settings: PassageSettings, token: CancelToken, persons: int = 1
    ) -> None:
        self.gate = gate
        self.settings = settings
        self.token = token
        self.persons = persons
        self.watch = _Watch(persons)
        self.tailgated = False  # a second person was seen: every door closes at the end

    def run(self) -> PassageResult:
        gate, watch = self.gate, self.watch
        if self.persons > 1 and gate.persons_inside() is None:
            log.warning("passage: a group of %d on a gate that does not count", self.persons)
            return PassageResult.GATE_FAULT
        gate.add_listener(watch)
        try:
            return self._walk()
        except _Ended as ended:
            return ended.result
        except (GateError, DeviceError) as exc:
            log.warning("passage: gate failed: %s", exc.code)
            return PassageResult.GATE_FAULT
        finally:
            gate.remove_listener(watch)
            self._secure()

    def _walk(self) -> PassageResult:
        gate, watch, settings = self.gate, self.watch, self.settings
        if not self._until(lambda: not gate.sensor(Sensor.PRESENCE), settings.enter_s):
            log.info("passage: somebody is still inside the gate; the entry stays closed")
            return PassageResult.TIMEOUT
        inside_before = watch.presence_on
        self._command(gate.open_entry)
        self._door(GateState.ENTRY_OPEN)
        entered = self._until(self._all_inside(inside_before), settings.enter_s)
        self._command(gate.close_entry)  # behind the traveller, or nobody came
        self._door(GateState.CLOSED)
        if not entered:
            log.info("passage: nobody stepped in")
            return PassageResult.TIMEOUT
        self._no_tailgating()
        left_before = watch.presence_off
        self._command(gate.open_exit)
        self._door(GateState.EXIT_OPEN)
        left = self._until(
            lambda: (
                watch.presence_off > left_before
                and not gate.sensor(Sensor.PRESENCE)
                and not gate.persons_inside()
            ),
            settings.leave_s,
        )
        if not left:
            log.info("passage: the traveller did not leave in time")
            if not gate.sensor(Sensor.PRESENCE):
                self._command(gate.close_exit)
            return PassageResult.TIMEOUT
        self._command(gate.close_exit)
        self._door(GateState.CLOSED)
        return PassageResult.PASSED

    # --- helpers -----------------------------------------------------------------------

    def _all_inside(self, presence_before: int) -> Callable[[], bool]:
        gate, watch = self.gate, self.watch
        if self.persons == 1:
            return lambda: watch.presence_on > presence_before or gate.sensor(Sensor.PRESENCE)
        return lambda: (gate.persons_inside() or 0) >= self.persons

    def _until(self, done: Callable[[], bool], timeout_s: float) -> bool:
        """Wait for ``done``; ends the passage on tailgating, a gate fault or a cancel."""
        deadline = time.monotonic() + timeout_s
        while True:
            self._no_tailgating()
            self._gate_healthy()
            if done():
                return True
            if self.token.is_set():
                raise _Ended(PassageResult.TIMEOUT)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.watch.changed.clear()
            self.watch.changed.wait(min(0.05, remaining))

    def _no_tailgating(self) -> None:
        counted = self.gate.persons_inside()
        if self.persons > 1:
            second = counted is not None and counted > self.persons
        else:
            second = self.gate.sensor(Sensor.TAILGATING)
        if self.watch.tailgating or second:
            self.tailgated = True
            log.warning("passage: second person in the gate")
            raise _Ended(PassageResult.TAILGATING)

    def _gate_healthy(self) -> None:
        if self.gate.state in (GateState.FAULT, GateState.EMERGENCY):
            raise _Ended(PassageResult.GATE_FAULT)

    def _door(self, state: GateState) -> None:
        if not self.gate.wait_state(state, self.settings.door_s):
            self._gate_healthy()
            raise _Ended(PassageResult.GATE_FAULT)

    def _command(self, command: Callable[[], None]) -> None:
        executor = self.gate.executor
        if executor is None or executor.on_thread():
            command()
        else:
            executor.call(command, token=self.token, timeout_s=self.settings.door_s)

    def _secure(self) -> None:
        """Doors closed at the end, whatever happened (not during an emergency release)."""
        gate = self.gate
        if gate.state not in (GateState.ENTRY_OPEN, GateState.EXIT_OPEN):
            return
        if gate.sensor(Sensor.PRESENCE) and not self.tailgated:
            return  # somebody is in a doorway: the gate's own timer closes it once clear
        try:
            executor = gate.executor
            if executor is None or executor.on_thread():
                gate.close_all()
            else:  # a fresh token: closing must work even when the passage was cancelled
                executor.call(gate.close_all, token=CancelToken(self.token.owner), timeout_s=5.0)
        except (GateError, DeviceError) as exc:
            log.error("passage: closing the doors failed: %s", exc.code)


def pass_gate(
    gate: Gate, settings: PassageSettings, token: CancelToken, persons: int = 1
) -> PassageResult:
    """Run one traveller, or a family of ``persons``, through ``gate`` (see :class:`Passage`)."""
    return Passage(gate, settings, token, persons).run()
