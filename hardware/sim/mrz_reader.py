"""The simulated MRZ reader: a real driver that presents scripted documents.

Selected by ``type = "simulated"``. On open it presents the configured documents in turn:
each after ``present_delay_s``; then it removes it after ``remove_after_s``, or, when that is
not set, waits until someone calls :meth:`SimulatedMrzReader.remove` before the next one
(``loop`` starts the script again at the end). Tests and the technician's rehearsal screen
call :meth:`~SimulatedMrzReader.present` and :meth:`~SimulatedMrzReader.remove` at any time.

Like a real reader, everything happens on the device thread ``kiosk-mrz-sim``: ``present``
and ``remove`` only queue the action, and listeners are called on that thread. The simulator
passes MRZ text through as given, defects included (that is what it is for), and records every
event it emitted in :attr:`SimulatedMrzReader.history`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from hardware.config import SimulatedMrzReaderConfig
from hardware.mrz_reader import (
    DeviceHealth,
    MrzReader,
    MrzReaderEvent,
    MrzReaderNotOpenError,
    check_scan_lines,
)


def mrz_lines(text: str | Sequence[str]) -> tuple[str, ...]:
    """The lines of an MRZ given as one text (newline separated) or as lines."""
    lines = text.splitlines() if isinstance(text, str) else list(text)
    return tuple(line.strip() for line in lines if line.strip())


@dataclass(frozen=True)
class _Present:
    lines: tuple[str, ...]


@dataclass(frozen=True)
class _Remove:
    pass


@dataclass(frozen=True)
class _Stop:
    pass


_Action = _Present | _Remove | _Stop


class SimulatedMrzReader(MrzReader):
    """Presents scripted documents; records what happened."""

    def __init__(self, config: SimulatedMrzReaderConfig | None = None) -> None:
        super().__init__(source="simulated")
        self.config = config or SimulatedMrzReaderConfig()
        self._script = [mrz_lines(text) for text in self.config.documents]
        for lines in self._script:
            self._check(lines)
        self._actions: queue.Queue[_Action] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.history: list[MrzReaderEvent] = []
        self._history_lock = threading.Lock()

    # --- test and technician controls (any thread) -------------------------------------

    def present(self, text: str | Sequence[str]) -> None:
        """Put a document with this MRZ on the reader (replacing any document there)."""
        lines = mrz_lines(text)
        self._check(lines)
        self._queue(_Present(lines))

    def remove(self) -> None:
        """Take the document off the reader."""
        self._queue(_Remove())

    def _queue(self, action: _Action) -> None:
        if not self.is_open:
            raise MrzReaderNotOpenError("the simulated MRZ reader is not open")
        self._actions.put(action)

    @staticmethod
    def _check(lines: tuple[str, ...]) -> None:
        check_scan_lines(lines)

    # --- the device thread -------------------------------------------------------------

    def _open(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kiosk-mrz-sim", daemon=True)
        self._thread.start()
        self._set_status(DeviceHealth.OK)

    def _close(self) -> None:
        if self._thread is not None:
            self._actions.put(_Stop())
            self._thread.join(timeout=5.0)
            self._thread = None

    def _run(self) -> None:
        steps: deque[_Present | _Remove] = deque(self._script_steps())
        due = time.monotonic() + self.config.present_delay_s
        waiting_for_removal = False
        while True:
            timeout = None
            if steps and not waiting_for_removal:
                timeout = max(0.0, due - time.monotonic())
            try:
                action = self._actions.get(timeout=timeout)
            except queue.Empty:
                step = steps.popleft()
                self._do(step)
                if isinstance(step, _Present) and self.config.remove_after_s is None:
                    waiting_for_removal = True
                if not steps and self.config.loop:
                    steps.extend(self._script_steps())
                due = time.monotonic() + self._delay_after(step)
                continue
            if isinstance(action, _Stop):
                return
            self._do(action)
            if isinstance(action, _Remove) and waiting_for_removal:
                waiting_for_removal = False
                due = time.monotonic() + self.config.present_delay_s

    def _script_steps(self) -> list[_Present | _Remove]:
        steps: list[_Present | _Remove] = []
        for lines in self._script:
            steps.append(_Present(lines))
            if self.config.remove_after_s is not None:
                steps.append(_Remove())
        return steps

    def _delay_after(self, step: _Present | _Remove) -> float:
        if isinstance(step, _Present) and self.config.remove_after_s is not None:
            return self.config.remove_after_s
        return self.config.present_delay_s

    def _do(self, action: _Present | _Remove) -> None:
        if isinstance(action, _Present):
            removed = self._publish_removed()  # a new document replaces the one there
            presented = self._publish_scan(action.lines)
            self._record(removed, presented)
        else:
            self._record(self._publish_removed())

    def _record(self, *events: MrzReaderEvent | None) -> None:
        with self._history_lock:
            self.history.extend(event for event in events if event is not None)
