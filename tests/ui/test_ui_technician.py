"""GIVEN the technician console over simulated devices and the kiosk database WHEN the
technician looks at devices, runs the self-tests, filters the logs and exports a bundle
THEN every device shows driver and status, every self-test passes on working simulators,
the log filters work, health figures show, and the bundle holds no personal data."""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from hardware.sim.camera import SimulatedCamera
from hardware.sim.chip_reader import SimulatedChipReader
from hardware.sim.gate import SimulatedGate
from hardware.sim.mrz_reader import SimulatedMrzReader
from kiosk.config import load_config
from kiosk.diagnostics.log_buffer import LogBuffer
from kiosk.storage.database import Database
from ui.technician.window import TechnicianWindow

from .conftest import TRAVELLER_MRZ

pytestmark = pytest.mark.gui


class TestCard:
    """A card that answers SELECT of the eMRTD application with 9000."""

    atr = bytes.fromhex("3B8880014A434F5033315632")

    def transmit(self, apdu: bytes) -> bytes:
        return bytes.fromhex("9000") if apdu[:2] == b"\x00\xa4" else bytes.fromhex("6D00")


@pytest.fixture
def log_buffer() -> Iterator[LogBuffer]:
    buffer = LogBuffer()
    detach = buffer.install()
    previous = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    yield buffer
    detach()
    logging.getLogger().setLevel(previous)


@pytest.fixture
def window(
    qtbot: QtBot,
    tmp_path: Path,
    database: Database,
    referral_ids: list[str],
    log_buffer: LogBuffer,
    camera: SimulatedCamera,
    mrz_reader: SimulatedMrzReader,
    gate: SimulatedGate,
) -> Iterator[TechnicianWindow]:
    # the kiosk was configured to rehearse with the test traveller's document
    config = load_config(
        data_dir=tmp_path / "home",
        kiosk_id="kiosk-ui",
        devices={"mrz_reader": {"type": "simulated", "documents": [TRAVELLER_MRZ]}},
    )
    win = TechnicianWindow(
        config,
        log_buffer,
        database=database,
        camera=camera,
        chip_reader=SimulatedChipReader(card=TestCard()),
        mrz_reader=mrz_reader,
        gate=gate,
        refresh_ms=500,
    )
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    yield win
    win.close()
    assert not win.timer.isActive()


def test_every_device_shows_driver_status_and_last_error(
    qtbot: QtBot, window: TechnicianWindow
) -> None:
    table = window.devices_tab.table
    qtbot.waitUntil(lambda: table.rowCount() == 4, timeout=5000)
    rows = {table.item(r, 0).text(): [table.item(r, c).text() for c in range(5)] for r in range(4)}
    assert set(rows) == {"Camera", "Chip reader", "MRZ reader", "Gate"}
    assert all(row[1] == "simulated" for row in rows.values())
    assert rows["Camera"][2] == "running" and rows["Gate"][2] == "closed"
    assert rows["MRZ reader"][2] == "ok" and rows["Chip reader"][3] == "–"


def test_all_self_tests_pass_on_working_simulators(
    qtbot: QtBot, window: TechnicianWindow, gate: SimulatedGate
) -> None:
    window.devices_tab.run_all()
    qtbot.waitUntil(lambda: len(window.devices_tab.results) == 4, timeout=20_000)
    results = window.devices_tab.results
    assert all(r.passed for r in results.values()), {k: r.summary for k, r in results.items()}
    assert results["camera"].figures["fps"] > 5
    assert results["camera"].figures["focus"] > 0
    assert results["chip_reader"].figures["select_sw"] == "9000"
    assert results["mrz_reader"].figures["format"] == "TD3"
    assert "frames/s" in window.devices_tab.camera_figures.text()
    qtbot.waitUntil(lambda: window.devices_tab.preview.frames_shown > 0, timeout=3000)


