"""A dlib worker process, so dlib never holds the kiosk process's GIL.

dlib keeps the Python GIL while it detects faces or computes an encoding (about 0.1 s per
face), which freezes every thread of the process that calls it, the GUI thread included.
:class:`FaceWorker` runs that work in a separate process:

- started as soon as :meth:`FaceWorker.start` is called, never by forking the kiosk process
  (a process that has threads is never forked): a matcher or detector is forked from
  multiprocessing's fork server, a clean process that imported dlib, its models and OpenCV
  once (:mod:`kiosk.face.preload`), so a new worker is ready in milliseconds instead of
  seconds; the decoder gets a fresh interpreter (``spawn``); the first traveller never
  waits for the models;
- one request at a time goes through a pipe: numpy arrays out, plain picklable values back;
- a request that gets no answer within its timeout, or a worker that dies, gives a
  :class:`FaceWorkerError` (the engine refers the traveller); the worker is killed and a new
  one started at once, so the next request finds it loading or ready;
- :meth:`FaceWorker.close` stops the worker and reaps it.

A worker has a *role*: ``"matcher"`` (all models; face templates), ``"detector"`` (only the
HOG detector; face boxes for the live tracker) or ``"decoder"`` (only Pillow's JPEG and JPEG
2000 plugins; chip photos, :mod:`kiosk.face.photo_decoder`). Images and templates cross the
pipe but are never logged. :mod:`kiosk.face.remote` has the matcher and detector built on it.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import Any, Self

from models.errors import DeviceError

log = logging.getLogger(__name__)

_READY = "ready"
_RESULT = "result"
_FAILED = "failed"
ROLES = ("matcher", "detector", "decoder")


class FaceWorkerError(DeviceError):
    """The face worker process did not answer (died, timed out or failed to start)."""

    code = "face_worker_failed"


class FaceWorkerTimeout(FaceWorkerError):
    """The face worker took longer than the request's time limit (it was killed)."""


class FaceWorkerDied(FaceWorkerError):
    """The face worker process ended during a request (a crash, a kill)."""


