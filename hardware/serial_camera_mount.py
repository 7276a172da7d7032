"""A camera lift/tilt controller on a serial port, with a simple line protocol.

ASCII lines ended by CR LF (the controller may end its lines with CR, LF or both):

====================  ==========================================================
host -> controller    meaning
====================  ==========================================================
``TILT <n>``          move to step ``n`` (a whole number; 0 is home)
====================  ==========================================================

====================  ==========================================================
controller -> host    meaning
====================  ==========================================================
``POS <n>``           the move ended at step ``n``
``ERR <reason>``      the move was refused or failed (a stalled motor, an end stop)
====================  ==========================================================

One move is outstanding at a time; its ``POS`` must come within ``move_timeout_s``. Lines that
are not answers are counted and ignored; an answer longer than 64 bytes is noise.
"""

from __future__ import annotations

import logging
import time

from hardware.camera_mount import CameraMount, CameraMountError
from hardware.config import SerialCameraMountConfig
from hardware.serial_port import SerialPort, SerialPortError, require_pyserial

log = logging.getLogger(__name__)

MAX_LINE_BYTES = 64


def parse_reply(line: str) -> int | str:
    """``POS <n>`` as the step reached, ``ERR ...`` as its reason; anything else raises."""
    words = line.split()
    if len(words) == 2 and words[0] == "POS":
        value = words[1]
        digits = value[1:] if value[:1] == "-" else value
        if digits.isascii() and digits.isdigit() and len(digits) <= 3:
            return int(value)
    if words and words[0] == "ERR":
        return " ".join(words[1:])[:40] or "refused"
    raise ValueError("not an answer")


class SerialCameraMount(CameraMount):
    def __init__(self, config: SerialCameraMountConfig) -> None:
        super().__init__(lowest=config.lowest, highest=config.highest)
        self.config = config
        self._port: SerialPort | None = None
        self.unknown_lines = 0

    def _open(self) -> None:
        require_pyserial()
        try:
            self._port = SerialPort(self.config.port, self.config.baud, read_timeout_s=0.05)
        except SerialPortError as exc:
            raise CameraMountError(f"camera mount not reachable: {exc}") from exc

    def _close(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None

    def _move(self, target: int) -> int:
        port = self._port
        if port is None:
            raise CameraMountError("camera mount link is down")
        try:
            port.write(f"TILT {target}\r\n".encode("ascii"))
        except SerialPortError as exc:
            raise CameraMountError(f"camera mount write failed: {exc}") from exc
        deadline = time.monotonic() + self.config.move_timeout_s
        buffer = bytearray()
        while time.monotonic() < deadline:
            try:
                data = port.read()
            except SerialPortError as exc:
                raise CameraMountError(f"camera mount read failed: {exc}") from exc
            for byte in data:
                if byte in (10, 13):
                    line = buffer.decode("ascii", errors="replace").strip()
                    buffer.clear()
                    if not line:
                        continue
                    try:
                        reply = parse_reply(line)
                    except ValueError:
                        self.unknown_lines += 1
                        continue
                    if isinstance(reply, str):
                        raise CameraMountError(f"camera mount refused the move: {reply}")
                    return reply
                elif len(buffer) < MAX_LINE_BYTES:
                    buffer.append(byte)
        raise CameraMountError("camera mount did not confirm the move in time")
