"""GIVEN the composition root (``kiosk.app.build_kiosk``) WHEN a configuration names drivers,
trust and lists THEN the kiosk is built from it: every configurable driver type resolves
through ``DRIVERS``; real drivers whose devices are missing put the lane out of service naming
each device (the kiosk still starts); an empty trust store, and lists never loaded or older
than the policy allows, keep the lane closed; and the lane comes back when the cause is gone.
"""

from __future__ import annotations

import datetime as dt
import typing
from pathlib import Path

import pytest

from hardware.camera import Camera
from hardware.camera_mount import CameraMount
from hardware.chip_reader import ChipReader
from hardware.config import DevicesConfig
from hardware.gate import Gate
from hardware.mrz_reader import MrzReader
from hardware.pcsc import PcscChipReader
from hardware.serial_gate import SerialGate
from hardware.serial_mrz_reader import SerialMrzReader
from hardware.speaker import Speaker
from kiosk.app import KioskRuntime, build_kiosk, lane_report
from kiosk.config import load_config
from kiosk.demo.scenarios import scenario
from kiosk.demo.world import demo_devices
from kiosk.devices import DRIVERS, create_driver
from kiosk.lane import LaneCause
from kiosk.screening.importers import ListKind
from kiosk.screening.store import ScreeningStore
from kiosk.trust.importer import import_files
from kiosk.trust.store import TrustStore
from models.tables import ListVersionRow

INTERFACES = {
    "chip_reader": ChipReader,
    "mrz_reader": MrzReader,
    "camera": Camera,
    "gate": Gate,
    "speaker": Speaker,
    "camera_mount": CameraMount,
}


def _union_members(kind: str) -> list[type]:
    annotation = DevicesConfig.model_fields[kind].annotation
    return list(typing.get_args(annotation))


def test_every_device_of_the_configuration_has_its_interface_here() -> None:
    assert set(DevicesConfig.model_fields) == set(INTERFACES) == set(DRIVERS)


@pytest.mark.parametrize("kind", sorted(INTERFACES))
def test_every_configurable_type_of_every_device_resolves_to_its_driver(kind: str) -> None:
    # GIVEN every config model of the device's union (the types a TOML file may name)
    members = _union_members(kind)
    assert len(members) >= 2, f"{kind}: the union was not found"
    names = set()
    for model in members:
        config = model()
        names.add(config.type)
        # WHEN the composition root creates its driver THEN it is that kind's interface
        driver = create_driver(kind, config)
        assert isinstance(driver, INTERFACES[kind]), (kind, config.type)
    # AND the map has no driver that no configuration can select
    assert names == set(DRIVERS[kind])


def _hardware_config(tmp_path: Path, **extra: object):  # type: ignore[no-untyped-def]
    return load_config(
        None,
        data_dir=str(tmp_path / "home"),
        devices={
            "chip_reader": {"type": "pcsc", "reader_pattern": "no such reader 20a"},
            "mrz_reader": {"type": "serial", "port": str(tmp_path / "no-tty-mrz")},
            "camera": {"type": "opencv", "source": str(tmp_path / "no-camera.avi")},
            "gate": {"type": "serial", "port": str(tmp_path / "no-tty-gate")},
        },
        **extra,
    )


def test_a_kiosk_naming_real_drivers_starts_out_of_service_naming_each_missing_device(
    tmp_path: Path,
) -> None:
    # GIVEN a configuration naming pcsc / serial / opencv / serial drivers, none connected
    config = _hardware_config(tmp_path)
    kiosk = build_kiosk(config)
    try:
        # THEN the kiosk holds the configured drivers (not simulated ones)
        assert isinstance(kiosk.devices.chip_reader, PcscChipReader)
        assert isinstance(kiosk.devices.mrz_reader, SerialMrzReader)
        assert type(kiosk.devices.camera).__name__ == "OpenCvCamera"
        assert isinstance(kiosk.devices.gate, SerialGate)
        # WHEN it starts
        runtime = KioskRuntime(kiosk)
        runtime.start()
        try:
            status = kiosk.lane.status()
            # THEN it runs, out of service, with a cause per missing device, and the empty
            # trust store and the lists never loaded named too
            assert not status.in_service
            faulty = {f.key for f in status.faults if f.cause is LaneCause.DEVICE_FAULT}
            assert {"gate", "chip_reader", "camera"} <= faulty, status.as_dict()
            assert LaneCause.NO_TRUST_ANCHORS in status.causes
            stale = {f.key for f in status.faults if f.cause is LaneCause.LISTS_STALE}
            assert stale == {"lost_stolen", "watchlist"}
            # AND no transaction starts
            assert not kiosk.engine.document_presented(["P<UTO", "L898902C3"])
            # AND the heartbeat report names the lane's state, causes and drivers
            report = lane_report(kiosk)
            assert report["lane"] == "out_of_service"
            assert "device_fault:camera" in report.values()
            assert report["driver.chip_reader"] == "pcsc"
            assert report["driver.camera"] == "opencv"
        finally:
            runtime.stop()
    finally:
        kiosk.close()


