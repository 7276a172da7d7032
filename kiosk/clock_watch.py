"""Watching the wall clock against the monotonic clock: a step is an alarm.

The wall clock can be stepped (a wrong NTP server, a technician, a dead RTC battery at boot);
the monotonic clock cannot. :class:`ClockWatch` compares how far each moved since the last
check; when they differ by more than ``clock.step_threshold_s`` the wall clock was stepped,
and the lane goes out of service with :attr:`LaneCause.CLOCK` ("wall clock stepped back
600 s"): decision times, document expiry and the audit log's order all read it. The cause
clears itself once the clock has kept pace for ``clock.settle_s``; :attr:`ClockWatch.alarm`
keeps the last step for the server's heartbeat and the technician until then. The outbox
relay does not depend on it (its waits are monotonic).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.lane import Lane, LaneCause
from kiosk.periodic import Periodic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClockStep:
    seconds: float  # negative: the wall clock went back
    at_wall: float  # time.time() after the step

    def describe(self) -> str:
        way = "back" if self.seconds < 0 else "ahead"
        return f"wall clock stepped {way} {abs(self.seconds):.0f} s"


class ClockWatch:
    def __init__(
        self,
        lane: Lane,
        *,
        threshold_s: float,
        settle_s: float,
        interval_s: float,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lane = lane
        self.threshold_s = threshold_s
        self.settle_s = settle_s
        self.interval_s = interval_s
        self._wall, self._monotonic = wall, monotonic
        self._last = (wall(), monotonic())
        self._stepped_at: float | None = None  # monotonic time of the last step
        self.steps: list[ClockStep] = []
        self._timer = Periodic("kiosk-clock", interval_s, self.check, first_at_once=False)

    @property
    def alarm(self) -> str | None:
        """The last step, while the lane is held for it."""
        return self.steps[-1].describe() if self._stepped_at is not None else None

    def check(self) -> ClockStep | None:
        wall, mono = self._wall(), self._monotonic()
        last_wall, last_mono = self._last
        self._last = (wall, mono)
        drift = (wall - last_wall) - (mono - last_mono)
        if abs(drift) > self.threshold_s:
            step = ClockStep(drift, wall)
            self.steps.append(step)
            self._stepped_at = mono
            log.error("clock alarm: %s", step.describe())
            self.lane.set(LaneCause.CLOCK, step.describe(), key="wall_clock")
            return step
        if self._stepped_at is not None and mono - self._stepped_at >= self.settle_s:
            self._stepped_at = None
            self.lane.clear(LaneCause.CLOCK, key="wall_clock")
        return None

    def start(self) -> None:
        self._last = (self._wall(), self._monotonic())
        self._timer.start()

    def close(self) -> None:
        self._timer.close()
