"""Start and stop our own ``pcscd`` with vsmartcard's vpcd reader (no systemd needed).

Used by the test fixtures, ``make demo`` and the technician console::

    with PcscDaemon() as daemon:            # pcscd -f with a private vpcd reader config
        os.environ.update(daemon.client_env())   # before the first PC/SC call of the process
        ...                                 # "Virtual PCD 00 00" accepts cards on daemon.vpcd_port

pcscd 1.9 always serves ``/run/pcscd/pcscd.comm``; only the client library reads
``PCSCLITE_CSOCK_NAME``. To run beside another pcscd (a system one, or another test session)
the daemon is started, when ``isolate`` allows it, in a private mount namespace (``unshare``)
where a temporary directory is mounted over ``/run/pcscd``; clients then reach it through
``PCSCLITE_CSOCK_NAME``. The client library reads that variable once per process, so set it
before the first PC/SC call.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from models.errors import DeviceNotAvailableError

log = logging.getLogger(__name__)

VPCD_DRIVER_DIR = Path("/usr/lib/pcsc/drivers/serial")
SYSTEM_SOCKET = Path("/run/pcscd/pcscd.comm")
SOCKET_ENV = "PCSCLITE_CSOCK_NAME"
VPCD_READER_PREFIX = "Virtual PCD"
DEFAULT_VPCD_PORT = 35963
_PR_SET_PDEATHSIG = 1

# Runs inside the private mount namespace: put our directory over /run/pcscd, then become pcscd.
_NAMESPACE_SCRIPT = """set -e
run_dir="$1"; shift
if [ ! -d /run/pcscd ]; then
  mkdir /run/pcscd 2>/dev/null || { mount -t tmpfs kiosk-run /run; mkdir /run/pcscd; }
fi
mount --bind "$run_dir" /run/pcscd
exec "$@"
"""


class PcscDaemonError(DeviceNotAvailableError):
    """pcscd (or the vpcd driver) could not be started."""

    code = "pcscd_unavailable"


def free_port_pair() -> int:
    """A TCP port P such that P and P+1 are free (vpcd listens on one port per slot)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise PcscDaemonError("no free pair of TCP ports for vpcd")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _vpcd_driver() -> Path:
    for candidate in sorted(VPCD_DRIVER_DIR.glob("libifdvpcd.so*")):
        return candidate
    raise PcscDaemonError(
        f"the vpcd driver is missing from {VPCD_DRIVER_DIR}: install the Debian package "
        "'vsmartcard-vpcd'"
    )


def _socket_accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


class PcscDaemon:
    """A ``pcscd --foreground`` subprocess serving one vpcd reader (two slots: ``Virtual PCD
    00 00`` on ``vpcd_port`` and ``Virtual PCD 00 01`` on the next port)."""

    def __init__(
        self,
        *,
        vpcd_port: int = DEFAULT_VPCD_PORT,
        isolate: bool | None = None,
        start_timeout_s: float = 5.0,
        pcscd: str = "pcscd",
        run_dir: Path | None = None,
        friendly_name: str = VPCD_READER_PREFIX,
    ) -> None:
        """``run_dir`` holds the socket of an isolated daemon; give one to keep the same socket
        path across stop() and start() (the client library caches the path per process).
        ``friendly_name`` names the reader (``<name> 00 00``): a daemon on the same ``run_dir``
        with another name is how a test makes the kiosk's reader vanish from a running pcscd
        (pcsc-lite 1.9 does not unload a configured reader while it runs)."""
        self.vpcd_port = vpcd_port
        self.isolate = isolate
        self.start_timeout_s = start_timeout_s
        self.pcscd = pcscd
        self.run_dir = run_dir
        self.friendly_name = friendly_name
        self.reader_name = f"{friendly_name} 00 00"
        self.socket_path = SYSTEM_SOCKET
        self.isolated = False
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None

    # --- public API --------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def client_env(self) -> dict[str, str]:
        """Environment that points the PC/SC client library at this daemon."""
        return {SOCKET_ENV: str(self.socket_path)}

    def start(self) -> None:
        """Start pcscd and return once it accepts clients with the vpcd reader loaded."""
        if self.running:
            return
        binary = shutil.which(self.pcscd) or shutil.which(self.pcscd, path="/usr/sbin:/sbin")
        if binary is None:
            raise PcscDaemonError("pcscd is not installed: install the Debian package 'pcscd'")
        driver = _vpcd_driver()
        self._workdir = Path(tempfile.mkdtemp(prefix="kiosk-pcscd-"))
        (self._workdir / "reader.conf.d").mkdir()
        (self._workdir / "reader.conf.d" / "vpcd").write_text(
            f'FRIENDLYNAME "{self.friendly_name}"\n'
            f"DEVICENAME   /dev/null:0x{self.vpcd_port:04X}\n"
            f"LIBPATH      {driver}\n"
            f"CHANNELID    0x{self.vpcd_port:04X}\n"
        )
        pcscd_cmd = [binary, "--foreground", "--info", "-c", str(self._workdir / "reader.conf.d")]
        attempts = [True, False] if self.isolate is None else [self.isolate]
        problems: list[str] = []
        for isolated in attempts:
            try:
                self._launch(pcscd_cmd, isolated)
                return
            except PcscDaemonError as exc:
                problems.append(str(exc))
        self._cleanup_workdir()
        raise PcscDaemonError("; ".join(problems))

    def stop(self, timeout_s: float = 3.0) -> None:
        """Stop pcscd (SIGTERM, then SIGKILL) and remove its temporary files."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout_s)
            log.info("pcscd stopped")
        self._cleanup_workdir()

    def log_text(self) -> str:
        """pcscd's own output so far (for diagnostics; pcscd logs no APDUs without -a)."""
        if self._workdir is None:
            return ""
        path = self._workdir / "pcscd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> PcscDaemon:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- internals ---------------------------------------------------------------------

    def _launch(self, pcscd_cmd: list[str], isolated: bool) -> None:
        assert self._workdir is not None
        run_dir = self.run_dir or self._workdir / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        if isolated:
            unshare = shutil.which("unshare")
            if unshare is None:
                raise PcscDaemonError("'unshare' (util-linux) is needed to isolate pcscd")
            ns = ["--mount"] if os.geteuid() == 0 else ["--user", "--map-root-user", "--mount"]
            command = [unshare, *ns, "sh", "-c", _NAMESPACE_SCRIPT, "sh", str(run_dir)]
            command += pcscd_cmd
            socket_path = run_dir / "pcscd.comm"
        else:
            if _socket_accepts(SYSTEM_SOCKET):
                raise PcscDaemonError(f"another pcscd already serves {SYSTEM_SOCKET}")
            command, socket_path = pcscd_cmd, SYSTEM_SOCKET
        log_path = self._workdir / "pcscd.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent
                if threading.current_thread() is threading.main_thread()
                else None,
            )
        self._process = process
        self.socket_path = socket_path
        self.isolated = isolated
        try:
            self._wait_ready(log_path)
        except PcscDaemonError:
            self._kill()
            raise
        log.info("pcscd started (pid %d, isolated=%s)", process.pid, isolated)

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(3.0)

    def _wait_ready(self, log_path: Path) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise PcscDaemonError(f"pcscd exited at start: {' | '.join(tail)}")
            output = log_path.read_text(errors="replace")
            if "daemon ready" in output and _socket_accepts(self.socket_path):
                return
            time.sleep(0.02)
        raise PcscDaemonError(f"pcscd not ready after {self.start_timeout_s:.1f} s")

    def _cleanup_workdir(self) -> None:
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