def test_lists_older_than_the_policy_close_the_lane_and_fresh_ones_reopen_it(
    tmp_path: Path,
) -> None:
    # GIVEN a simulated kiosk that requires no trust anchors, with both lists just imported
    config = load_config(
        None,
        data_dir=str(tmp_path / "home"),
        lane={"require_trust_anchors": False},
        policy={"watchlist_max_age_hours": 6},
    )
    kiosk = build_kiosk(config)
    try:
        store = ScreeningStore(kiosk.database)
        store.replace(ListKind.LOST_STOLEN, [[]])
        store.replace(ListKind.WATCHLIST, [[]])
        kiosk.supervisor.check()
        assert not kiosk.lane.has(LaneCause.LISTS_STALE)
        # WHEN the watchlist copy is older than the policy allows
        with kiosk.database.write() as session:
            row = session.get(ListVersionRow, "watchlist")
            assert row is not None
            row.updated_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=7)
        kiosk.supervisor.check()
        # THEN the lane is out of service for that list, with its age
        assert kiosk.lane.has(LaneCause.LISTS_STALE, "watchlist")
        assert not kiosk.lane.has(LaneCause.LISTS_STALE, "lost_stolen")
        detail = next(f.detail for f in kiosk.lane.status().faults if f.key == "watchlist")
        assert "7 h old" in detail
        # WHEN a fresh copy arrives THEN the cause clears by itself
        store.replace(ListKind.WATCHLIST, [[]])
        kiosk.supervisor.check()
        assert not kiosk.lane.has(LaneCause.LISTS_STALE)
    finally:
        kiosk.close()


def test_the_technician_takes_the_lane_out_and_back_and_rehearsal_is_admitted_only_then(
    tmp_path: Path,
) -> None:
    # GIVEN a running kiosk on the demo's simulated devices, in service
    config = load_config(
        None, data_dir=str(tmp_path / "home"), lane={"require_trust_anchors": False}
    )
    config = config.model_copy(update={"devices": demo_devices(scenario("genuine-traveller"))})
    kiosk = build_kiosk(config)
    runtime = KioskRuntime(kiosk)
    try:
        store = ScreeningStore(kiosk.database)
        store.replace(ListKind.LOST_STOLEN, [[]])
        store.replace(ListKind.WATCHLIST, [[]])
        runtime.start()
        assert runtime.wait_in_service(60), kiosk.lane.status().as_dict()
        assert kiosk.admits_travellers()
        # WHEN the technician takes the lane out of service THEN no traveller is admitted
        kiosk.take_out_of_service("self-tests")
        assert not kiosk.admits_travellers()
        # AND a rehearsal is, while the technician is the only cause
        kiosk.rehearsal.set()
        assert kiosk.admits_travellers()
        kiosk.lane.set(LaneCause.DEVICE_FAULT, "camera: unplugged", key="camera")
        assert not kiosk.admits_travellers()
        kiosk.lane.clear(LaneCause.DEVICE_FAULT)
        # WHEN the lane returns to service THEN the rehearsal has ended
        kiosk.return_to_service()
        assert not kiosk.rehearsal.is_set()
        assert kiosk.lane.in_service and kiosk.admits_travellers()
    finally:
        runtime.stop()
        kiosk.close()


def test_a_crl_long_past_its_next_update_closes_the_lane_until_a_fresh_one_comes(
    tmp_path: Path, passports
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a kiosk whose trust store holds the test PKI, imported as an operator does
    config = load_config(None, data_dir=str(tmp_path / "home"), lane={"crl_overdue_hours": 48})
    kiosk = build_kiosk(config)
    try:
        pki = passports.pki
        files = [*pki.trust_anchor_paths(), *pki.crl_paths()]
        summary = import_files(files, TrustStore(kiosk.database))
        assert summary.added >= len(files) and not summary.rejected
        kiosk.supervisor.check()
        assert not kiosk.lane.has(LaneCause.NO_TRUST_ANCHORS)
        assert not kiosk.lane.has(LaneCause.TRUST_STALE)
        latest = max(c.next_update for c in TrustStore(kiosk.database).crls() if c.next_update)
        if latest.tzinfo is None:
            latest = latest.replace(tzinfo=dt.UTC)
        # WHEN the clock passes every CRL's next update by more than the policy allows
        kiosk.supervisor.clock = lambda: latest + dt.timedelta(hours=49)
        kiosk.supervisor.check()
        # THEN the lane is out of service for stale trust, naming the countries
        assert kiosk.lane.has(LaneCause.TRUST_STALE)
        detail = next(
            f.detail for f in kiosk.lane.status().faults if f.cause is LaneCause.TRUST_STALE
        )
        assert "CRL past its next update" in detail
        # WHEN the time is within the allowance again THEN the cause clears by itself
        kiosk.supervisor.clock = lambda: latest + dt.timedelta(hours=47)
        kiosk.supervisor.check()
        assert not kiosk.lane.has(LaneCause.TRUST_STALE)
    finally:
        kiosk.close()