class FaceWorker:
    """One worker process and the pipe to it; thread-safe (requests are serialised)."""

    def __init__(
        self,
        role: str,
        settings: dict[str, Any] | None = None,
        *,
        start_timeout_s: float = 60.0,
        start_method: str | None = None,
    ) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown face worker role {role!r}")
        method = start_method or ("spawn" if role == "decoder" else "forkserver")
        if method not in ("spawn", "forkserver"):
            raise ValueError("the face worker is started with spawn or forkserver, never fork")
        self.role = role
        self.settings = dict(settings or {})
        self.start_timeout_s = start_timeout_s
        self._context: SpawnContext | ForkServerContext = (
            multiprocessing.get_context("spawn") if method == "spawn" else _fork_server()
        )
        self._lock = threading.Lock()  # one request in flight; guards the process and pipe
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._ready = False
        self._closed = False
        self._next_id = 0
        self.restarts = 0

    def start(self) -> None:
        """Start the worker (it loads its models in the background); returns at once."""
        with self._lock:
            if self._closed:
                raise FaceWorkerError("the face worker is closed")
            if self._process is None:
                self._spawn()

    def wait_ready(self, timeout_s: float | None = None) -> None:
        """Block until the worker has loaded its models (FaceWorkerError if it cannot)."""
        with self._lock:
            if self._closed:
                raise FaceWorkerError("the face worker is closed")
            if self._process is None:
                self._spawn()
            self._await_ready(self.start_timeout_s if timeout_s is None else timeout_s)

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None else None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._stop(graceful=True)

    def request(self, kind: str, payload: Any, timeout_s: float) -> Any:
        """Send one request and return the worker's answer, or raise FaceWorkerError."""
        with self._lock:
            if self._closed:
                raise FaceWorkerError("the face worker is closed")
            if self._process is None or not self._process.is_alive():
                self._restart("worker not running")
            self._await_ready(self.start_timeout_s)
            self._next_id += 1
            number = self._next_id
            try:
                self._send((kind, number, payload), timeout_s)
                status, answered, value = self._receive(timeout_s)
            except (OSError, EOFError, ValueError) as exc:
                self._restart(type(exc).__name__)
                raise FaceWorkerDied("the face worker stopped during a request") from exc
            except FaceWorkerError:
                self._restart("no answer")
                raise
        if status != _RESULT or answered != number:
            raise FaceWorkerError(f"the face worker failed: {value}")
        return value

    # --- internals (called with the lock held) ------------------------------------------------

    def _spawn(self) -> None:
        parent, child = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=serve,
            args=(child, self.role, self.settings),
            name=f"kiosk-face-{self.role}",
            daemon=True,
        )
        process.start()
        child.close()  # the worker holds its end; EOF here means the worker is gone
        self._process, self._conn, self._ready = process, parent, False
        log.info("face %s worker started (pid %s)", self.role, process.pid)

    def _await_ready(self, timeout_s: float) -> None:
        if self._ready:
            return
        try:
            status, _, detail = self._receive(timeout_s)
        except (OSError, EOFError) as exc:
            self._restart("died while starting")
            raise FaceWorkerError("the face worker died while loading its models") from exc
        except FaceWorkerError:
            self._restart("slow start")
            raise
        if status != _READY:
            self._stop(graceful=False)
            raise FaceWorkerError(f"the face worker could not start: {detail}")
        self._ready = True

    def _send(self, message: tuple[str, int, Any], timeout_s: float) -> None:
        """Send on a helper thread: a stuck worker stops reading and a big image then blocks
        the send for ever; killing the worker is what unblocks it."""
        conn, process = self._conn, self._process
        assert conn is not None and process is not None
        failure: list[BaseException] = []

        def push() -> None:
            try:
                conn.send(message)
            except BaseException as exc:  # handed to the caller below
                failure.append(exc)

        sender = threading.Thread(target=push, name=f"kiosk-face-{self.role}-send", daemon=True)
        sender.start()
        sender.join(timeout_s)
        if sender.is_alive():
            process.kill()  # the send fails at once once the worker's end is gone
            sender.join(5.0)
            raise FaceWorkerTimeout(f"the face worker did not take a request within {timeout_s}s")
        if failure:
            raise failure[0]

    def _receive(self, timeout_s: float) -> tuple[str, int, Any]:
        conn, process = self._conn, self._process
        assert conn is not None and process is not None
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise FaceWorkerTimeout(f"the face worker did not answer within {timeout_s:.1f}s")
            ready = wait([conn, process.sentinel], timeout=left)
            if conn in ready:
                message = conn.recv()  # EOFError when the worker died
                if isinstance(message, tuple) and len(message) == 3:
                    return message
                raise FaceWorkerError("the face worker sent an unexpected message")
            if ready:  # only the sentinel: the worker exited without a word
                raise EOFError("the face worker exited")

    def _restart(self, why: str) -> None:
        log.warning("face %s worker restarting: %s", self.role, why)
        self._stop(graceful=False)
        if not self._closed:
            self.restarts += 1
            self._spawn()

    def _stop(self, *, graceful: bool) -> None:
        process, conn = self._process, self._conn
        self._process, self._conn, self._ready = None, None, False
        if conn is not None and graceful:
            try:
                conn.send(None)  # a few bytes: never blocks on a worker that reads requests
            except (OSError, ValueError):
                pass
        if process is not None:
            self._reap(process, graceful)
        if conn is not None:
            conn.close()

    def _reap(self, process: BaseProcess, graceful: bool) -> None:
        if graceful:  # asked to stop above; a hung worker gets SIGTERM, then SIGKILL
            process.join(2.0)
            if process.is_alive():
                process.terminate()
                process.join(2.0)
        if process.is_alive():  # a failed or stuck worker is killed outright
            process.kill()
            process.join(5.0)
        if process.is_alive():
            log.error("face %s worker (pid %s) did not exit", self.role, process.pid)
        else:
            process.close()


PRELOAD = "kiosk.face.preload"


def _fork_server() -> ForkServerContext:
    """multiprocessing's fork server, told (before it starts) to import :data:`PRELOAD`."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([PRELOAD])  # no effect once the server runs (same list)
    return context


def _handlers(role: str, settings: dict[str, Any]) -> dict[str, Any]:
    if role == "decoder":  # Pillow only: no dlib, no OpenCV in the process that decodes
        from kiosk.face.photo_decoder import decoder_handlers

        return decoder_handlers(settings)
    from kiosk.face.remote import handlers_for

    return handlers_for(role, settings)


def serve(conn: Connection, role: str, settings: dict[str, Any]) -> None:
    """The worker's main loop: load the models, then answer requests until told to stop
    (``None``) or until the parent's end of the pipe closes (the parent died)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        handlers = _handlers(role, settings)
    except Exception as exc:
        answer: tuple[str, int, Any] = (_FAILED, 0, type(exc).__name__)
    else:
        answer = (_READY, 0, None)
    try:
        conn.send(answer)
    except (OSError, ValueError):  # the parent went away while the models loaded
        return
    if answer[0] != _READY:
        return
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        kind, number, payload = message
        handler = handlers.get(kind)
        try:
            if handler is None:
                raise LookupError(kind)
            answer = (_RESULT, number, handler(payload))
        except Exception as exc:  # reported to the caller as a FaceWorkerError
            answer = (_FAILED, number, type(exc).__name__)
        try:
            conn.send(answer)
        except (OSError, ValueError):
            return


class WorkerClient:
    """What a client served by one :class:`FaceWorker` shares: starting it early, waiting for
    it to be ready, closing it, and the context manager around that."""

    worker: FaceWorker

    def start(self) -> Self:
        """Start the worker now (it loads what it needs in the background); returns at once."""
        self.worker.start()
        return self

    def wait_ready(self, timeout_s: float | None = None) -> None:
        self.worker.wait_ready(timeout_s)

    def close(self) -> None:
        self.worker.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
