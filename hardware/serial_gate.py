"""Gate on a serial relay board, with a simple line protocol.

The protocol (ASCII lines ended by CR LF; the board may end its lines with CR, LF or both):

====================  ==========================================================
host -> board         meaning
====================  ==========================================================
``OPEN ENTRY``        open the entry door (the board interlocks the exit)
``CLOSE ENTRY``       close the entry door
``OPEN EXIT``         open the exit door
``CLOSE EXIT``        close the exit door
``CLOSE ALL``         close and lock both doors
``EMERGENCY``         release both doors
``PING``              heartbeat
``WATCHDOG <ms>``     arm the board's door watchdog (``0`` disarms; 50..60000)
====================  ==========================================================

====================  ==========================================================
board -> host         meaning
====================  ==========================================================
``OK``                the last command was carried out
``ERR <reason>``      the last command was refused or failed
``PONG``              the answer to ``PING``
``EVT PRESENCE 0|1``  somebody left / entered the gate (pushed by the board)
``EVT TAILGATE 0|1``  more than one person inside, or no longer
``EVT COUNT <n>``     persons counted inside (0..20; boards with a people counter,
                      ``counts_persons = true``: needed for family passages)
``EVT EMERGENCY``     the board's own emergency input fired; it opened the doors
``EVT FAULT <code>``  the board found a fault (door jammed, motor, power;
                      ``watchdog``: the host went silent and the doors were closed)
====================  ==========================================================

The watchdog (docs/GATE_PROTOCOL.md has the board maker's specification): right after
connecting, the driver sends ``WATCHDOG <watchdog_ms>``; from then on every line the host
sends (a ``PING`` every ``heartbeat_s`` at least) feeds it, and a board that hears nothing for
``watchdog_ms`` closes and locks every door by itself, so a crashed or killed host cannot
leave a door open. A board that answers ``ERR`` has no watchdog: the driver logs a warning and
:attr:`SerialGate.watchdog_armed` stays False (the technician console shows it).

One command is outstanding at a time and must be answered within ``command_timeout_s``. The
thread ``kiosk-gate-serial`` reads everything the board sends; the interface's worker sends
``PING`` every ``heartbeat_s`` and fails the gate secure (``CLOSE ALL``, then ``FAULT``) after
``heartbeat_misses`` unanswered ones. A vanished port is a fault too; :meth:`Gate.reset`
reconnects.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from hardware.config import SerialGateConfig
from hardware.gate import Gate, GateCommand, GateCommandError, Sensor
from hardware.serial_port import SerialPort, SerialPortError, require_pyserial

log = logging.getLogger(__name__)

MAX_LINE_BYTES = 128
_SENSORS = {"PRESENCE": Sensor.PRESENCE, "TAILGATE": Sensor.TAILGATING}
_FLAGS = {"0": False, "1": True}


class SerialGate(Gate):
    """A gate whose doors are driven by a relay board on a serial port."""

    def __init__(self, config: SerialGateConfig) -> None:
        super().__init__(
            heartbeat_s=config.heartbeat_s,
            heartbeat_misses=config.heartbeat_misses,
            open_timeout_s=config.open_timeout_s,
        )
        self.config = config
        self._port: SerialPort | None = None
        self._reader: threading.Thread | None = None
        self._stop = threading.Event()
        self._replies: queue.Queue[str] = queue.Queue(maxsize=64)
        self._request_lock = threading.Lock()
        self.unknown_lines = 0
        self.watchdog_armed = False
        self.counts_persons = config.counts_persons

    # --- driver hooks ------------------------------------------------------------------

    def _open(self) -> None:
        require_pyserial()
        self._connect()

    def _close(self) -> None:
        self._disconnect()

    def _recover(self) -> None:
        if self._reader is None or not self._reader.is_alive():
            self._disconnect()
            self._connect()
        elif not self.watchdog_armed:
            self._arm_watchdog()

    def _arm_watchdog(self) -> None:
        ms = self.config.watchdog_ms
        if not ms:
            return
        reply = self._request(f"WATCHDOG {ms}", ("OK", "ERR"))
        self.watchdog_armed = reply == "OK"
        if self.watchdog_armed:
            log.info("gate board watchdog armed: doors close after %d ms without the host", ms)
        else:
            log.warning(
                "gate board has no door watchdog (%s): a host crash leaves doors as they are",
                reply[:40],
            )

    def _command(self, command: GateCommand) -> None:
        reply = self._request(command.value, ("OK", "ERR"))
        if reply != "OK":
            raise GateCommandError(f"board refused {command.name}: {reply[:40]}")

    def _heartbeat(self) -> bool:
        self._request("PING", ("PONG",))
        return True

    # --- the link ----------------------------------------------------------------------

    def _connect(self) -> None:
        try:
            self._port = SerialPort(self.config.port, self.config.baud, read_timeout_s=0.05)
        except SerialPortError as exc:
            raise GateCommandError(f"gate board not reachable: {exc}") from exc
        self._stop.clear()
        self._reader = threading.Thread(
            target=self._read_loop, args=(self._port,), name="kiosk-gate-serial", daemon=True
        )
        self._reader.start()
        self.watchdog_armed = False
        self._arm_watchdog()

    def _disconnect(self) -> None:
        self._stop.set()
        if self._reader is not None:
            self._reader.join(timeout=5.0)
            self._reader = None
        if self._port is not None:
            self._port.close()
            self._port = None

    def _request(self, line: str, answers: tuple[str, ...]) -> str:
        """Send one command line; return the first reply that starts with one of ``answers``."""
        with self._request_lock:
            port = self._port
            if port is None or self._reader is None or not self._reader.is_alive():
                raise GateCommandError("gate board link is down")
            while not self._replies.empty():  # replies that came too late for their command
                self._replies.get_nowait()
            try:
                port.write(line.encode("ascii") + b"\r\n")
            except SerialPortError as exc:
                raise GateCommandError(f"gate board write failed: {exc}") from exc
            deadline = time.monotonic() + self.config.command_timeout_s
            while (remaining := deadline - time.monotonic()) > 0:
                try:
                    reply = self._replies.get(timeout=remaining)
                except queue.Empty:
                    break
                if reply.split(" ", 1)[0] in answers:
                    return reply
            raise GateCommandError(f"gate board did not answer {line.split(' ', 1)[0]}")

    def _read_loop(self, port: SerialPort) -> None:
        buffer = bytearray()
        while not self._stop.is_set():
            try:
                data = port.read()
            except SerialPortError as exc:
                log.error("gate board link lost: %s", exc)
                self._report_fault("gate_link_lost", str(exc))
                return
            for byte in data:
                if byte in (0x0D, 0x0A):
                    if buffer:
                        self._handle_line(buffer.decode("ascii", errors="replace").strip())
                    buffer.clear()
                elif len(buffer) < MAX_LINE_BYTES:
                    buffer.append(byte)

    def _handle_line(self, line: str) -> None:
        words = line.split()
        if not words:
            return
        if words[0] in ("OK", "ERR", "PONG"):
            try:
                self._replies.put_nowait(line)
            except queue.Full:
                self.unknown_lines += 1  # nobody is asking; a chatty board cannot fill memory
        elif words[0] == "EVT" and len(words) >= 2:
            self._handle_event(words[1:])
        else:
            self.unknown_lines += 1

    def _handle_event(self, words: list[str]) -> None:
        kind = words[0]
        if kind in _SENSORS and len(words) == 2 and words[1] in _FLAGS:
            self._sensor_changed(_SENSORS[kind], _FLAGS[words[1]])
        elif kind == "COUNT" and self.counts_persons and len(words) == 2:
            count = words[1]
            if count.isascii() and count.isdigit() and len(count) <= 3:
                self._persons_counted(int(count))
            else:
                self.unknown_lines += 1
        elif kind == "EMERGENCY":
            self._board_emergency()
        elif kind == "FAULT":
            code = words[1] if len(words) > 1 and words[1].isidentifier() else "unknown"
            if code == "watchdog":
                self.watchdog_armed = False  # re-armed by the next reset
                self._report_fault("gate_watchdog_tripped", "board closed the doors: host silent")
            else:
                self._report_fault("gate_board_fault", f"board reports {code[:32]}")
        else:
            self.unknown_lines += 1
