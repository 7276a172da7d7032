"""GIVEN the camera mount drivers (fixed, simulated, serial) WHEN they are stepped, driven past
their ends, self-tested, fail, or the serial controller answers garbage THEN the mount stays
within its range, reports where it is, moves the simulated camera's view, and fails with a
typed error only."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.camera_mount import CameraMountError, FixedCameraMount
from hardware.config import (
    DevicesConfig,
    SerialCameraMountConfig,
    SimulatedCameraConfig,
    SimulatedCameraMountConfig,
)
from hardware.serial_camera_mount import parse_reply
from hardware.sim.camera import SimulatedCamera
from hardware.sim.camera_mount import SimulatedCameraMount
from kiosk.devices import Devices


def _mount(**settings: object) -> SimulatedCameraMount:
    mount = SimulatedCameraMount(SimulatedCameraMountConfig.model_validate(settings))
    mount.open()
    return mount


def test_steps_stop_at_the_ends_of_the_range() -> None:
    mount = _mount(lowest=-2, highest=1)
    assert mount.position.step == 0 and mount.targets == [0]  # homed on open
    assert mount.step(-1).step == -1
    position = mount.step(-5)
    assert position.step == -2 and position.at_lowest
    assert mount.step(-1).step == -2  # already at the end: no move sent
    assert mount.step(+9).step == 1 and mount.position.at_highest
    assert mount.home().step == 0
    assert mount.targets == [0, -1, -2, 1, 0]


def test_the_self_test_reaches_both_ends_and_comes_home() -> None:
    mount = _mount(lowest=-3, highest=2)
    position = mount.self_test()
    assert position.step == 0 and mount.targets[-3:] == [-3, 2, 0]


def test_a_stalled_motor_is_a_typed_error_and_the_position_is_kept() -> None:
    mount = _mount()
    mount.step(-1)
    mount.fail_next_move()
    with pytest.raises(CameraMountError):
        mount.step(-1)
    assert mount.position.step == -1


def test_a_fixed_camera_never_moves() -> None:
    mount = FixedCameraMount()
    mount.open()
    assert not mount.motorised and mount.step(-3).step == 0 and mount.self_test().step == 0


def test_a_mount_range_without_home_is_refused() -> None:
    with pytest.raises(ValueError):
        SimulatedCameraMountConfig(lowest=1)
    with pytest.raises(ValueError):
        SerialCameraMountConfig.model_validate({"type": "serial", "speed": 3})


def test_the_simulated_mount_moves_the_simulated_cameras_view() -> None:
    # GIVEN a seated traveller (face low in the view) on a simulated camera with a mount
    devices = Devices.from_config(
        DevicesConfig(
            camera=SimulatedCameraConfig(scene="nobody", face_height=0.2),
            camera_mount=SimulatedCameraMountConfig(step_fraction=0.1),
        )
    )
    camera, mount = devices.camera, devices.camera_mount
    assert isinstance(camera, SimulatedCamera) and isinstance(mount, SimulatedCameraMount)
    assert mount.camera is camera
    camera._open()
    unshifted = camera._scene.render(0)  # type: ignore[union-attr]
    low = camera._shifted(unshifted)
    rows = int(round(0.2 * unshifted.shape[0]))
    assert np.array_equal(low[rows:], unshifted[:-rows])
    # WHEN the mount tilts two steps down, the picture moves up by two steps' worth
    camera.set_tilt(-0.2)
    assert np.array_equal(camera._shifted(unshifted), unshifted)
    camera._close()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_the_serial_controllers_replies_parse_or_raise_value_error(line: str) -> None:
    try:
        reply = parse_reply(line)
    except ValueError:
        return
    assert isinstance(reply, (int, str))
    if isinstance(reply, int):
        assert -999 <= reply <= 999


def test_the_serial_controllers_documented_replies() -> None:
    assert parse_reply("POS -2") == -2
    assert parse_reply("POS 3") == 3
    assert parse_reply("ERR stalled") == "stalled"
    for bad in ("POS", "POS x", "POS 1 2", "POS 99999", "OK", "POS ٣"):
        with pytest.raises(ValueError):
            parse_reply(bad)


class FakeController:
    """A lift/tilt controller on a pseudo-terminal: answers ``TILT n`` with noise, then
    ``POS n`` (or what ``answer`` says)."""

    def __init__(self) -> None:
        import os
        import threading
        import tty

        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.received: list[str] = []
        self.answer: str | None = None  # None: the documented POS reply
        self.silent = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        import os
        import select

        buffer = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                buffer += os.read(self.master, 256)
            except OSError:
                return
            while b"\n" in buffer:
                raw, buffer = buffer.split(b"\n", 1)
                line = raw.decode("ascii", "replace").strip()
                self.received.append(line)
                if self.silent:
                    continue
                reply = self.answer or f"POS {line.split()[-1]}"
                os.write(self.master, b"\x00garbage\r\nPOS\r\n" + reply.encode() + b"\r\n")

    def close(self) -> None:
        import os

        self._stop.set()
        self._thread.join(5.0)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


def test_the_serial_mount_speaks_its_line_protocol() -> None:
    pytest.importorskip("serial")
    from hardware.serial_camera_mount import SerialCameraMount

    controller = FakeController()
    mount = SerialCameraMount(
        SerialCameraMountConfig(port=controller.path, move_timeout_s=2.0, lowest=-2, highest=2)
    )
    try:
        mount.open()
        assert mount.step(-1).step == -1
        assert mount.self_test().step == 0
        assert controller.received == ["TILT 0", "TILT -1", "TILT -2", "TILT 2", "TILT 0"]
        assert mount.unknown_lines >= 2  # the noise before each answer was ignored
        # a controller that reports another step, refuses, or stays silent: typed errors
        for answer, silent in (("POS 1", False), ("ERR stalled", False), (None, True)):
            controller.answer, controller.silent = answer, silent
            with pytest.raises(CameraMountError):
                mount.step(-1)
            assert mount.position.step == 0
    finally:
        mount.close()
        controller.close()