def test_the_log_viewer_filters_by_level_logger_and_text(
    qtbot: QtBot, window: TechnicianWindow
) -> None:
    logging.getLogger("hardware.gate").warning("gate heartbeat slow (test)")
    logging.getLogger("kiosk.sync").info("sync round done (test)")
    view = window.log_view
    qtbot.waitUntil(lambda: "heartbeat slow" in view.shown_text(), timeout=3000)
    view.level.setCurrentText("WARNING")
    assert "heartbeat slow" in view.shown_text() and "sync round" not in view.shown_text()
    view.level.setCurrentText("INFO")
    view.logger.setText("kiosk.sync")
    assert "sync round" in view.shown_text() and "heartbeat" not in view.shown_text()
    view.logger.setText("")
    view.text.setText("HEARTBEAT")
    assert "heartbeat slow" in view.shown_text() and "sync round" not in view.shown_text()


def test_health_shows_the_sync_backlog_and_an_unknown_trust_list(
    qtbot: QtBot, window: TechnicianWindow
) -> None:
    # 2 referrals: a decision and a photo reference each
    qtbot.waitUntil(lambda: window.backlog_label.text() == "4", timeout=5000)
    assert window.contact_label.text() == "never"
    assert window.trust_label.text() == "unknown"
    assert '"kiosk_id": "kiosk-ui"' in window.config_view.toPlainText()
    assert "JOSEPH" not in window.config_view.toPlainText()


def test_the_exported_bundle_holds_no_personal_data(
    qtbot: QtBot, window: TechnicianWindow, tmp_path: Path, mrz_reader: SimulatedMrzReader
) -> None:
    window.devices_tab.run_all()
    qtbot.waitUntil(lambda: len(window.devices_tab.results) == 4, timeout=20_000)
    target = tmp_path / "out" / "bundle.zip"
    window.export_bundle(target)
    qtbot.waitUntil(lambda: "Bundle written" in window.export_status.text(), timeout=10_000)
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
        text = "\n".join(archive.read(n).decode("utf-8") for n in names)
    assert {"config.json", "devices.json", "selftests.json", "log.txt", "manifest.json"} <= names
    assert "mrz_reader" in text and "select_sw" in text
    for personal in ("JOSEPH", "MARIE", "ANGELA", "LC1234567", "870314", "1987-03-14"):
        assert personal not in text.upper()


def test_the_console_speaks_the_four_languages_in_large_text(window: TechnicianWindow) -> None:
    window.set_language("es")
    assert window.tabs.tabText(0) == "Dispositivos"
    assert [window.tabs.tabText(i) for i in (3, 4)] == ["Cobertura de confianza", "Configuración"]
    assert window.export_button.text() == "Exportar paquete de diagnóstico…"
    window.set_language("fr")
    assert window.windowTitle().startswith("Console technicien")
    before = window.title.fontInfo().pixelSize()
    window.set_large_text(True)
    assert window.title.fontInfo().pixelSize() > before


def test_the_camera_mount_self_test_drives_its_whole_range(
    qtbot: QtBot, tmp_path: Path, database: Database, log_buffer: LogBuffer
) -> None:
    from hardware.config import SimulatedCameraMountConfig
    from hardware.sim.camera_mount import SimulatedCameraMount

    # GIVEN the console over a kiosk with a motorised camera mount
    mount = SimulatedCameraMount(SimulatedCameraMountConfig(lowest=-2, highest=3))
    mount.open()
    config = load_config(
        data_dir=tmp_path / "mount",
        kiosk_id="kiosk-ui",
        devices={"camera_mount": {"type": "simulated", "lowest": -2, "highest": 3}},
    )
    win = TechnicianWindow(config, log_buffer, database=database, camera_mount=mount)
    qtbot.addWidget(win)
    try:
        tab = win.devices_tab
        assert "camera_mount" in tab.buttons
        # WHEN the technician runs its self-test
        tab.run_test("camera_mount")
        qtbot.waitUntil(lambda: "camera_mount" in tab.results, timeout=10_000)
        # THEN both ends and home were reached, and the figures say so
        result = tab.results["camera_mount"]
        assert result.passed, result.summary
        assert result.figures["lowest"] == -2 and result.figures["highest"] == 3
        assert mount.targets[-3:] == [-2, 3, 0]
        # AND a stalled motor fails the test with its code
        mount.fail_next_move()
        tab.run_test("camera_mount")
        qtbot.waitUntil(lambda: not tab.results["camera_mount"].passed, timeout=10_000)
        assert tab.results["camera_mount"].summary == "failed: camera_mount_error"
    finally:
        win.close()
