"""Finding whole MRZ frames in what an MRZ reader sends.

A frame is the machine readable zone of one document as raw lines: three lines of 30
characters (TD1), or two lines of 36 (TD2, MRV-B) or 44 (TD3, MRV-A), each made of ``A-Z``,
``0-9`` and ``<`` only. The line length says how many lines the frame has, so a frame is
complete as soon as its last line arrives. Anything else is garbage or a partial frame: it is
discarded and counted. Judging the content is the MRZ parser's job (``kiosk.icao.mrz``).

Three framers share this: :class:`MrzLineAssembler` (text lines, used by the keyboard wedge),
:class:`LineFramer` (bytes, lines ended by CR, LF or CR LF; an empty line or a pause ends a
frame) and :class:`StxEtxFramer` (bytes, one frame between STX and ETX). Their buffers are
bounded whatever the reader sends.
"""

from __future__ import annotations

from collections.abc import Sequence

MRZ_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")
LINES_BY_LENGTH = {30: 3, 36: 2, 44: 2}
MAX_LINE_CHARS = max(LINES_BY_LENGTH)
MAX_FRAME_BYTES = 3 * (MAX_LINE_CHARS + 2) + 16

Frame = tuple[str, ...]

STX = 0x02
ETX = 0x03
_CR = 0x0D
_LF = 0x0A


def is_mrz_line(text: str) -> bool:
    """True if ``text`` has an MRZ line length and only MRZ characters."""
    return len(text) in LINES_BY_LENGTH and all(c in MRZ_ALPHABET for c in text)


def frame_from_lines(lines: Sequence[str]) -> Frame | None:
    """The frame made by exactly these lines (blank ones ignored), or None if they make none."""
    kept = [line.strip(" \t") for line in lines if line.strip(" \t")]
    if not kept or not all(is_mrz_line(line) for line in kept):
        return None
    length = len(kept[0])
    if any(len(line) != length for line in kept) or len(kept) != LINES_BY_LENGTH[length]:
        return None
    return tuple(kept)


def decode_line(raw: bytes) -> str:
    """ASCII text of a line; other bytes become U+FFFD, which no MRZ line contains."""
    return raw.decode("ascii", errors="replace")


class DiscardCounter:
    """How much a framer threw away, in total and since the last good frame."""

    def __init__(self) -> None:
        self.total = 0
        self.consecutive = 0

    def discard(self) -> None:
        self.total += 1
        self.consecutive += 1

    def accept(self) -> None:
        self.consecutive = 0


class MrzLineAssembler:
    """Groups lines of text into MRZ frames, discarding whatever does not fit."""

    def __init__(self, discards: DiscardCounter | None = None) -> None:
        self._lines: list[str] = []
        self.discards = discards or DiscardCounter()

    @property
    def pending(self) -> bool:
        """True while part of a frame is held."""
        return bool(self._lines)

    def add_line(self, line: str) -> Frame | None:
        """Take one line (without its terminator); return a frame when this line completes one."""
        line = line.strip(" \t")
        if not line:
            self.end_frame()
            return None
        if not is_mrz_line(line):
            self.end_frame()
            self.discards.discard()
            return None
        if self._lines and len(line) != len(self._lines[0]):
            self.end_frame()  # a new frame starts where a partial one was left
        self._lines.append(line)
        if len(self._lines) < LINES_BY_LENGTH[len(line)]:
            return None
        frame = tuple(self._lines)
        self._lines.clear()
        self.discards.accept()
        return frame

    def end_frame(self) -> None:
        """End the current frame; a partial one is discarded."""
        if self._lines:
            self._lines.clear()
            self.discards.discard()


class LineFramer:
    """Frames from a byte stream of lines ended by CR, LF or CR LF."""

    def __init__(self) -> None:
        self.discards = DiscardCounter()
        self._assembler = MrzLineAssembler(self.discards)
        self._line = bytearray()
        self._overlong = False
        self._previous = 0

    @property
    def pending(self) -> bool:
        return bool(self._line) or self._overlong or self._assembler.pending

    def feed(self, data: bytes) -> list[Frame]:
        frames: list[Frame] = []
        for byte in data:
            previous, self._previous = self._previous, byte
            if byte in (_CR, _LF):
                if byte == _LF and previous == _CR:
                    continue  # the second half of CR LF
                frame = self._end_line()
                if frame is not None:
                    frames.append(frame)
            elif len(self._line) > MAX_LINE_CHARS:
                self._overlong = True  # keep dropping until the line ends: bounded memory
            else:
                self._line.append(byte)
        return frames

    def drop_partial(self) -> None:
        """Discard a partial line and frame (the reader paused in the middle of one)."""
        if self._line or self._overlong:
            self.discards.discard()
        self._line.clear()
        self._overlong = False
        self._assembler.end_frame()

    def _end_line(self) -> Frame | None:
        if self._overlong:
            self._line.clear()
            self._overlong = False
            self._assembler.end_frame()
            self.discards.discard()
            return None
        text = decode_line(bytes(self._line))
        self._line.clear()
        return self._assembler.add_line(text)


class StxEtxFramer:
    """Frames from a byte stream where each frame is ``STX lines ETX``.

    One byte right after ETX is taken as a block check character and skipped; other bytes
    outside STX...ETX are noise. A
    second STX before ETX discards the partial frame, and so does a frame longer than any MRZ.
    The lines inside, split on CR and LF, must form exactly one MRZ frame.
    """

    def __init__(self) -> None:
        self.discards = DiscardCounter()
        self._frame: bytearray | None = None
        self._noise = False
        self._after_etx = False

    @property
    def pending(self) -> bool:
        return self._frame is not None

    def feed(self, data: bytes) -> list[Frame]:
        frames: list[Frame] = []
        for byte in data:
            after_etx, self._after_etx = self._after_etx, False
            if byte == STX:
                self.drop_partial()
                self._frame = bytearray()
            elif self._frame is None and after_etx:
                continue  # the block check character some readers send after ETX
            elif self._frame is None:
                if byte not in (_CR, _LF) and not self._noise:
                    self._noise = True
                    self.discards.discard()
            elif byte == ETX:
                frame = self._end_frame(bytes(self._frame))
                self._frame = None
                self._after_etx = True
                if frame is not None:
                    frames.append(frame)
            elif len(self._frame) >= MAX_FRAME_BYTES:
                self.drop_partial()
                self._noise = True  # the rest, up to the next STX, is part of the same discard
            else:
                self._frame.append(byte)
        return frames

    def drop_partial(self) -> None:
        """Discard a frame whose ETX never came."""
        if self._frame is not None:
            self._frame = None
            self.discards.discard()
        self._noise = False

    def _end_frame(self, body: bytes) -> Frame | None:
        self._noise = False
        frame = frame_from_lines(decode_line(body).replace("\r", "\n").split("\n"))
        if frame is None:
            self.discards.discard()
        else:
            self.discards.accept()
        return frame
