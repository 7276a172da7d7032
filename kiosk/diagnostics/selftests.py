"""Self-tests of each device kind, run by the technician console (off the GUI thread).

Each returns a :class:`SelfTestResult` with figures only: frame rate and focus for the camera,
the ATR and the status word of a test SELECT for the chip reader, the format and check-digit
verdict of a test document for the MRZ reader, the door timings of an open/close cycle for the
gate. No image, no MRZ text, no chip data beyond the ATR is kept.

Each test runs on its device's executor thread (:func:`hardware.executor.on_device`) with the
device claimed for ``selftest``: while a traveller's transaction holds the device the test
fails with ``device_busy`` instead of interleaving with it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hardware.camera import Camera, Image
from hardware.camera_mount import CameraMount
from hardware.chip_reader import ChipReader
from hardware.executor import on_device
from hardware.gate import Gate, GateState
from hardware.mrz_reader import MrzReader
from hardware.sim.mrz_reader import SimulatedMrzReader
from models.errors import KioskError

log = logging.getLogger(__name__)

# SELECT the eMRTD application (ICAO 9303-10): AID A0 00 00 02 47 10 01, no answer data.
SELECT_EMRTD = bytes.fromhex("00A4040C07A0000002471001")
# The specimen of ICAO Doc 9303 Part 4 (a fictitious person), used to rehearse the MRZ reader.
TEST_DOCUMENT = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
)
# Variance of the Laplacian below this: the picture is blurred. It depends on the lens and the
# scene; with the simulated traveller a sharp frame measures about 43 and a motion-blurred one
# about 7. Calibrate on site with the camera self-test.
MIN_FOCUS = 20.0


@dataclass(frozen=True)
class SelfTestResult:
    device: str
    passed: bool
    summary: str
    figures: dict[str, Any] = field(default_factory=dict)
    duration_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "passed": self.passed,
            "summary": self.summary,
            "figures": dict(self.figures),
            "duration_ms": round(self.duration_ms, 1),
        }


def focus_measure(image: Image) -> float:
    """Variance of the Laplacian of the grey picture: higher is sharper."""
    import cv2

    grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


SELFTEST_OWNER = "selftest"
SELFTEST_BOUND_S = 60.0  # longer than any test's own waits; a hung driver is bounded by it


def _timed(device: str, body: Callable[[], SelfTestResult], hardware: object) -> SelfTestResult:
    start = time.perf_counter()
    try:
        result = on_device(hardware, body, owner=SELFTEST_OWNER, timeout_s=SELFTEST_BOUND_S)
    except KioskError as exc:
        result = SelfTestResult(device, False, f"failed: {exc.code}")
    except Exception as exc:  # a driver bug must show as a failed test, not crash the console
        log.exception("%s self-test crashed", device)
        result = SelfTestResult(device, False, f"failed: {type(exc).__name__}")
    elapsed = (time.perf_counter() - start) * 1000
    log.info("self-test %s: %s", device, "passed" if result.passed else "failed")
    return SelfTestResult(result.device, result.passed, result.summary, result.figures, elapsed)


def camera_self_test(
    camera: Camera, seconds: float = 1.0, min_focus: float = MIN_FOCUS
) -> SelfTestResult:
    """Count frames for ``seconds`` and measure the focus of the last one."""

    def body() -> SelfTestResult:
        started_here = camera.status.value == "stopped"
        if started_here:
            camera.start()
        try:
            first = camera.wait_frame(timeout_s=3.0)
            if first is None:
                return SelfTestResult("camera", False, "no picture within 3 s")
            last = first
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                frame = camera.wait_frame(
                    last.index, timeout_s=max(0.01, deadline - time.monotonic())
                )
                if frame is not None:
                    last = frame
            span = last.timestamp - first.timestamp
            fps = (last.index - first.index) / span if span > 0 else 0.0
            focus = focus_measure(last.image)
            width, height = last.resolution
        finally:
            if started_here:
                camera.stop()
        sharp = focus >= min_focus
        figures = {
            "fps": round(fps, 1),
            "focus": round(focus, 1),
            "resolution": f"{width}x{height}",
        }
        summary = f"{fps:.1f} frames/s, focus {focus:.0f}" + ("" if sharp else " (blurred)")
        return SelfTestResult("camera", fps > 0 and sharp, summary, figures)

    return _timed("camera", body, camera)


def chip_reader_self_test(reader: ChipReader, wait_s: float = 2.0) -> SelfTestResult:
    """Connect to the card on the reader (a test card), show its ATR, SELECT the eMRTD app."""

    def body() -> SelfTestResult:
        if not reader.wait_for_card(wait_s):
            return SelfTestResult("chip_reader", False, "no card on the reader: place a test card")
        atr = reader.connect()
        try:
            response = reader.transmit(SELECT_EMRTD)
        finally:
            reader.disconnect()
        sw = response[-2:].hex().upper()
        figures = {"reader": reader.name, "atr": atr.hex(" ").upper(), "select_sw": sw}
        passed = sw == "9000"
        summary = "eMRTD application selected" if passed else f"SELECT answered {sw}"
        return SelfTestResult("chip_reader", passed, summary, figures)

    return _timed("chip_reader", body, reader)


def mrz_reader_self_test(reader: MrzReader, timeout_s: float = 10.0) -> SelfTestResult:
    """Read a test document (the simulated reader is handed the ICAO specimen itself)."""

    def body() -> SelfTestResult:
        from kiosk.icao.mrz import MrzError, parse_mrz

        if isinstance(reader, SimulatedMrzReader):
            reader.present(TEST_DOCUMENT)
        scan = reader.wait_document(timeout_s)
        if isinstance(reader, SimulatedMrzReader):
            reader.remove()
        if scan is None:
            return SelfTestResult("mrz_reader", False, f"no document read in {timeout_s:.0f} s")
        try:
            result = parse_mrz(scan.text)
        except MrzError as exc:
            return SelfTestResult("mrz_reader", False, f"unreadable MRZ: {exc.code}")
        figures = {
            "format": str(result.format),
            "lines": len(result.lines),
            "check_digits_ok": all(result.checks.values()),
            "corrections": len(result.corrections),
        }
        summary = f"{result.format} read, check digits {'valid' if result.valid else 'INVALID'}"
        return SelfTestResult("mrz_reader", result.valid, summary, figures)

    return _timed("mrz_reader", body, reader)


def gate_self_test(gate: Gate, door_timeout_s: float = 5.0) -> SelfTestResult:
    """Open and close each door once; fails if a door does not reach the state in time."""

    def body() -> SelfTestResult:
        figures: dict[str, Any] = {}
        for name, opener, closer, state in (
            ("entry", gate.open_entry, gate.close_entry, GateState.ENTRY_OPEN),
            ("exit", gate.open_exit, gate.close_exit, GateState.EXIT_OPEN),
        ):
            t0 = time.perf_counter()
            opener()
            if not gate.wait_state(state, door_timeout_s):
                gate.close_all()
                return SelfTestResult("gate", False, f"{name} door did not open", figures)
            figures[f"{name}_open_ms"] = round((time.perf_counter() - t0) * 1000, 1)
            t0 = time.perf_counter()
            closer()
            if not gate.wait_state(GateState.CLOSED, door_timeout_s):
                gate.close_all()
                return SelfTestResult("gate", False, f"{name} door did not close", figures)
            figures[f"{name}_close_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        figures["state"] = gate.state.value
        return SelfTestResult("gate", True, "both doors opened and closed", figures)

    return _timed("gate", body, gate)


def camera_mount_self_test(mount: CameraMount) -> SelfTestResult:
    """Drive a motorised mount to both ends of its range and home again, each position
    confirmed by the driver; a fixed camera has nothing to move and passes as such."""

    def body() -> SelfTestResult:
        if not mount.motorised:
            return SelfTestResult("camera_mount", True, "fixed camera: nothing to move")
        moves = mount.moves
        t0 = time.perf_counter()
        position = mount.self_test()
        figures = {
            "lowest": position.lowest,
            "highest": position.highest,
            "moves": mount.moves - moves,
            "travel_ms": round((time.perf_counter() - t0) * 1000, 1),
        }
        home = position.step == 0
        summary = f"steps {position.lowest}..{position.highest} reached, back home"
        return SelfTestResult("camera_mount", home, summary if home else "not home", figures)

    return _timed("camera_mount", body, mount)
