"""A serial port for the device threads, on pyserial, with typed errors.

pyserial is imported when a port is opened, so ``import hardware`` works without it and a
missing package gives :class:`~models.errors.DeviceNotAvailableError` naming it. Every failure
of the port (not there, unplugged, read or write failed) becomes :class:`SerialPortError`.
The bytes that pass are never logged: they may be MRZ lines.
"""

from __future__ import annotations

import importlib
from typing import Any

from models.errors import DeviceError, DeviceNotAvailableError


class SerialPortError(DeviceError):
    """The serial port is missing, vanished, or a read or write on it failed."""

    code = "serial_port_error"


def _serial_module() -> Any:
    try:
        return importlib.import_module("serial")
    except ImportError as exc:
        raise DeviceNotAvailableError(
            "the serial drivers need the 'pyserial' package (pip install pyserial)"
        ) from exc


def require_pyserial() -> None:
    """Fail early, with a clear error, when pyserial is not installed."""
    _serial_module()


class SerialPort:
    """One open serial port. Reads wait at most ``read_timeout_s``."""

    def __init__(self, path: str, baud: int, read_timeout_s: float = 0.05) -> None:
        serial = _serial_module()
        self.path = path
        try:
            self._port = serial.Serial(
                path, baudrate=baud, timeout=read_timeout_s, write_timeout=1.0, exclusive=True
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise SerialPortError(f"cannot open {path}: {exc}") from exc
        self._errors: tuple[type[BaseException], ...] = (serial.SerialException, OSError)

    def read(self, max_bytes: int = 512) -> bytes:
        """Whatever arrived, up to ``max_bytes``; b"" when nothing came within the timeout."""
        try:
            data: bytes = self._port.read(1)
            if data:
                waiting = min(int(self._port.in_waiting), max_bytes - 1)
                if waiting > 0:
                    data += self._port.read(waiting)
        except self._errors as exc:
            raise SerialPortError(f"read from {self.path} failed: {exc}") from exc
        return data

    def write(self, data: bytes) -> None:
        try:
            self._port.write(data)
            self._port.flush()
        except self._errors as exc:
            raise SerialPortError(f"write to {self.path} failed: {exc}") from exc

    def close(self) -> None:
        try:
            self._port.close()
        except self._errors:
            pass  # the port is gone already; closing it is all we wanted

    def __enter__(self) -> SerialPort:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
