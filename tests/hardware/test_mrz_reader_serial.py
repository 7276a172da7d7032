"""The serial MRZ reader against a real pseudo-terminal pair.

The test plays the reader on the pty master; the driver opens the slave through pyserial by a
symlink path, so the test can make the port vanish (close the master) and come back (point the
symlink at a new pty) the way a USB serial reader does when unplugged and plugged in again.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hardware.config import SerialMrzReaderConfig
from hardware.mrz_reader import (
    DeviceHealth,
    DocumentPresented,
    DocumentRemoved,
    MrzReaderEvent,
    StatusChanged,
)
from hardware.serial_mrz_reader import SerialMrzReader
from hardware.sim.mrz_feed import PtyMrzFeed as Pty

TD3 = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6")
WAIT_S = 5.0


class Events:
    """Collects a reader's events so tests can wait for them without sleeping."""

    def __init__(self) -> None:
        self._queue: queue.Queue[MrzReaderEvent] = queue.Queue()
        self.threads: set[str] = set()

    def __call__(self, event: MrzReaderEvent) -> None:
        self.threads.add(threading.current_thread().name)
        self._queue.put(event)

    def next(self, match: Callable[[MrzReaderEvent], bool]) -> MrzReaderEvent:
        deadline = time.monotonic() + WAIT_S
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                event = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if match(event):
                return event
        raise AssertionError("expected event did not come")

    def presented(self) -> tuple[str, ...]:
        event = self.next(lambda e: isinstance(e, DocumentPresented))
        assert isinstance(event, DocumentPresented)
        return event.scan.lines

    def status(self, health: DeviceHealth) -> StatusChanged:
        event = self.next(lambda e: isinstance(e, StatusChanged) and e.status.health is health)
        assert isinstance(event, StatusChanged)
        return event


def crlf(frame: tuple[str, ...]) -> bytes:
    return "".join(line + "\r\n" for line in frame).encode()


