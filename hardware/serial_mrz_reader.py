"""MRZ reader on a serial line (RS-232, or USB serial as /dev/ttyUSB*, /dev/ttyACM*).

The reader sends each document's MRZ as text lines, either bare (lines ended by CR, LF or
CR LF; ``framing = "crlf"``) or wrapped as ``STX lines ETX`` (``framing = "stx_etx"``). See
:mod:`hardware.mrz_framing` for what counts as a frame; garbage and partial frames are
discarded and counted, and ``degraded_after_discards`` of them in a row make the status
degraded until the next good frame.

One thread, ``kiosk-mrz-serial``, owns the port: it opens it, reads, and when the port
vanishes (unplugged, reader reset) reports offline and retries every ``reconnect_s`` until
the port comes back, then reports ok. A reader that is unplugged at start-up starts offline.
Serial readers rarely say when the document leaves; with ``presence_timeout_s`` set the
document counts as removed that long after its last scan, and always when the port vanishes.
"""

from __future__ import annotations

import logging
import threading
import time

from hardware.config import SerialMrzReaderConfig
from hardware.mrz_framing import LineFramer, StxEtxFramer
from hardware.mrz_reader import DeviceHealth, MrzReader
from hardware.serial_port import SerialPort, SerialPortError, require_pyserial

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.05


class SerialMrzReader(MrzReader):
    """An OCR MRZ reader speaking a line protocol on a serial port."""

    def __init__(self, config: SerialMrzReaderConfig) -> None:
        super().__init__(source=f"serial:{config.port}")
        self.config = config
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.framer: LineFramer | StxEtxFramer = self._new_framer()
        self.reconnects = 0
        self._last_byte_at = 0.0
        self._last_scan_at: float | None = None

    def _new_framer(self) -> LineFramer | StxEtxFramer:
        return StxEtxFramer() if self.config.framing == "stx_etx" else LineFramer()

    @property
    def discarded_frames(self) -> int:
        return self.framer.discards.total

    def _open(self) -> None:
        require_pyserial()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="kiosk-mrz-serial", daemon=True)
        self._thread.start()

    def _close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    # --- the device thread -------------------------------------------------------------

    def _run(self) -> None:
        port: SerialPort | None = None
        try:
            while not self._stop.is_set():
                if port is None:
                    port = self._connect()
                    if port is None:
                        self._stop.wait(self.config.reconnect_s)
                    continue
                try:
                    data = port.read()
                except SerialPortError as exc:
                    port.close()
                    port = None
                    self._lost(exc)
                    continue
                self._handle(data)
        finally:
            if port is not None:
                port.close()

    def _connect(self) -> SerialPort | None:
        try:
            port = SerialPort(self.config.port, self.config.baud, READ_TIMEOUT_S)
        except SerialPortError as exc:
            self._set_status(DeviceHealth.OFFLINE, str(exc))
            return None
        self.framer = self._new_framer()
        self._last_byte_at = time.monotonic()
        self._last_scan_at = None
        self.reconnects += 1
        self._set_status(DeviceHealth.OK)
        return port

    def _lost(self, exc: SerialPortError) -> None:
        log.warning("mrz reader %s lost: %s", self.source, exc)
        self._publish_removed()
        self._set_status(DeviceHealth.OFFLINE, str(exc))

    def _handle(self, data: bytes) -> None:
        now = time.monotonic()
        if data:
            self._last_byte_at = now
            for frame in self.framer.feed(data):
                self._last_scan_at = now
                self._publish_scan(frame)
        elif self.framer.pending and now - self._last_byte_at > self.config.frame_gap_ms / 1000:
            self.framer.drop_partial()
        self._check_presence(now)
        self._check_noise()

    def _check_presence(self, now: float) -> None:
        timeout = self.config.presence_timeout_s
        last = self._last_scan_at
        if timeout is not None and last is not None and now - last > timeout:
            self._last_scan_at = None
            self._publish_removed()

    def _check_noise(self) -> None:
        discards = self.framer.discards.consecutive
        if discards >= self.config.degraded_after_discards:
            self._set_status(DeviceHealth.DEGRADED, f"{discards} unreadable frames in a row")
        elif discards == 0 and self.status.health is DeviceHealth.DEGRADED:
            self._set_status(DeviceHealth.OK)
