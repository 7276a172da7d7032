"""A camera that fails on every read backs off: its retries slow down and its warnings come
at the 1st, 2nd, 4th, 8th ... failure, not once per read."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest

from hardware.camera import Camera, CameraError, Image

WAIT_S = 30.0


class BrokenCamera(Camera):
    """Opens fine, then every read fails (a camera whose cable is half out)."""

    def __init__(self) -> None:
        super().__init__(fps=1000.0, reconnect_s=0.02)
        self.reads = 0
        self.waits: list[float] = []
        self.enough = threading.Event()

    def _open(self) -> None:
        return None

    def _read(self) -> Image | None:
        self.reads += 1
        if self.reads >= 40:
            self.enough.set()
        raise CameraError("read failed")

    def _retry_wait_s(self) -> float:
        wait = super()._retry_wait_s()
        self.waits.append(wait)
        return wait


def test_a_failing_camera_backs_off_its_retries_and_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    camera = BrokenCamera()
    with caplog.at_level(logging.WARNING, logger="hardware.camera"):
        camera.start()
        try:
            assert camera.enough.wait(WAIT_S)  # the fault fired: 40 reads failed
        finally:
            camera.stop()
    failures = camera.failures_in_a_row
    warnings = [r for r in caplog.records if "camera lost" in r.getMessage()]
    # one warning per power of two, not one per read
    assert failures >= 40 and len(warnings) == camera.warnings_logged
    assert len(warnings) <= failures.bit_length()
    # and the waits grew from none to the cap (eight times reconnect_s)
    assert camera.waits[0] == 0.0 and camera.waits == sorted(camera.waits)
    assert max(camera.waits) == pytest.approx(0.16)


def test_a_good_frame_resets_the_backoff() -> None:
    class Flaky(BrokenCamera):
        def _read(self) -> Image | None:
            self.reads += 1
            if self.reads % 5:
                raise CameraError("read failed")
            self.enough.set()
            return np.zeros((4, 4, 3), dtype=np.uint8)

    camera = Flaky()
    camera.start()
    try:
        assert camera.wait_frame(timeout_s=WAIT_S) is not None
    finally:
        camera.stop()
    assert camera.failures_in_a_row <= 4
