"""The simulated MRZ reader and the MrzReader interface's shared behaviour."""

from __future__ import annotations

import threading
import time

import pytest

from hardware.config import SimulatedMrzReaderConfig
from hardware.mrz_reader import (
    DeviceHealth,
    DocumentPresented,
    DocumentRemoved,
    MrzReaderError,
    MrzReaderEvent,
    MrzReaderNotOpenError,
)
from hardware.sim.mrz_reader import SimulatedMrzReader

TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
TD2 = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6"
BROKEN = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<19"
)


def kinds(events: list[MrzReaderEvent]) -> list[str]:
    return [type(event).__name__ for event in events]


def test_scripted_documents_are_presented_and_removed_in_turn() -> None:
    # GIVEN a script of two documents, each removed after a short while
    config = SimulatedMrzReaderConfig(documents=[TD3, TD2], remove_after_s=0.01)
    with SimulatedMrzReader(config) as reader:
        first = reader.wait_document(2.0)
        second = reader.wait_document(2.0)
        assert first is not None and first.text == TD3
        assert second is not None and second.text == TD2
        deadline = time.monotonic() + 2.0
        while len(reader.history) < 4 and time.monotonic() < deadline:
            time.sleep(0.005)
        # THEN the history records what happened, in order
        assert kinds(reader.history) == [
            "DocumentPresented",
            "DocumentRemoved",
            "DocumentPresented",
            "DocumentRemoved",
        ]


def test_without_remove_after_the_script_waits_for_remove() -> None:
    config = SimulatedMrzReaderConfig(documents=[TD3, TD2])
    with SimulatedMrzReader(config) as reader:
        assert (scan := reader.wait_document(2.0)) is not None and scan.text == TD3
        # WHEN nobody removes the document THEN the next one does not come
        assert reader.wait_document(0.1) is None
        assert reader.document_present
        # WHEN the traveller takes it away THEN the next document comes
        reader.remove()
        assert (scan := reader.wait_document(2.0)) is not None and scan.text == TD2


def test_present_passes_defective_mrz_through_on_the_device_thread() -> None:
    seen: list[tuple[str, str]] = []

    def listener(event: MrzReaderEvent) -> None:
        seen.append((type(event).__name__, threading.current_thread().name))

    with SimulatedMrzReader() as reader:
        reader.add_listener(listener)
        # WHEN a technician presents a document with a wrong check digit, then another
        reader.present(BROKEN)
        assert (scan := reader.wait_document(2.0)) is not None and scan.text == BROKEN
        reader.present(TD2.splitlines())
        assert (scan := reader.wait_document(2.0)) is not None and scan.text == TD2
    # THEN the first was removed before the second came, all on kiosk-mrz-sim
    assert [kind for kind, _ in seen if kind != "StatusChanged"] == [
        "DocumentPresented",
        "DocumentRemoved",
        "DocumentPresented",
    ]
    assert {thread for _, thread in seen} <= {"kiosk-mrz-sim", "MainThread"}
    assert ("DocumentPresented", "kiosk-mrz-sim") in seen


def test_loop_replays_the_script() -> None:
    config = SimulatedMrzReaderConfig(documents=[TD2], remove_after_s=0.0, loop=True)
    with SimulatedMrzReader(config) as reader:
        for _ in range(3):
            assert (scan := reader.wait_document(2.0)) is not None and scan.text == TD2


def test_wait_document_hands_each_scan_out_once_and_not_after_removal() -> None:
    with SimulatedMrzReader() as reader:
        reader.present(TD3)
        assert reader.wait_document(2.0) is not None
        assert reader.wait_document(0.05) is None  # taken already
        removals = threading.Semaphore(0)
        reader.add_listener(
            lambda e: removals.release() if isinstance(e, DocumentRemoved) else None
        )
        reader.remove()  # the first document leaves before the second arrives
        assert removals.acquire(timeout=2.0)
        reader.present(TD2)
        reader.remove()
        assert removals.acquire(timeout=2.0)
        assert not reader.document_present
        assert reader.wait_document(0.05) is None  # removed before anyone took it


def test_close_wakes_a_waiter_and_stops_the_thread() -> None:
    reader = SimulatedMrzReader()
    reader.open()
    result: list[object] = []
    waiter = threading.Thread(target=lambda: result.append(reader.wait_document(10.0)))
    waiter.start()
    time.sleep(0.05)
    reader.close()
    waiter.join(2.0)
    assert result == [None]
    assert not [t for t in threading.enumerate() if t.name == "kiosk-mrz-sim"]
    assert reader.status.health is DeviceHealth.OFFLINE
    with pytest.raises(MrzReaderNotOpenError):
        reader.wait_document(0)
    with pytest.raises(MrzReaderNotOpenError):
        reader.present(TD3)


def test_a_failing_listener_does_not_stop_the_reader() -> None:
    def broken(event: MrzReaderEvent) -> None:
        raise RuntimeError("listener bug")

    with SimulatedMrzReader() as reader:
        reader.add_listener(broken)
        reader.present(TD3)
        reader.present(TD2)
        assert reader.wait_document(2.0) is not None
        deadline = time.monotonic() + 2.0
        while reader.scans < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert reader.scans == 2


def test_bad_simulated_mrz_is_a_typed_error() -> None:
    with pytest.raises(MrzReaderError):
        SimulatedMrzReader(SimulatedMrzReaderConfig(documents=["A\nB\nC\nD"]))
    with SimulatedMrzReader() as reader:
        with pytest.raises(MrzReaderError):
            reader.present("")
        with pytest.raises(MrzReaderError):
            reader.present("X" * 200)
        with pytest.raises(MrzReaderError):
            reader.present("P<UTO\x00\x01")
    assert reader.scans == 0


def test_scan_repr_and_events_do_not_show_mrz() -> None:
    with SimulatedMrzReader() as reader:
        reader.present(TD3)
        scan = reader.wait_document(2.0)
    assert scan is not None
    assert "ERIKSSON" not in repr(scan)
    assert "ERIKSSON" not in repr(DocumentPresented(scan))
    assert scan.read_at.tzinfo is not None
