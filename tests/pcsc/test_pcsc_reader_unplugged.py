"""GIVEN the PC/SC chip reader over our own pcscd with the vpcd reader WHEN the reader vanishes
from pcscd after start (pcscd serves on, but no reader matches any more: what unplugging a USB
reader does) or pcscd itself stops THEN the driver reports the problem, and a kiosk built by the
composition root goes out of service with a cause naming the chip reader; when the reader is
back, the driver reports it serving and the lane returns to service by itself.

pcsc-lite 1.9 does not unload a configured (serial-style) reader while it runs, so the reader
is made to vanish by replacing our pcscd with one on the same socket whose vpcd reader has
another name ("Spare Reader 00 00"), then bringing the original back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hardware.config import PcscChipReaderConfig
from hardware.pcsc import PcscChipReader, list_readers
from hardware.pcscd import PcscDaemon, free_port_pair
from hardware.sim.vpcd import VpcdCardLink
from kiosk.app import KioskRuntime, build_kiosk
from kiosk.config import load_config
from kiosk.demo.scenarios import scenario
from kiosk.demo.world import demo_devices
from kiosk.lane import Lane, LaneCause, LaneStatus
from kiosk.screening.importers import ListKind
from kiosk.screening.store import ScreeningStore

pytestmark = pytest.mark.pcsc

READER = "Virtual PCD 00 00"
BOUND_S = 30.0
SELECT_EMRTD = bytes.fromhex("00A4040C07A0000002471001")


@pytest.fixture
def swap_pcscd(restartable_pcscd: PcscDaemon) -> Iterator[Callable[[], PcscDaemon]]:
    """``swap()`` stops our pcscd and starts one on the same socket whose only reader is named
    "Spare Reader"; at teardown the spare stops and the original is started again."""
    spares: list[PcscDaemon] = []

    def swap() -> PcscDaemon:
        restartable_pcscd.stop()
        run_dir = restartable_pcscd.run_dir
        assert run_dir is not None, "the session's pcscd keeps its socket path"
        spare = PcscDaemon(
            vpcd_port=free_port_pair(), run_dir=Path(run_dir), friendly_name="Spare Reader"
        )
        spare.start()
        spares.append(spare)
        return spare

    yield swap
    for spare in spares:
        spare.stop()
    if not restartable_pcscd.running:
        restartable_pcscd.start()


class ProblemLog:
    """What a reader's health listener heard, with a wait for the next state."""

    def __init__(self, reader: PcscChipReader) -> None:
        self.heard: list[str | None] = []
        self._changed = threading.Condition()
        self._reader = reader
        reader.add_health_listener(self._told)

    def _told(self, problem: str | None) -> None:
        with self._changed:
            self.heard.append(problem)
            self._changed.notify_all()

    def wait(self, predicate: Callable[[str | None], bool]) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self._reader.reader_problem), BOUND_S)


def test_the_driver_reports_its_reader_leaving_pcscd_and_coming_back(
    pcsc_reader: PcscChipReader,
    swap_pcscd: Callable[[], PcscDaemon],
    restartable_pcscd: PcscDaemon,
    plug_card: Callable[..., VpcdCardLink],
    test_card: object,
) -> None:
    log = ProblemLog(pcsc_reader)
    assert pcsc_reader.reader_problem is None
    # WHEN pcscd goes on serving, but without our reader
    spare = swap_pcscd()
    assert [r.name for r in list_readers()][0] == "Spare Reader 00 00"
    # THEN the driver reports that no reader matches (the spare is not taken for ours)
    assert log.wait(lambda p: p is not None and p.startswith("reader gone")), log.heard
    assert READER in str(pcsc_reader.reader_problem)
    # WHEN pcscd stops altogether THEN that is reported too
    spare.stop()
    assert log.wait(lambda p: p is not None and "pcscd" in p), log.heard
    # WHEN our reader is back THEN the driver serves again: a card on it is read
    restartable_pcscd.start()
    assert log.wait(lambda p: p is None), log.heard
    plug_card(test_card)
    assert pcsc_reader.wait_for_card(10.0)
    pcsc_reader.connect()
    try:
        assert pcsc_reader.transmit(SELECT_EMRTD)[-2:] == b"\x90\x00"
    finally:
        pcsc_reader.disconnect()


def _wait_lane(lane: Lane, predicate: Callable[[LaneStatus], bool]) -> bool:
    changed = threading.Condition()

    def told(_status: LaneStatus) -> None:
        with changed:
            changed.notify_all()

    remove = lane.add_listener(told)
    try:
        with changed:
            return changed.wait_for(lambda: predicate(lane.status()), BOUND_S)
    finally:
        remove()


def _chip_reader_fault(status: LaneStatus) -> str | None:
    return next(
        (
            f.detail
            for f in status.faults
            if f.cause is LaneCause.DEVICE_FAULT and f.key == "chip_reader"
        ),
        None,
    )


def test_a_kiosk_whose_pcsc_reader_vanishes_goes_out_of_service_and_comes_back(
    tmp_path: Path, swap_pcscd: Callable[[], PcscDaemon], restartable_pcscd: PcscDaemon
) -> None:
    # GIVEN the production kiosk with the pcsc chip reader (the other devices simulated),
    # its lists loaded, in service
    config = load_config(
        None,
        data_dir=str(tmp_path / "home"),
        lane={"require_trust_anchors": False, "check_interval_s": 0.5},
    )
    devices = demo_devices(scenario("genuine-traveller")).model_copy(
        update={"chip_reader": PcscChipReaderConfig(reader_pattern=READER, poll_interval_s=0.1)}
    )
    config = config.model_copy(update={"devices": devices})
    kiosk = build_kiosk(config)
    assert isinstance(kiosk.devices.chip_reader, PcscChipReader)
    store = ScreeningStore(kiosk.database)
    store.replace(ListKind.LOST_STOLEN, [[]])
    store.replace(ListKind.WATCHLIST, [[]])
    runtime = KioskRuntime(kiosk)
    try:
        runtime.start()
        assert runtime.wait_in_service(60), kiosk.lane.status().as_dict()
        # WHEN the reader vanishes from pcscd
        spare = swap_pcscd()
        # THEN the lane goes out of service, the cause naming the chip reader
        assert _wait_lane(
            kiosk.lane, lambda s: (_chip_reader_fault(s) or "").startswith("chip_reader: reader")
        ), kiosk.lane.status()
        assert "reader gone" in str(_chip_reader_fault(kiosk.lane.status()))
        assert not kiosk.admits_travellers()
        assert not kiosk.engine.document_presented(["P<UTO", "L898902C3"])
        # AND the heartbeat's lane report carries it
        assert "device_fault:chip_reader" in runtime.heartbeat_status()[1].values()
        # WHEN the reader is back in pcscd THEN the lane returns to service by itself
        spare.stop()
        restartable_pcscd.start()
        assert _wait_lane(kiosk.lane, lambda s: s.in_service), kiosk.lane.status()
        assert kiosk.devices.chip_reader.reader_problem is None
    finally:
        runtime.stop()
        kiosk.close()
