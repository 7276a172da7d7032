"""GIVEN a kiosk rehearsing with the test traveller's passport WHEN the diagnostics bundle is
built THEN it holds the configuration (secrets masked), devices, self-tests, logs and versions,
and not the traveller's name, document number or birth date anywhere."""

from __future__ import annotations

import json
import logging
import os
import zipfile
from pathlib import Path

import pytest

from hardware.config import SimulatedCameraConfig
from hardware.sim.camera import SimulatedCamera
from hardware.sim.chip_reader import SimulatedChipReader
from hardware.sim.mrz_reader import SimulatedMrzReader
from kiosk.config import load_config
from kiosk.diagnostics.bundle import build_bundle, redact_text
from kiosk.diagnostics.devices import device_reports
from kiosk.diagnostics.log_buffer import LogBuffer
from kiosk.diagnostics.selftests import (
    camera_self_test,
    chip_reader_self_test,
    mrz_reader_self_test,
)
from kiosk.officer.samples import FACES

MRZ = "P<LCAJOSEPH<<MARIE<ANGELA<<<<<<<<<<<<<<<<<<<\nLC12345671LCA8703145F3305197<<<<<<<<<<<<<<<2"
PERSONAL = ("JOSEPH", "MARIE", "ANGELA", "LC1234567", "870314", "1987-03-14")


@pytest.fixture(autouse=True)
def _no_kiosk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("KIOSK_"):
            monkeypatch.delenv(name)


def test_the_bundle_contains_no_personal_data(tmp_path: Path) -> None:
    config = load_config(
        data_dir=tmp_path,
        kiosk_id="kiosk-diag",
        storage={"key": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="},
        devices={"mrz_reader": {"type": "simulated", "documents": [MRZ]}},
    )
    buffer = LogBuffer()
    log = logging.getLogger("kiosk.test.diag")
    log.addHandler(buffer)
    log.setLevel(logging.INFO)
    log.info("transaction kiosk-diag-0001 decided refer")
    log.info("a careless driver logged %s", MRZ.splitlines()[1])  # defence in depth
    reader = SimulatedMrzReader(config.devices.mrz_reader)  # type: ignore[arg-type]
    reader.open()
    try:
        mrz_result = mrz_reader_self_test(reader, timeout_s=5)
    finally:
        reader.close()
        log.removeHandler(buffer)
    chip_result = chip_reader_self_test(SimulatedChipReader(), wait_s=0.1)

    path = build_bundle(
        tmp_path / "bundle.zip",
        config=config,
        devices=device_reports(chip_reader=SimulatedChipReader()),
        selftests=[mrz_result, chip_result],
        log_lines=buffer.lines(),
        health={"sync": {"backlog": 3}},
    )

    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    everything = "\n".join(files.values()).upper()
    for value in PERSONAL:
        assert value not in everything, f"{value} leaked into the bundle"
    assert "SECRET" not in everything and "C2VJCMV0" not in everything
    cfg = json.loads(files["config.json"])
    assert cfg["storage"]["key"] == "********"
    assert cfg["devices"]["mrz_reader"]["documents"].startswith("[redacted]")
    assert "kiosk-diag-0001 decided refer" in files["log.txt"]
    assert json.loads(files["manifest.json"])["versions"]["python"]
    results = {r["device"]: r for r in json.loads(files["selftests.json"])}
    assert results["mrz_reader"]["passed"] is True
    assert results["chip_reader"]["passed"] is False  # no test card on the reader
    assert json.loads(files["health.json"]) == {"sync": {"backlog": 3}}


def test_mrz_like_runs_are_redacted_but_ordinary_text_is_not() -> None:
    assert redact_text("sw=9000 state closed") == "sw=9000 state closed"
    assert "LC1234567" not in redact_text("x LC12345671LCA8703145F3305197<<<< y")


def test_a_blurred_camera_fails_its_self_test() -> None:
    camera = SimulatedCamera(
        SimulatedCameraConfig(scene="motion_blur", face_image=FACES / "rose_1.jpg", fps=30)
    )
    result = camera_self_test(camera, seconds=0.3)
    assert not result.passed and "blurred" in result.summary
    assert result.figures["fps"] > 0
    assert camera.status.value == "stopped"  # the test stopped what it started
