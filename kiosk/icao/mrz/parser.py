"""Parse MRZ text: normalise the input, recognise the format, validate, correct OCR errors.

Never logs MRZ content.
"""

from __future__ import annotations

import datetime as dt

from kiosk.icao.mrz.errors import MrzUnreadableError
from kiosk.icao.mrz.formats import LAYOUTS, layout_for
from kiosk.icao.mrz.ocr import correct
from kiosk.icao.mrz.records import MrzResult
from kiosk.icao.mrz.validation import analyse

MAX_INPUT_BYTES = 10 * 1024
_SINGLE_LINE_SPLITS = {
    layout.total_length: layout.line_length for layout in LAYOUTS.values()
}  # 90 -> 30 (TD1), 72 -> 36 (TD2, MRV-B), 88 -> 44 (TD3, MRV-A)


def decode_input(data: bytes) -> str:
    """Bytes from a device, file or stdin as text; undecodable bytes become U+FFFD."""
    if len(data) > MAX_INPUT_BYTES:
        raise MrzUnreadableError(f"input larger than {MAX_INPUT_BYTES} bytes")
    return data.decode("utf-8", errors="replace")


def split_lines(text: str) -> tuple[str, ...]:
    """The MRZ lines of ``text``: blank lines dropped, surrounding whitespace stripped.

    One line holding a whole MRZ without line breaks is split by the format's line length.
    """
    if len(text) > MAX_INPUT_BYTES:
        raise MrzUnreadableError(f"input larger than {MAX_INPUT_BYTES} characters")
    lines = tuple(s for s in (line.strip() for line in text.splitlines()) if s)
    for line in lines:
        if "\ufffd" in line or any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in line):
            raise MrzUnreadableError("input holds binary data")
    if len(lines) == 1 and len(lines[0]) in _SINGLE_LINE_SPLITS:
        width = _SINGLE_LINE_SPLITS[len(lines[0])]
        lines = tuple(lines[0][i : i + width] for i in range(0, len(lines[0]), width))
    return lines


def parse_mrz(
    text: str | bytes, *, strict: bool = False, today: dt.date | None = None
) -> MrzResult:
    """Parse and validate an MRZ of any ICAO 9303 format.

    Returns a result whose ``valid`` says whether it is well-formed with every check digit
    right; raises :class:`MrzUnreadableError` when the input is not an MRZ at all (wrong
    shape, binary, over 10 KB). Unless ``strict``, OCR confusions are corrected when exactly
    one correction makes the MRZ valid (see :mod:`kiosk.icao.mrz.ocr`).
    """
    if isinstance(text, bytes | bytearray):
        text = decode_input(bytes(text))
    lines = split_lines(text)
    layout = layout_for(lines)
    if layout is None:
        lengths = sorted({len(line) for line in lines})[:8]
        raise MrzUnreadableError(
            f"not an MRZ: {len(lines)} line(s) of length(s) {lengths}; expected 3x30, 2x36 or 2x44"
        )
    day = today or dt.datetime.now(dt.UTC).date()
    result = analyse(lines, layout, day)
    if result.valid or strict:
        return result
    return correct(lines, layout, day) or result
