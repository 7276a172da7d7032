"""GIVEN the PC/SC reader bound to its device executor, over pcscd and vpcd WHEN a read is
cancelled or a transmit hangs inside pcscd THEN the read stops between APDUs, and a hung call
is bounded: the caller gets a typed fault at once, the next one is refused instead of queueing
behind it (issue 19, item 9), and the reader serves again when the call comes back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hardware.config import PcscChipReaderConfig
from hardware.executor import (
    CancelToken,
    DeviceBusyError,
    DeviceCallCancelledError,
    DeviceExecutor,
    DeviceHungError,
    WrongDeviceThreadError,
)
from hardware.pcsc import PcscChipReader
from hardware.pcscd import PcscDaemon
from hardware.sim.vpcd import VpcdCardLink

pytestmark = pytest.mark.pcsc

READ = bytes.fromhex("00B0000010")
STALL = bytes.fromhex("00CA000000")


@pytest.fixture
def bound_reader(pcscd: PcscDaemon) -> Iterator[PcscChipReader]:
    executor = DeviceExecutor("chip_reader", join_s=0.5)
    executor.start()
    reader = PcscChipReader(
        PcscChipReaderConfig(reader_pattern="Virtual PCD 00 00", poll_interval_s=0.1)
    )
    reader.bind_executor(executor)
    executor.call(reader.open)
    try:
        yield reader
    finally:
        executor.wait_idle(15.0)
        executor.call(reader.close)
        executor.close()


def _reads(reader: PcscChipReader, count: int, stall_at: int | None = None) -> int:
    reader.connect()
    try:
        for number in range(count):
            reader.transmit(STALL if number == stall_at else READ)
    finally:
        reader.disconnect()
    return count


def test_a_cancelled_pcsc_read_sends_no_further_apdu(
    bound_reader: PcscChipReader, vpcd_card: VpcdCardLink
) -> None:
    card = vpcd_card.card
    executor = bound_reader.executor
    assert executor is not None
    with pytest.raises(WrongDeviceThreadError):
        bound_reader.transmit(READ)  # not from the test's thread
    token = CancelToken("txn-1")
    start = card.apdus  # type: ignore[attr-defined]

    def cancel_after_three(apdu: bytes) -> bytes:
        response = original(apdu)
        if card.apdus - start == 3:  # type: ignore[attr-defined]
            token.cancel()
        return response

    original = card.transmit
    card.transmit = cancel_after_three  # type: ignore[method-assign]
    try:
        with pytest.raises(DeviceCallCancelledError):
            executor.call(_reads, bound_reader, 50, token=token)
    finally:
        card.transmit = original  # type: ignore[method-assign]
    assert card.apdus - start == 3  # type: ignore[attr-defined]
    assert executor.call(_reads, bound_reader, 2) == 2


def test_a_transmit_hung_in_pcscd_is_bounded_and_recovers(
    bound_reader: PcscChipReader, vpcd_card: VpcdCardLink
) -> None:
    card = vpcd_card.card
    executor = bound_reader.executor
    assert executor is not None
    with pytest.raises(DeviceHungError):
        executor.call(_reads, bound_reader, 3, 1, token=CancelToken("t1"), timeout_s=0.2)
    assert card.entered_stall.is_set()  # type: ignore[attr-defined]
    assert executor.hung is not None
    with pytest.raises(DeviceBusyError):  # the next traveller is not queued behind it
        executor.call(_reads, bound_reader, 1, token=CancelToken("t2"))
    card.release.set()  # type: ignore[attr-defined]
    assert executor.wait_idle(15.0) and executor.hung is None
    assert executor.call(_reads, bound_reader, 1) == 1
