"""MRZ reader that types: a keyboard-wedge OCR reader.

The reader presents itself as a keyboard and types the MRZ, pressing Enter after each line.
Whatever receives the keystrokes (the UI's key handler, an evdev or stdin source) hands them
to :meth:`KeyboardWedgeMrzReader.feed_key` or :meth:`~KeyboardWedgeMrzReader.feed_text`; these
only queue the keys, so a GUI thread never waits. The device thread ``kiosk-mrz-wedge``
assembles them: Enter (CR or LF) ends a line, and a pause between keys longer than
``inter_key_timeout_ms`` ends the scan, so a person typing slowly never makes a frame. Lines
are grouped into MRZ frames by :class:`~hardware.mrz_framing.MrzLineAssembler`; anything else
is discarded. A keyboard wedge cannot tell when the document leaves, so this driver never
reports a removal.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from hardware.config import KeyboardWedgeMrzReaderConfig
from hardware.mrz_framing import MAX_LINE_CHARS, MrzLineAssembler
from hardware.mrz_reader import DeviceHealth, MrzReader, MrzReaderNotOpenError

log = logging.getLogger(__name__)


class KeyboardWedgeMrzReader(MrzReader):
    """MRZ lines assembled from keystrokes."""

    def __init__(self, config: KeyboardWedgeMrzReaderConfig) -> None:
        super().__init__(source="keyboard")
        self.config = config
        self._timeout_s = config.inter_key_timeout_ms / 1000
        self._keys: queue.Queue[tuple[str, float] | None] = queue.Queue(
            maxsize=config.max_pending_keys
        )
        self._thread: threading.Thread | None = None
        self.assembler = MrzLineAssembler()
        self.dropped_keys = 0
        self._line: list[str] = []
        self._overlong = False
        self._last_key_at: float | None = None

    # --- keystrokes in (any thread) ----------------------------------------------------

    def feed_key(self, char: str, t: float | None = None) -> None:
        """One keystroke: a character, or CR/LF for Enter. ``t`` is its time.monotonic()."""
        if not self.is_open:
            raise MrzReaderNotOpenError("keystrokes fed to a keyboard wedge that is not open")
        try:
            self._keys.put_nowait((char, time.monotonic() if t is None else t))
        except queue.Full:
            self.dropped_keys += 1  # bounded memory: a stuck key must not fill the kiosk

    def feed_text(self, text: str, t0: float | None = None, interval_s: float = 0.0) -> None:
        """Keystrokes for each character of ``text``, ``interval_s`` apart from ``t0``."""
        start = time.monotonic() if t0 is None else t0
        for i, char in enumerate(text):
            self.feed_key(char, start + i * interval_s)

    # --- the device thread -------------------------------------------------------------

    def _open(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kiosk-mrz-wedge", daemon=True)
        self._thread.start()
        self._set_status(DeviceHealth.OK)

    def _close(self) -> None:
        if self._thread is None:
            return
        while True:  # make room for the stop marker even if the queue is full
            try:
                self._keys.put_nowait(None)  # the stop marker
                break
            except queue.Full:
                self._drain_one()
        self._thread.join(timeout=5.0)
        self._thread = None

    def _drain_one(self) -> None:
        try:
            self._keys.get_nowait()
        except queue.Empty:
            pass

    def _run(self) -> None:
        while True:
            pending = bool(self._line) or self._overlong or self.assembler.pending
            try:
                item = self._keys.get(timeout=self._timeout_s if pending else None)
            except queue.Empty:
                self._end_scan()  # the reader stopped typing
                continue
            if item is None:
                return
            self._key(*item)

    def _key(self, char: str, t: float) -> None:
        if self._last_key_at is not None and t - self._last_key_at > self._timeout_s:
            self._end_scan()
        self._last_key_at = t
        if char in ("\r", "\n"):
            self._end_line()
        elif len(char) != 1 or not char.isprintable():
            return  # Shift, Tab and the like
        elif len(self._line) > MAX_LINE_CHARS:
            self._overlong = True
        else:
            self._line.append(char)

    def _end_line(self) -> None:
        text = "\ufffd" if self._overlong else "".join(self._line)
        self._line.clear()
        self._overlong = False
        if not text:
            return  # an Enter after Enter: the wedge's pause ends frames, not blank lines
        frame = self.assembler.add_line(text)
        if frame is not None:
            self._publish_scan(frame)

    def _end_scan(self) -> None:
        if self._line or self._overlong:
            self._end_line()
        self.assembler.end_frame()
        self._last_key_at = None
