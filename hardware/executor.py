"""One worker thread per device: every call into a driver runs there, and nowhere else.

Electrum funnels all hardware-wallet traffic through one executor and asserts it
(``run_in_hwd_thread``); this is the same discipline for the kiosk's four devices. A
:class:`DeviceExecutor` owns one thread (``kiosk-device-<name>``) that runs jobs one at a time.
A driver bound to an executor (:meth:`DeviceBound.bind_executor`) checks, on every public call,
that it runs on that thread (:class:`WrongDeviceThreadError` otherwise) and that the job it runs
for has not been cancelled (:class:`DeviceCallCancelledError`): a chip read whose step timed
out stops at the next APDU instead of talking to the card on behalf of nobody.

Jobs carry a :class:`CancelToken` that names their owner (a transaction id, ``selftest``...).
An owner may *claim* the device (:meth:`DeviceExecutor.claim`) for a span of several calls; a
call by anyone else meanwhile is refused with :class:`DeviceBusyError`, so a self-test and a
transaction, or two transactions, never share a device.

A job that does not finish within ``join_s`` after its caller gave up is *hung*: the caller gets
:class:`DeviceHungError`, the executor reports it (``on_hung``), stays busy (no later job runs
before it returns) and reports the recovery (``on_recovered``) when the driver call finally
comes back. Nothing ever waits on a hung device without a bound.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, TypeVar

from models.errors import DeviceError

log = logging.getLogger(__name__)
T = TypeVar("T")


class ExecutorError(DeviceError):
    """The device executor refused or abandoned a call (the subclasses say why)."""

    code = "device_executor_error"


class WrongDeviceThreadError(ExecutorError):
    """A driver was called from a thread other than its device's executor."""

    code = "device_wrong_thread"


class DeviceCallCancelledError(ExecutorError):
    """The job this driver call belongs to was cancelled: the device is not touched."""

    code = "device_call_cancelled"


class DeviceBusyError(ExecutorError):
    """The device is claimed by someone else (a transaction, a self-test) or is hung."""

    code = "device_busy"


class DeviceHungError(ExecutorError):
    """A driver call did not return within its bound; the device is unusable until it does."""

    code = "device_hung"


class CancelToken(threading.Event):
    """Set when the work it belongs to must stop; names that work's owner."""

    def __init__(self, owner: str = "") -> None:
        super().__init__()
        self.owner = owner

    def cancel(self) -> None:
        self.set()

    @property
    def cancelled(self) -> bool:
        return self.is_set()


@dataclass
class _Job:
    fn: Callable[[], Any]
    token: CancelToken | None
    future: Future[Any]
    name: str


HungListener = Callable[[str, str], object]  # (device, what)


