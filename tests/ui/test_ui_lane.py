"""GIVEN the lane's service state WHEN it changes THEN the traveller screen shows the gate
closed with the site's directions to the staffed desk (and the welcome screen when it is back),
and the technician console shows the state, the configured drivers, and runs self-tests only
while the lane is out of service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from hardware.sim.camera import SimulatedCamera
from hardware.sim.chip_reader import SimulatedChipReader
from hardware.sim.gate import SimulatedGate
from hardware.sim.mrz_reader import SimulatedMrzReader
from kiosk.app import build_kiosk
from kiosk.config import load_config
from kiosk.diagnostics.log_buffer import LogBuffer
from kiosk.lane import Lane, LaneCause
from kiosk.session.events import EventBus
from ui.i18n.desk_catalogue import DeskCatalogue, desk_messages
from ui.technician.window import TechnicianWindow
from ui.traveller.window import TravellerWindow

pytestmark = pytest.mark.gui
DIRECTIONS = "Please go to desk 4, on your left."


def test_the_traveller_screen_says_the_gate_is_closed_while_out_of_service(qtbot: QtBot) -> None:
    # GIVEN the traveller window following a lane in service
    lane = Lane()
    window = TravellerWindow(EventBus(), officer_directions={"en": DIRECTIONS})
    qtbot.addWidget(window)
    window.follow_lane(lane)
    assert window.current_screen == "welcome"
    # WHEN the lane goes out of service
    lane.set(LaneCause.DEVICE_FAULT, "camera: unplugged", key="camera")
    # THEN the closed screen shows, pointing to the staffed desk
    qtbot.waitUntil(lambda: window.current_screen == "closed", timeout=5000)
    closed = window.screens["closed"]
    assert closed.hint is not None and closed.hint.text() == DIRECTIONS  # type: ignore[union-attr]
    assert "closed" in closed.title.text().lower()
    # AND a reset (the idle timer) keeps it there
    window.reset_to_welcome()
    assert window.current_screen == "closed"
    # WHEN the cause is gone THEN the welcome screen is back
    lane.clear(LaneCause.DEVICE_FAULT)
    qtbot.waitUntil(lambda: window.current_screen == "welcome", timeout=5000)
    window.shutdown()


@pytest.fixture
def log_buffer() -> Iterator[LogBuffer]:
    buffer = LogBuffer()
    detach = buffer.install()
    yield buffer
    detach()


def test_the_console_shows_the_configured_drivers_and_the_lane(
    qtbot: QtBot, tmp_path: Path, log_buffer: LogBuffer
) -> None:
    # GIVEN a kiosk built from a configuration naming real drivers, none connected
    config = load_config(
        None,
        data_dir=str(tmp_path / "home"),
        devices={
            "chip_reader": {"type": "pcsc", "reader_pattern": "no such reader"},
            "mrz_reader": {"type": "serial", "port": str(tmp_path / "no-tty")},
            "camera": {"type": "opencv", "source": str(tmp_path / "none.avi")},
            "gate": {"type": "serial", "port": str(tmp_path / "no-tty-gate")},
        },
    )
    kiosk = build_kiosk(config)
    try:
        kiosk.supervisor.check()
        window = TechnicianWindow.for_kiosk(kiosk, log_buffer, refresh_ms=500)
        qtbot.addWidget(window)
        table = window.devices_tab.table
        # THEN the devices table names the drivers the configuration names
        qtbot.waitUntil(lambda: table.rowCount() == 4, timeout=5000)
        drivers = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(4)}
        assert drivers == {
            "Camera": "opencv",
            "Chip reader": "pcsc",
            "MRZ reader": "serial",
            "Gate": "serial",
        }
        # AND the lane bar says out of service, with the device at fault
        text = window.lane_label.text()
        assert "OUT OF SERVICE" in text and "camera" in text and "no_trust_anchors" in text
        window.close()
    finally:
        kiosk.close()


def test_self_tests_run_only_while_the_technician_has_the_lane_out_of_service(
    qtbot: QtBot,
    tmp_path: Path,
    log_buffer: LogBuffer,
    camera: SimulatedCamera,
    mrz_reader: SimulatedMrzReader,
    gate: SimulatedGate,
) -> None:
    # GIVEN the console over a lane in service
    lane = Lane()
    config = load_config(data_dir=tmp_path / "home")
    window = TechnicianWindow(
        config,
        log_buffer,
        camera=camera,
        chip_reader=SimulatedChipReader(),
        mrz_reader=mrz_reader,
        gate=gate,
        lane=lane,
    )
    qtbot.addWidget(window)
    assert window.lane_label.text() == "Lane: IN SERVICE"
    assert not window.devices_tab.buttons["gate"].isEnabled()
    # WHEN a door test is asked for anyway THEN it is not run
    window.devices_tab.run_test("gate")
    result = window.devices_tab.results["gate"]
    assert not result.passed and "out of service" in result.summary
    assert gate.status.state.value == "closed"
    # WHEN the technician takes the lane out of service
    window.toggle_service()
    qtbot.waitUntil(lambda: "OUT OF SERVICE" in window.lane_label.text(), timeout=5000)
    assert lane.has(LaneCause.TECHNICIAN)
    assert window.devices_tab.buttons["gate"].isEnabled()
    # THEN the door test runs and passes
    window.devices_tab.run_test("gate")
    qtbot.waitUntil(lambda: window.devices_tab.results["gate"].passed, timeout=20_000)
    # AND "return to service" brings the lane back
    window.toggle_service()
    qtbot.waitUntil(lambda: window.lane_label.text() == "Lane: IN SERVICE", timeout=5000)
    window.close()


@pytest.mark.parametrize("language", ["fr", "es", "nl"])
def test_the_lane_bar_devices_log_and_trust_tabs_speak_the_console_language(
    qtbot: QtBot,
    tmp_path: Path,
    log_buffer: LogBuffer,
    camera: SimulatedCamera,
    mrz_reader: SimulatedMrzReader,
    gate: SimulatedGate,
    language: str,
) -> None:
    # GIVEN the console over a lane the technician took out of service, a door test refused
    # while it was in service, the console switched from English
    lane = Lane()
    window = TechnicianWindow(load_config(data_dir=tmp_path / "home"), log_buffer, camera=camera,
                              chip_reader=SimulatedChipReader(), mrz_reader=mrz_reader,
                              gate=gate, lane=lane)  # fmt: skip
    qtbot.addWidget(window)
    window.devices_tab.run_test("gate")
    lane.set(LaneCause.TECHNICIAN, "technician console")
    qtbot.waitUntil(lambda: "OUT OF SERVICE" in window.lane_label.text(), timeout=5000)
    window.set_language(language)
    t = DeskCatalogue(language)
    # THEN the lane bar, the Devices tab and the log viewer are in that language
    tab, logs = window.devices_tab, window.log_view
    assert window.lane_label.text().startswith(t("lane.bar_out_of_service", causes=""))
    assert t("cause.technician") in window.lane_label.text()
    assert window.lane_button.text() == t("lane.bar_return")
    headers = [tab.table.horizontalHeaderItem(c).text() for c in range(tab.table.columnCount())]
    assert headers[0] == t("dev.col_device") and headers[3] == t("dev.col_last_error")
    assert tab.buttons["all"].text() == t("dev.run_all")
    assert tab.buttons["gate"].text() == t("dev.test.gate")
    assert t("dev.not_run") in tab.results_table.item(0, 1).text()
    assert tab.results_table.item(0, 0).text() == t("dev.gate")
    assert logs.level_label.text() == t("log.level")
    assert logs.text.placeholderText() == t("log.text_hint")
    trust = window.trust_tab
    qtbot.waitUntil(lambda: trust.summary.text() == t("trust.no_database"), timeout=5000)
    trust_headers = [trust.table.horizontalHeaderItem(c).text() for c in range(4)]
    assert trust_headers[3] == t("trust.col_crl")
    # AND the Health tab's values too (a kiosk without a database: unknown, never)
    qtbot.waitUntil(lambda: window.contact_label.text() == t("health.unknown"), timeout=5000)
    assert window.backlog_label.text() == t("health.unknown_no_db")
    assert window.trust_detail_label.text() == t("health.no_trust")
    # AND no English word of these screens is left
    english = desk_messages("en")
    left_over = {
        english[key]
        for key in english
        if key.startswith(("dev.", "log.", "lane.bar_", "trust.", "health."))
        and t(key) != english[key]
    }
    shown = {window.lane_label.text(), window.lane_button.text(), tab.camera_figures.text(),
             logs.count.text(), logs.logger.placeholderText(), *headers, *trust_headers,
             trust.summary.text(), window.backlog_label.text(), window.contact_label.text(),
             window.trust_label.text(), window.trust_detail_label.text(),
             *(b.text() for b in tab.buttons.values()),
             *(label.text() for label in tab.sections.values()),
             *(tab.results_table.horizontalHeaderItem(c).text() for c in range(3))}  # fmt: skip
    assert not shown & left_over, shown & left_over
    window.close()