def wait_until(predicate: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


@pytest.fixture
def pty_pair() -> Iterator[Pty]:
    pair = Pty()
    yield pair
    pair.close()


@pytest.fixture
def link(tmp_path: Path, pty_pair: Pty) -> Path:
    path = tmp_path / "ttyMRZ"
    path.symlink_to(pty_pair.path)
    return path


def open_reader(port: Path, **settings: object) -> tuple[SerialMrzReader, Events]:
    config = SerialMrzReaderConfig.model_validate(
        {"port": str(port), "reconnect_s": 0.05, **settings}
    )
    reader = SerialMrzReader(config)
    events = Events()
    reader.add_listener(events)
    reader.open()
    events.status(DeviceHealth.OK)
    return reader, events


def test_good_frames_of_each_format_are_presented_in_order(pty_pair: Pty, link: Path) -> None:
    # GIVEN a serial reader on a pty
    reader, events = open_reader(link)
    try:
        # WHEN the reader sends three documents
        pty_pair.write(crlf(TD3) + crlf(TD1) + crlf(TD2))
        # THEN each is presented, as raw lines, on the reader's own thread
        assert [events.presented() for _ in range(3)] == [TD3, TD1, TD2]
        assert events.threads == {"kiosk-mrz-serial"}
        scan = reader.wait_document(0)
        assert scan is not None and scan.lines == TD2
        assert "ERIKSSON" not in repr(scan)
    finally:
        reader.close()


def test_noise_and_partial_frames_are_discarded(pty_pair: Pty, link: Path) -> None:
    reader, events = open_reader(link, frame_gap_ms=50)
    try:
        # GIVEN noise, a frame cut short by a blank line, and half a line then a pause
        pty_pair.write(b"\x00\x13\xff junk \xfe\r\n" + crlf(TD3[:1]) + b"\r\n")
        pty_pair.write(TD1[0][:12].encode())
        wait_until(lambda: reader.discarded_frames >= 3)  # the pause dropped the half line
        # WHEN a good frame follows
        pty_pair.write(crlf(TD2))
        # THEN it is the first and only document presented
        assert events.presented() == TD2
        assert reader.scans == 1
    finally:
        reader.close()


def test_stx_etx_framing(pty_pair: Pty, link: Path) -> None:
    reader, events = open_reader(link, framing="stx_etx")
    try:
        # GIVEN noise outside frames, a frame whose ETX never comes, and a BCC after ETX
        pty_pair.write(b"line noise\r\n\x02" + TD3[0].encode() + b"\r")
        pty_pair.write(b"\x02" + "\r".join(TD1).encode() + b"\x03\x41")
        pty_pair.write(b"\x02" + "\r\n".join(TD3).encode() + b"\r\n\x03")
        # THEN only the two whole frames are presented
        assert events.presented() == TD1
        assert events.presented() == TD3
        assert reader.scans == 2
        assert reader.discarded_frames == 2
    finally:
        reader.close()


def test_a_run_of_garbage_degrades_the_status_until_a_good_frame(pty_pair: Pty, link: Path) -> None:
    reader, events = open_reader(link, degraded_after_discards=3)
    try:
        # WHEN three unreadable lines come in a row THEN the reader is degraded
        pty_pair.write(b"smudge\r\nsmudge\r\nsmudge\r\n")
        degraded = events.status(DeviceHealth.DEGRADED)
        assert degraded.status.last_error == "3 unreadable frames in a row"
        # WHEN a good frame follows THEN it is ok again
        pty_pair.write(crlf(TD3))
        assert events.presented() == TD3
        assert events.status(DeviceHealth.OK).status.health is DeviceHealth.OK
    finally:
        reader.close()


def test_port_vanishing_goes_offline_and_reconnects(tmp_path: Path, link: Path) -> None:
    first = Pty()
    link.unlink()
    link.symlink_to(first.path)
    reader, events = open_reader(link)
    second = Pty()
    try:
        first.write(crlf(TD3))
        assert events.presented() == TD3
        # WHEN the reader is unplugged (the pty goes away)
        first.close()
        # THEN the document counts as removed and the reader is offline
        assert isinstance(events.next(lambda e: True), DocumentRemoved)
        offline = events.status(DeviceHealth.OFFLINE)
        assert offline.status.last_error
        assert reader.document_present is False
        # WHEN it is plugged in again (the same path, a new device)
        tmp = tmp_path / "ttyMRZ.new"
        tmp.symlink_to(second.path)
        tmp.replace(link)
        # THEN the reader reconnects and reads again
        events.status(DeviceHealth.OK)
        second.write(crlf(TD1))
        assert events.presented() == TD1
        assert reader.reconnects == 2
    finally:
        reader.close()
        first.close()
        second.close()


def test_a_reader_missing_at_start_starts_offline_and_connects_later(
    tmp_path: Path, pty_pair: Pty
) -> None:
    # GIVEN the configured port does not exist yet
    path = tmp_path / "ttyLATE"
    config = SerialMrzReaderConfig(port=str(path), reconnect_s=0.05)
    reader = SerialMrzReader(config)
    events = Events()
    reader.add_listener(events)
    try:
        # WHEN the reader is opened THEN it does not fail; it is offline
        reader.open()
        events.status(DeviceHealth.OFFLINE)
        # WHEN the device appears THEN the reader connects and reads
        path.symlink_to(pty_pair.path)
        events.status(DeviceHealth.OK)
        pty_pair.write(crlf(TD2))
        assert events.presented() == TD2
    finally:
        reader.close()


def test_presence_timeout_reports_the_document_removed(pty_pair: Pty, link: Path) -> None:
    reader, events = open_reader(link, presence_timeout_s=0.1)
    try:
        pty_pair.write(crlf(TD3))
        assert events.presented() == TD3
        assert isinstance(events.next(lambda e: True), DocumentRemoved)
        assert reader.wait_document(0) is None  # a removed document is not handed out
    finally:
        reader.close()


def test_close_stops_the_reader_thread(pty_pair: Pty, link: Path) -> None:
    reader, _ = open_reader(link)
    reader.close()
    assert not [t for t in threading.enumerate() if t.name == "kiosk-mrz-serial"]
    assert reader.status.health is DeviceHealth.OFFLINE
    reader.close()  # closing twice is harmless
