"""GIVEN the traveller window with the live camera preview WHEN a whole transaction runs
(MRZ reader -> engine -> chip -> face -> decision -> gate) THEN the GUI event loop never
stalls: no pipeline step (the device and face work) runs on the GUI thread, and a 10 ms QTimer
keeps ticking. The longest gap is printed, not asserted: a duration depends on how busy the
machine is (`-s` shows it)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from hardware.mrz_reader import DocumentPresented, DocumentRemoved, MrzReaderEvent
from hardware.sim.camera import SimulatedCamera
from hardware.sim.gate import SimulatedGate
from hardware.sim.mrz_reader import SimulatedMrzReader
from kiosk.session.engine import SessionEngine
from ui.traveller.window import TravellerWindow

from .conftest import TRAVELLER_MRZ, ScriptedPipeline

pytestmark = pytest.mark.gui


def test_the_event_loop_never_stalls_during_a_transaction(
    qtbot: QtBot,
    engine: SessionEngine,
    pipeline: ScriptedPipeline,
    camera: SimulatedCamera,
    mrz_reader: SimulatedMrzReader,
    gate: SimulatedGate,
) -> None:
    pipeline.step_s = 0.25  # device-like step times, so the run spans a few seconds

    def on_reader(event: MrzReaderEvent) -> None:
        if isinstance(event, DocumentPresented):
            engine.document_presented(list(event.scan.lines))
        elif isinstance(event, DocumentRemoved):
            engine.document_removed()

    mrz_reader.add_listener(on_reader)
    step_threads: list[str] = []
    for name in ("read_document", "read_chip", "capture_face", "match_face", "pass_gate"):
        original = getattr(pipeline, name)

        def recorded(*args: Any, _original: Any = original) -> Any:
            step_threads.append(threading.current_thread().name)
            return _original(*args)

        setattr(pipeline, name, recorded)
    window = TravellerWindow(engine.bus, camera)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000)
        last[0] = now

    probe = QTimer()
    probe.setInterval(10)
    probe.timeout.connect(tick)
    probe.start()
    try:
        qtbot.wait(200)
        gaps.clear()
        last[0] = time.perf_counter()
        mrz_reader.present(TRAVELLER_MRZ)
        qtbot.waitUntil(lambda: window.current_screen == "proceed", timeout=20_000)
        qtbot.waitUntil(lambda: engine.state.value == "waiting", timeout=10_000)
        qtbot.wait(100)
    finally:
        probe.stop()
        window.close()
    assert engine.wait_idle(5)
    camera_screen = window.screens["camera"]
    assert camera_screen.preview.frames_shown > 0  # type: ignore[union-attr]
    assert len(gaps) > 50
    assert step_threads and threading.main_thread().name not in step_threads
    print(f"event loop: {len(gaps)} ticks, longest gap {max(gaps):.0f} ms")
