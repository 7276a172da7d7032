"""GIVEN drivers bound to their device executors WHEN they are called from elsewhere, a job is
cancelled, a driver call hangs or another owner holds the device THEN the call is refused, the
read stops between APDUs, the wait is bounded and the device is never shared."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from hardware.config import SimulatedCameraConfig, SimulatedGateConfig, SimulatedMrzReaderConfig
from hardware.executor import (
    CancelToken,
    DeviceBusyError,
    DeviceCallCancelledError,
    DeviceExecutor,
    DeviceHungError,
    WrongDeviceThreadError,
    on_device,
)
from hardware.sim.camera import SimulatedCamera
from hardware.sim.chip_reader import SimulatedChipReader
from hardware.sim.gate import SimulatedGate
from hardware.sim.mrz_reader import SimulatedMrzReader
from kiosk.devices import Devices
from kiosk.diagnostics.selftests import chip_reader_self_test

WAIT_S = 10.0
SELECT = bytes.fromhex("00A4040C07A0000002471001")


class CountingCard:
    """Answers 9000 to everything; counts APDUs; can block inside one (a hung reader)."""

    atr = bytes.fromhex("3B8880014D52544430303031D8")

    def __init__(self) -> None:
        self.apdus = 0
        self.inside = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.on_apdu: object = None

    def transmit(self, apdu: bytes) -> bytes:
        self.apdus += 1
        if callable(self.on_apdu):
            self.on_apdu(self.apdus)
        self.inside.set()
        self.release.wait(WAIT_S)
        return b"\x90\x00"


@pytest.fixture
def executor() -> Iterator[DeviceExecutor]:
    ex = DeviceExecutor("chip_reader", join_s=0.3)
    ex.start()
    yield ex
    ex.close(timeout_s=WAIT_S)


@pytest.fixture
def reader(executor: DeviceExecutor) -> Iterator[SimulatedChipReader]:
    card_reader = SimulatedChipReader()
    card_reader.bind_executor(executor)
    executor.call(card_reader.open)
    yield card_reader
    executor.call(card_reader.close)


def _read_many(reader: SimulatedChipReader, count: int) -> int:
    reader.connect()
    try:
        for _ in range(count):
            reader.transmit(SELECT)
    finally:
        reader.disconnect()
    return count


# --- the assertion ---------------------------------------------------------------------


def test_a_driver_called_from_another_thread_raises(reader: SimulatedChipReader) -> None:
    reader.insert(CountingCard())
    for call in (reader.card_present, reader.connect, lambda: reader.transmit(SELECT)):
        with pytest.raises(WrongDeviceThreadError):
            call()
    # THEN the same calls are fine on the reader's own thread
    assert reader.executor is not None
    assert reader.executor.call(_read_many, reader, 3) == 3


def test_every_device_of_a_kiosk_refuses_callers_off_its_thread() -> None:
    devices = Devices(
        chip_reader=SimulatedChipReader(),
        mrz_reader=SimulatedMrzReader(SimulatedMrzReaderConfig()),
        camera=SimulatedCamera(SimulatedCameraConfig(fps=5)),
        gate=SimulatedGate(SimulatedGateConfig(heartbeat_s=0.05)),
    )
    devices.open()
    try:
        for call in (
            devices.gate.open_exit,
            devices.gate.close_all,
            devices.gate.reset,
            devices.camera.stop,
            devices.mrz_reader.close,
            devices.chip_reader.card_present,
        ):
            with pytest.raises(WrongDeviceThreadError):
                call()
        assert devices.gate.doors_closed  # nothing moved
        # the gate's own worker and the emergency release are not held back by the check
        devices.gate.emergency_release("test")
        assert devices.threads.gate.call(devices.gate.reset) is None
    finally:
        devices.close()
    assert not any(t.name.startswith("kiosk-device-") for t in threading.enumerate())


# --- cancellation between APDUs ----------------------------------------------------------


def test_a_cancelled_chip_read_issues_no_further_apdu(
    executor: DeviceExecutor, reader: SimulatedChipReader
) -> None:
    card = CountingCard()
    reader.insert(card)
    token = CancelToken("txn-1")
    card.on_apdu = lambda n: token.cancel() if n == 5 else None
    with pytest.raises(DeviceCallCancelledError):
        executor.call(_read_many, reader, 100, token=token)
    assert card.apdus == 5  # the 5th was in flight when the cancel came; none after it
    assert not reader.connected  # and the card was let go
    # THEN the reader serves the next job as usual
    assert executor.call(_read_many, reader, 2) == 2 and card.apdus == 7


def test_a_step_that_times_out_stops_and_is_joined(
    executor: DeviceExecutor, reader: SimulatedChipReader
) -> None:
    card = CountingCard()
    card.release.clear()  # every APDU takes until released
    reader.insert(card)
    executor.join_s = 30.0  # a generous bound: the join ends as soon as the job does
    releaser = threading.Timer(0.1, card.release.set)  # well within join_s of the time-out
    card.on_apdu = lambda n: releaser.start() if n == 1 else None
    with pytest.raises(DeviceCallCancelledError):
        executor.call(_read_many, reader, 100, token=CancelToken("txn-1"), timeout_s=0.05)
    releaser.join()
    # WHEN call() returns THEN the job has ended: nothing runs on the device any more
    assert executor.idle and card.apdus == 1


# --- a hung driver call --------------------------------------------------------------------


def test_a_hung_reader_call_is_bounded_and_blocks_nobody_forever(
    reader: SimulatedChipReader,
) -> None:
    executor = reader.executor
    assert executor is not None
    hung: list[tuple[str, str]] = []
    recovered: list[tuple[str, str]] = []
    executor.on_hung = lambda device, what: hung.append((device, what))
    executor.on_recovered = lambda device, what: recovered.append((device, what))
    card = CountingCard()
    card.release.clear()
    reader.insert(card)
    with pytest.raises(DeviceHungError):
        executor.call(_read_many, reader, 3, token=CancelToken("txn-1"), timeout_s=0.05)
    assert hung and hung[0][0] == "chip_reader" and executor.hung is not None
    # THEN the next caller is refused at once instead of queueing behind the hung call
    with pytest.raises(DeviceBusyError):
        executor.call(_read_many, reader, 1, token=CancelToken("txn-2"))
    with pytest.raises(DeviceBusyError):
        executor.claim("txn-2")
    # WHEN the call finally comes back THEN the device is usable again
    card.release.set()
    assert executor.wait_idle(WAIT_S)
    assert recovered == [hung[0]] and executor.hung is None
    assert executor.call(_read_many, reader, 1) == 1


# --- claims: never two owners on one device --------------------------------------------


def test_a_claimed_device_refuses_a_self_test(reader: SimulatedChipReader) -> None:
    executor = reader.executor
    assert executor is not None
    reader.insert(CountingCard())
    executor.claim("txn-1")
    try:
        result = chip_reader_self_test(reader, wait_s=0.1)
        assert not result.passed and result.summary == "failed: device_busy"
        with pytest.raises(DeviceBusyError):
            executor.call(_read_many, reader, 1)  # nobody but txn-1
        assert executor.call(_read_many, reader, 1, token=CancelToken("txn-1")) == 1
    finally:
        executor.release("txn-1")
    # THEN once released the self-test runs, on the reader's own thread
    result = chip_reader_self_test(reader, wait_s=1.0)
    assert result.passed, result.summary


def test_on_device_runs_directly_for_an_unbound_driver() -> None:
    reader = SimulatedChipReader()
    assert on_device(reader, lambda: threading.current_thread().name, owner="x", timeout_s=1) == (
        threading.current_thread().name
    )


def test_a_job_given_up_while_queued_never_touches_the_device(
    executor: DeviceExecutor, reader: SimulatedChipReader
) -> None:
    card = CountingCard()
    card.release.clear()
    reader.insert(card)
    first = executor.submit(_read_many, reader, 1, token=CancelToken())
    assert card.inside.wait(WAIT_S)  # the reader is busy with the first job ...
    token = CancelToken()
    queued = executor.submit(_read_many, reader, 5, token=token)
    token.cancel()  # ... when the second one's caller gives up
    card.release.set()
    assert first.result(WAIT_S) == 1
    with pytest.raises(DeviceCallCancelledError):
        queued.result(WAIT_S)
    assert card.apdus == 1


def test_a_closed_executor_lets_nobody_call_its_driver(reader: SimulatedChipReader) -> None:
    executor = reader.executor
    assert executor is not None
    executor.call(reader.close)
    executor.close(timeout_s=WAIT_S)
    with pytest.raises(WrongDeviceThreadError):
        reader.card_present()
    executor.start()  # for the fixture's own close
    executor.call(reader.open)


def test_the_technician_sees_a_hung_reader_as_hung_and_a_busy_one_as_in_use(
    reader: SimulatedChipReader,
) -> None:
    from kiosk.diagnostics.devices import chip_reader_report

    executor = reader.executor
    assert executor is not None
    card = CountingCard()
    reader.insert(card)
    assert chip_reader_report(reader).status == "ready"
    executor.claim("txn-1")
    try:
        busy = chip_reader_report(reader)
        assert busy.status == "in_use" and busy.healthy
        card.release.clear()
        with pytest.raises(DeviceHungError):
            executor.call(_read_many, reader, 1, token=CancelToken("txn-1"), timeout_s=0.05)
    finally:
        executor.release("txn-1")
    hung = chip_reader_report(reader)
    assert (hung.status, hung.last_error, hung.healthy) == ("hung", "device_hung", False)
    card.release.set()
    assert executor.wait_idle(WAIT_S) and chip_reader_report(reader).status == "ready"
