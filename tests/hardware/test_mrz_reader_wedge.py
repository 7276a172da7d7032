"""The keyboard-wedge MRZ reader: keystrokes assembled into MRZ lines."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from hardware.config import KeyboardWedgeMrzReaderConfig
from hardware.keyboard_wedge import KeyboardWedgeMrzReader
from hardware.mrz_reader import DeviceHealth, MrzReaderEvent, MrzReaderNotOpenError

TD3 = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
TIMEOUT_MS = 40


@pytest.fixture
def wedge() -> Iterator[KeyboardWedgeMrzReader]:
    reader = KeyboardWedgeMrzReader(KeyboardWedgeMrzReaderConfig(inter_key_timeout_ms=TIMEOUT_MS))
    with reader:
        yield reader


def typed(frame: tuple[str, ...], end: str = "\r") -> str:
    return "".join(line + end for line in frame)


def test_a_scan_typed_with_enter_after_each_line_is_one_document(
    wedge: KeyboardWedgeMrzReader,
) -> None:
    threads: list[str] = []
    heard = threading.Event()

    def listener(event: MrzReaderEvent) -> None:
        threads.append(threading.current_thread().name)
        heard.set()

    wedge.add_listener(listener)
    # WHEN the reader types a TD3 quickly, Enter after each line
    wedge.feed_text(typed(TD3), t0=time.monotonic(), interval_s=0.002)
    # THEN one document with those lines, delivered on the wedge's thread
    scan = wedge.wait_document(2.0)
    assert scan is not None and scan.lines == TD3
    assert scan.source == "keyboard"
    # (waiters wake before listeners are called: wait for the listener as an event)
    assert heard.wait(2.0)
    assert threads == ["kiosk-mrz-wedge"]
    assert wedge.status.health is DeviceHealth.OK


def test_a_scan_without_a_final_enter_ends_with_the_pause(
    wedge: KeyboardWedgeMrzReader,
) -> None:
    # GIVEN a TD1 whose last line has no Enter
    wedge.feed_text(typed(TD1, "\n").rstrip("\n"))
    # WHEN the keys stop THEN the pause ends the scan and the document is read
    scan = wedge.wait_document(2.0)
    assert scan is not None and scan.lines == TD1


def test_a_pause_inside_a_scan_discards_it(wedge: KeyboardWedgeMrzReader) -> None:
    start = time.monotonic()
    text = typed(TD3)
    half = len(text) // 2
    # GIVEN keys with a gap longer than the inter-key timeout in the middle (slow typing)
    wedge.feed_text(text[:half], t0=start, interval_s=0.001)
    wedge.feed_text(text[half:], t0=start + 1.0, interval_s=0.001)
    # THEN no document; the pieces are discarded
    assert wedge.wait_document(TIMEOUT_MS * 5 / 1000) is None
    assert wedge.assembler.discards.total >= 1
    # WHEN the same scan comes without the gap THEN it is read
    wedge.feed_text(text, t0=start + 5.0, interval_s=0.001)
    scan = wedge.wait_document(2.0)
    assert scan is not None and scan.lines == TD3


def test_other_keys_are_ignored_and_garbage_lines_discarded(
    wedge: KeyboardWedgeMrzReader,
) -> None:
    # GIVEN a line of ordinary typing, then a scan with modifier key names mixed in
    wedge.feed_text("hello officer\r")
    now = time.monotonic()
    wedge.feed_key("Shift", now)
    wedge.feed_key("\t", now)
    wedge.feed_text(typed(TD3), t0=now)
    scan = wedge.wait_document(2.0)
    assert scan is not None and scan.lines == TD3
    assert wedge.scans == 1


def test_a_stuck_key_makes_no_document_and_stays_bounded(
    wedge: KeyboardWedgeMrzReader,
) -> None:
    # GIVEN a stuck key typing thousands of fillers into one line
    start = time.monotonic()
    wedge.feed_text("<" * 3000, t0=start)
    # WHEN a real scan follows after a pause THEN only the scan is read
    wedge.feed_text(typed(TD3), t0=start + 1.0)
    scan = wedge.wait_document(3.0)
    assert scan is not None and scan.lines == TD3
    assert len(wedge._line) <= 64
    assert wedge.scans == 1
    # WHEN keys come faster than the queue can hold THEN the excess is dropped, not stored
    wedge.feed_text("<" * 20_000, t0=start + 2.0)
    assert wedge.dropped_keys > 0
    assert wedge._keys.qsize() <= wedge.config.max_pending_keys


def test_keys_fed_to_a_closed_wedge_are_refused() -> None:
    reader = KeyboardWedgeMrzReader(KeyboardWedgeMrzReaderConfig())
    with pytest.raises(MrzReaderNotOpenError):
        reader.feed_key("P")
    reader.open()
    reader.close()
    assert not [t for t in threading.enumerate() if t.name == "kiosk-mrz-wedge"]
    with pytest.raises(MrzReaderNotOpenError):
        reader.feed_text("P<")