class DeviceExecutor:
    """A single worker thread for one device."""

    def __init__(
        self,
        device: str,
        *,
        join_s: float = 3.0,
        on_hung: HungListener | None = None,
        on_recovered: HungListener | None = None,
    ) -> None:
        self.device = device
        self.join_s = join_s
        self.on_hung = on_hung
        self.on_recovered = on_recovered
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._ident: int | None = None
        self._current: _Job | None = None
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0  # jobs queued or running
        self._owner: str | None = None
        self._hung: str | None = None  # the job that did not come back in time

    # --- life cycle --------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._loop, name=f"kiosk-device-{self.device}", daemon=True
            )
            self._thread.start()

    def close(self, timeout_s: float | None = None) -> bool:
        """Stop the thread after the jobs already queued; True if it ended in time."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None:
            return True
        self._queue.put(None)
        thread.join(self.join_s if timeout_s is None else timeout_s)
        if thread.is_alive():
            log.error("device %s: worker still inside a driver call at close", self.device)
            return False
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None

    # --- the assertion -----------------------------------------------------------------

    def on_thread(self) -> bool:
        return threading.get_ident() == self._ident

    def check_caller(self, what: str) -> None:
        """Raise unless called from this executor's thread by a job that is not cancelled."""
        if threading.get_ident() != self._ident:
            raise WrongDeviceThreadError(
                f"{self.device}.{what} called from thread {threading.current_thread().name!r},"
                f" not from kiosk-device-{self.device}"
            )
        job = self._current
        if job is not None and job.token is not None and job.token.is_set():
            raise DeviceCallCancelledError(f"{self.device}.{what}: job {job.name} was cancelled")

    # --- claims ------------------------------------------------------------------------

    def claim(self, owner: str, timeout_s: float = 0.0) -> None:
        """Reserve the device for ``owner``; :class:`DeviceBusyError` if it stays taken."""
        deadline = time.monotonic() + timeout_s
        with self._idle:
            while self._owner not in (None, owner) or self._hung is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DeviceBusyError(self._busy_message())
                self._idle.wait(remaining)
            self._owner = owner

    def release(self, owner: str) -> None:
        with self._idle:
            if self._owner == owner:
                self._owner = None
                self._idle.notify_all()

    @property
    def owner(self) -> str | None:
        return self._owner

    @property
    def hung(self) -> str | None:
        """The name of a job that overran its bound and has not returned yet."""
        return self._hung

    def _busy_message(self) -> str:
        if self._hung is not None:
            return f"{self.device} is hung in {self._hung}"
        return f"{self.device} is in use by {self._owner}"

    # --- running jobs ------------------------------------------------------------------

    def submit(
        self, fn: Callable[..., T], *args: Any, token: CancelToken | None = None, name: str = ""
    ) -> Future[T]:
        """Queue ``fn(*args)``; refused when the device is claimed by another owner or hung."""
        owner = token.owner if token is not None else None
        future: Future[T] = Future()
        with self._lock:
            if self._thread is None:
                raise DeviceBusyError(f"{self.device}: executor not running")
            if self._hung is not None or self._owner not in (None, owner):
                raise DeviceBusyError(self._busy_message())
            self._pending += 1
        self._queue.put(_Job(lambda: fn(*args), token, future, name or _name_of(fn)))
        return future

    def call(
        self,
        fn: Callable[..., T],
        *args: Any,
        token: CancelToken | None = None,
        timeout_s: float | None = None,
        name: str = "",
    ) -> T:
        """Run ``fn(*args)`` on the device thread and wait for it.

        Waiting stops when ``timeout_s`` passes or ``token`` is cancelled: the token is then set
        (the job's next driver call raises), and the job gets ``join_s`` more to come back.
        Raises :class:`DeviceHungError` if it does not, or the job's own exception.
        """
        if self.on_thread():  # already on the device thread (a job calling a helper)
            return fn(*args)
        job_token = token if token is not None else CancelToken()
        future = self.submit(fn, *args, token=job_token, name=name)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            try:
                return future.result(timeout=0.05)
            except FutureTimeout:
                if job_token.is_set() or (deadline is not None and time.monotonic() > deadline):
                    break
        job_token.set()
        return self._join(future, name or _name_of(fn))

    def _join(self, future: Future[T], name: str) -> T:
        try:
            return future.result(timeout=self.join_s)
        except FutureTimeout:
            pass
        with self._lock:
            if future.done():
                return future.result()
            first = self._hung is None
            self._hung = name
        if first:
            log.error(
                "device %s: %s did not return %.1f s after cancel", self.device, name, self.join_s
            )
            self._tell(self.on_hung, name)
        raise DeviceHungError(f"{self.device}: {name} did not return after cancel")

    def _tell(self, listener: HungListener | None, what: str) -> None:
        if listener is None:
            return
        try:
            listener(self.device, what)
        except Exception:  # a listener's bug must not wedge the device thread
            log.exception("device %s: listener failed", self.device)

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no job is queued or running; False if one still is after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
            return True

    @property
    def idle(self) -> bool:
        return self._pending == 0

    def _loop(self) -> None:
        self._ident = threading.get_ident()
        try:
            while True:
                job = self._queue.get()
                if job is None:
                    return
                self._run(job)
        finally:
            self._ident = None  # a later thread that reuses the id is not this executor

    def _run(self, job: _Job) -> None:
        self._current = job
        try:
            if job.future.set_running_or_notify_cancel():
                if job.token is not None and job.token.is_set():  # given up while queued
                    job.future.set_exception(
                        DeviceCallCancelledError(f"{self.device}: {job.name} cancelled in queue")
                    )
                else:
                    try:
                        job.future.set_result(job.fn())
                    except BaseException as exc:
                        job.future.set_exception(exc)
        finally:
            self._current = None
            with self._lock:
                recovered, self._hung = self._hung, None
            if recovered is not None:  # reported before anyone waiting for idle wakes up
                log.warning("device %s: %s came back; device usable again", self.device, recovered)
                self._tell(self.on_recovered, recovered)
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()


def _name_of(fn: Callable[..., Any]) -> str:
    return str(getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or "job")


class DeviceBound:
    """Mixin of the device interfaces: the check each public driver call makes first."""

    _executor: DeviceExecutor | None = None

    def bind_executor(self, executor: DeviceExecutor | None) -> None:
        """From now on, only ``executor``'s thread may call this driver (None: anyone)."""
        self._executor = executor

    @property
    def executor(self) -> DeviceExecutor | None:
        return self._executor

    def _device_call(self, what: str) -> None:
        executor = self._executor
        if executor is not None:
            executor.check_caller(what)


def on_device(device: object, fn: Callable[[], T], *, owner: str, timeout_s: float) -> T:
    """Run ``fn`` on ``device``'s executor for ``owner`` (directly when it has none).

    The device is claimed for ``owner`` for the length of the call: :class:`DeviceBusyError`
    when a transaction (or anyone else) holds it.
    """
    executor = device.executor if isinstance(device, DeviceBound) else None
    if executor is None:
        return fn()
    executor.start()  # idempotent: a console may test devices the kiosk has not opened yet
    executor.claim(owner)
    try:
        return executor.call(fn, token=CancelToken(owner), timeout_s=timeout_s)
    finally:
        executor.release(owner)
