"""An MRZ reader's side of a serial line on a pseudo-terminal: writes each scanned
document's MRZ the way a serial OCR reader does (lines ended by CR LF and an empty line, or
one frame between STX and ETX), for :class:`hardware.serial_mrz_reader.SerialMrzReader`."""

from __future__ import annotations

import os
import tty

STX, ETX = b"\x02", b"\x03"


class PtyMrzFeed:
    def __init__(self, framing: str = "crlf") -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.framing = framing
        self.scans = 0

    def scan(self, mrz: str) -> None:
        """Send one document's MRZ (lines separated by newlines)."""
        lines = [line.strip() for line in mrz.splitlines() if line.strip()]
        if self.framing == "stx_etx":
            data = STX + "\r".join(lines).encode("ascii") + ETX
        else:
            data = b"".join(line.encode("ascii") + b"\r\n" for line in lines) + b"\r\n"
        os.write(self.master, data)
        self.scans += 1

    def write(self, data: bytes) -> None:
        """Bytes as a faulty reader might send them (noise, a partial frame)."""
        os.write(self.master, data)

    def close(self) -> None:
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass
