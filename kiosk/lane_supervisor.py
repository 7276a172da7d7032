"""Keeps the lane's out-of-service causes true to the devices, the trust store and the lists.

:class:`LaneSupervisor` runs :meth:`LaneSupervisor.check` when the kiosk starts, then every
``lane.check_interval_s`` on its own thread (``kiosk-lane``) and whenever a caller asks (before
a transaction starts). Each check sets or clears:

* ``device_fault`` per device: a device that could not be opened (retried on each check), a
  chip reader that went away after start (unplugged, or pcscd gone: the driver's
  ``reader_problem``), a camera that has not delivered its first frame or is reconnecting, an
  MRZ reader that is offline, a gate in fault;
* ``emergency``: the gate's doors are released;
* ``no_trust_anchors``: the trust store holds no CSCA certificate;
* ``trust_stale``: a CRL is past its next update by more than ``lane.crl_overdue_hours``;
* ``lists_stale`` per required list: never loaded, or older than the policy's
  ``watchlist_max_age_hours``.

A gate in fault (never one in emergency: only an officer ends that) is reset automatically
through its device executor, at most ``lane.gate_reset_attempts`` times, ``lane.
gate_reset_interval_s`` apart, never while a transaction holds it; the lane returns when the
gate reports healthy, and a gate that stays faulted keeps it closed ("automatic reset gave up")
until a technician returns the lane to service, which allows the attempts again.

It also reloads the screening lists when their stored versions change, so that what sync
or an import wrote reaches the next traveller. Details name devices, codes and ages only.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from hardware.camera import CameraStatus
from hardware.executor import DeviceBusyError, on_device
from hardware.gate import GateState
from hardware.mrz_reader import DeviceHealth
from kiosk.config import KioskConfig
from kiosk.devices import Devices
from kiosk.lane import Lane, LaneCause, LaneStatus
from kiosk.screening.importers import ListKind
from kiosk.screening.store import ScreeningStore
from kiosk.session.trust_anchors import StoreAnchors
from kiosk.storage.database import Database

log = logging.getLogger(__name__)

DEVICE_KINDS = ("gate", "chip_reader", "mrz_reader", "camera")
OPEN_TIMEOUT_S = 10.0
GATE_RESET_TIMEOUT_S = 10.0


def _code(exc: BaseException) -> str:
    return str(getattr(exc, "code", "") or type(exc).__name__)


class LaneSupervisor:
    def __init__(
        self,
        lane: Lane,
        config: KioskConfig,
        devices: Devices,
        database: Database,
        anchors: StoreAnchors,
        reload_lists: Callable[[], None] | None = None,
        *,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.lane = lane
        self.config = config
        self.devices = devices
        self.database = database
        self.anchors = anchors
        # Called when the stored lists changed (the kiosk reloads its screener).
        self.reload_lists: Callable[[], None] = reload_lists or (lambda: None)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        # Further checks that own a cause (the storage's: space is back, the lane reopens).
        self.extra_checks: list[Callable[[], object]] = []
        self._check_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._list_versions: dict[str, tuple[int, int]] | None = None
        # Devices that are not open yet (failed at start): kind -> the last error code.
        self.unopened: dict[str, str] = {}
        self.opened: set[str] = set()
        # Automatic gate resets since the gate was last healthy, and when the next may run.
        self.gate_resets = 0
        self._next_gate_reset = 0.0

    # --- devices -----------------------------------------------------------------------

    def _device(self, kind: str) -> Any:
        return getattr(self.devices, kind)

    def open_devices(self) -> None:
        """Open every device that is not open yet, each on its own executor thread; a failure
        is a cause, never an exception."""
        threads = self.devices.threads
        threads.start()
        for kind in DEVICE_KINDS:
            if kind in self.opened:
                continue
            device = self._device(kind)
            opener = device.start if kind == "camera" else device.open
            try:
                getattr(threads, kind).call(opener, timeout_s=OPEN_TIMEOUT_S)
            except Exception as exc:  # any driver failure: the lane names it, the kiosk runs
                self.unopened[kind] = _code(exc)
                log.warning("%s could not be opened: %s", kind, _code(exc))
                continue
            self.unopened.pop(kind, None)
            self.opened.add(kind)

    def close_devices(self) -> None:
        """Close the devices on their executors (the gate last, fail-secure), then the
        executors themselves."""
        try:
            self.devices.speaker.close()  # not a lane device: it never closes the lane
        except Exception:
            log.warning("speaker close failed")
        threads = self.devices.threads
        threads.start()  # closing devices that were never opened is allowed too
        for kind in ("camera", "mrz_reader", "chip_reader"):
            self.opened.discard(kind)
            device = self._device(kind)
            closer = device.stop if kind == "camera" else device.close
            try:
                getattr(threads, kind).call(closer, timeout_s=OPEN_TIMEOUT_S)
            except Exception:  # closing must go on; the gate is closed last, fail-secure
                log.warning("%s close failed", kind)
        self.opened.discard("gate")
        try:
            threads.gate.call(self.devices.gate.close, timeout_s=OPEN_TIMEOUT_S)
        finally:
            threads.close()

    def _device_problem(self, kind: str) -> str | None:
        if kind in self.unopened:
            return f"cannot be opened ({self.unopened[kind]})"
        device = self._device(kind)
        if kind == "camera":
            status = device.status
            frame = device.latest_frame()
            if frame is None:
                if status in (CameraStatus.STARTING, CameraStatus.RUNNING):
                    return "starting (no frame yet)"
                return f"{status.value} ({device.last_error or 'no frames'})"
            age = time.monotonic() - frame.timestamp
            if age > self.config.lane.camera_stall_s:
                return f"no frame for {age:.0f} s ({status.value}, {device.last_error or '-'})"
            return None
        if kind == "mrz_reader":
            status = device.status
            if status.health is DeviceHealth.OFFLINE:
                return f"offline ({status.last_error or 'no link'})"
            return None
        if kind == "gate":
            state = device.state
            if state is GateState.FAULT:
                return f"fault ({device.status.last_error or 'unknown'}){self._reset_note()}"
            return None
        if kind == "chip_reader":
            problem: str | None = device.reader_problem
            return problem
        return None

    # --- the gate's automatic reset ----------------------------------------------------

    def _reset_note(self) -> str:
        limit = self.config.lane.gate_reset_attempts
        if self.gate_resets >= limit:
            return f"; automatic reset gave up after {self.gate_resets} attempt(s)"
        if self.gate_resets:
            return f"; automatic reset {self.gate_resets} of {limit} failed"
        return ""

    def _note_device(self, kind: str) -> None:
        problem = self._device_problem(kind)
        if problem is None:
            self.lane.clear(LaneCause.DEVICE_FAULT, key=kind)
        else:
            self.lane.set(LaneCause.DEVICE_FAULT, f"{kind}: {problem}", key=kind)

    def _reset_gate(self) -> bool:
        """One bounded automatic reset of a faulted gate, when one is due; True if one ran."""
        gate = self.devices.gate
        if "gate" not in self.opened:
            return False  # not open: reopening it is open_devices()'s work
        if gate.state is not GateState.FAULT:
            self.gate_resets = 0  # healthy (or in emergency, which only an officer ends)
            return False
        if self.gate_resets >= self.config.lane.gate_reset_attempts:
            return False
        now = time.monotonic()
        if now < self._next_gate_reset:
            return False
        self._next_gate_reset = now + self.config.lane.gate_reset_interval_s
        try:
            on_device(gate, gate.reset, owner="lane-gate-reset", timeout_s=GATE_RESET_TIMEOUT_S)
        except DeviceBusyError:  # a transaction holds the gate: its own passage rules apply
            self._next_gate_reset = now
            return False
        except Exception as exc:  # the board still faulted, silent or unreachable
            self.gate_resets += 1
            log.warning(
                "gate automatic reset %d of %d failed: %s",
                self.gate_resets,
                self.config.lane.gate_reset_attempts,
                _code(exc),
            )
            return True
        self.gate_resets = 0
        log.info("gate reset automatically: the board reports healthy")
        return True

    def rearm_gate_reset(self) -> None:
        """A technician returned the lane to service: allow the automatic resets again."""
        self.gate_resets = 0
        self._next_gate_reset = 0.0

    def _check_devices(self) -> None:
        if self.unopened:
            self.open_devices()
        for kind in DEVICE_KINDS:
            self._note_device(kind)
        if self._reset_gate():  # the fault was named first; now what the reset left
            self._note_device("gate")
        if self.devices.gate.state is GateState.EMERGENCY:
            self.lane.set(LaneCause.EMERGENCY, "gate doors released", key="gate")
        else:
            self.lane.clear(LaneCause.EMERGENCY, key="gate")

    # --- trust and lists ---------------------------------------------------------------

    def _check_trust(self, now: dt.datetime) -> None:
        anchors = self.anchors.current()
        lane = self.config.lane
        if lane.require_trust_anchors and not anchors.cscas:
            self.lane.set(LaneCause.NO_TRUST_ANCHORS, "the trust store holds no CSCA")
        else:
            self.lane.clear(LaneCause.NO_TRUST_ANCHORS)
        overdue: list[str] = []
        if lane.crl_overdue_hours is not None:
            limit = now - dt.timedelta(hours=lane.crl_overdue_hours)
            for crl in self.anchors.store.crls():
                next_update = crl.next_update
                if next_update is not None and next_update.tzinfo is None:
                    next_update = next_update.replace(tzinfo=dt.UTC)
                if next_update is not None and next_update < limit:
                    overdue.append(crl.country or "?")
        if overdue:
            countries = ",".join(sorted(set(overdue)))
            self.lane.set(LaneCause.TRUST_STALE, f"CRL past its next update: {countries}")
        else:
            self.lane.clear(LaneCause.TRUST_STALE)

    def _check_lists(self, now: dt.datetime) -> None:
        store = ScreeningStore(self.database)
        versions: dict[str, tuple[int, int]] = {}
        infos = {}
        for kind in ListKind:
            info = store.info(kind)
            infos[kind.value] = info
            versions[kind.value] = (info.version, info.entries) if info else (0, 0)
        if self._list_versions is not None and versions != self._list_versions:
            log.info("screening lists changed: reloading")
            self.reload_lists()
        self._list_versions = versions
        max_age = self.config.policy.watchlist_max_age_hours
        for name in self.config.lane.required_lists:
            info = infos.get(name)
            if info is None:
                self.lane.set(LaneCause.LISTS_STALE, f"{name}: never loaded", key=name)
            elif info.age_hours(now) > max_age:
                age = info.age_hours(now)
                self.lane.set(
                    LaneCause.LISTS_STALE,
                    f"{name}: {age:.0f} h old (limit {max_age:g} h)",
                    key=name,
                )
            else:
                self.lane.clear(LaneCause.LISTS_STALE, key=name)

    def note_lists_loaded(self) -> None:
        """The kiosk just loaded its lists: remember their versions (no reload needed)."""
        store = ScreeningStore(self.database)
        versions = {}
        for kind in ListKind:
            info = store.info(kind)
            versions[kind.value] = (info.version, info.entries) if info else (0, 0)
        self._list_versions = versions

    # --- the check and its thread ------------------------------------------------------

    def check(self) -> LaneStatus:
        """Bring every cause this supervisor owns up to date; the lane's status after it."""
        with self._check_lock:
            now = self.clock()
            for part in (self._check_devices, lambda: self._check_trust(now), *self.extra_checks):
                try:
                    part()
                except Exception:  # a failing check must not stop the others
                    log.exception("lane check failed")
            try:
                self._check_lists(now)
            except Exception:
                log.exception("lane list check failed")
        return self.lane.status()

    def refresh_data(self) -> None:
        """Before a transaction: trust anchors and lists as stored now (cheap when unchanged)."""
        with self._check_lock:
            now = self.clock()
            try:
                self._check_trust(now)
                self._check_lists(now)
            except Exception:
                log.exception("lane data check failed")

    def poke(self) -> None:
        """Check now, on the supervisor's thread (a device reported a change)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.config.lane.check_interval_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            self.check()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="kiosk-lane", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(10.0)
