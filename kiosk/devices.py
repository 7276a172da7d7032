"""Device drivers by kind and ``type``: the explicit map the composition root uses.

Drivers are named as ``module:Class`` and imported only when configured, so a kiosk with
simulated devices never loads pyscard or pyserial, and a missing vendor library fails with
a clear error at start-up instead of at ``import kiosk``.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any

from hardware.camera import Camera
from hardware.camera_mount import CameraMount, FixedCameraMount
from hardware.chip_reader import ChipReader
from hardware.config import DevicesConfig
from hardware.gate import Gate
from hardware.mrz_reader import MrzReader
from hardware.sim.speaker import SimulatedSpeaker
from hardware.speaker import Speaker
from kiosk.device_threads import DeviceThreads
from models.errors import ConfigError

log = logging.getLogger(__name__)

DRIVERS: dict[str, dict[str, str]] = {
    "chip_reader": {
        "simulated": "hardware.sim.chip_reader:SimulatedChipReader",
        "pcsc": "hardware.pcsc:PcscChipReader",
    },
    "mrz_reader": {
        "simulated": "hardware.sim.mrz_reader:SimulatedMrzReader",
        "serial": "hardware.serial_mrz_reader:SerialMrzReader",
        "keyboard": "hardware.keyboard_wedge:KeyboardWedgeMrzReader",
    },
    "camera": {
        "simulated": "hardware.sim.camera:SimulatedCamera",
        "opencv": "hardware.opencv_camera:OpenCvCamera",
    },
    "gate": {
        "simulated": "hardware.sim.gate:SimulatedGate",
        "serial": "hardware.serial_gate:SerialGate",
    },
    "speaker": {
        "simulated": "hardware.sim.speaker:SimulatedSpeaker",
        "alsa": "hardware.speaker:AlsaSpeaker",
    },
    "camera_mount": {
        "none": "hardware.camera_mount:FixedCameraMount",
        "simulated": "hardware.sim.camera_mount:SimulatedCameraMount",
        "serial": "hardware.serial_camera_mount:SerialCameraMount",
    },
}


def create_driver(kind: str, config: Any) -> Any:
    try:
        target = DRIVERS[kind][config.type]
    except KeyError as exc:
        raise ConfigError(f"devices.{kind}.type: no driver {config.type!r}") from exc
    module_name, class_name = target.split(":")
    module = importlib.import_module(module_name)
    return getattr(module, class_name)(config)


@dataclass
class Devices:
    """The kiosk's devices. The four of the transaction are each bound to their own executor
    thread (``threads``): every driver call, opening and closing included, runs there. The
    speaker is played by the prompter's own worker and interrupted from any thread, by design
    (``hardware.speaker``); a transaction never waits on it."""

    chip_reader: ChipReader
    mrz_reader: MrzReader
    camera: Camera
    gate: Gate
    speaker: Speaker = field(default_factory=SimulatedSpeaker)
    camera_mount: CameraMount = field(default_factory=FixedCameraMount)
    threads: DeviceThreads = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.threads = DeviceThreads.bind(self)

    @classmethod
    def from_config(cls, config: DevicesConfig) -> Devices:
        camera = create_driver("camera", config.camera)
        mount = create_driver("camera_mount", config.camera_mount)
        attach = getattr(mount, "attach", None)  # a simulated mount moves a simulated view
        if callable(attach) and hasattr(camera, "set_tilt"):
            attach(camera)
        return cls(
            chip_reader=create_driver("chip_reader", config.chip_reader),
            mrz_reader=create_driver("mrz_reader", config.mrz_reader),
            camera=camera,
            gate=create_driver("gate", config.gate),
            speaker=create_driver("speaker", config.speaker),
            camera_mount=mount,
        )

    def open(self) -> None:
        """Open every device; a device that fails is closed again with the others."""
        self.threads.start()
        t = self.threads
        opened: list[tuple[Any, Any]] = []
        try:
            for executor, opener, closer in (
                (t.gate, self.gate.open, self.gate.close),
                (t.chip_reader, self.chip_reader.open, self.chip_reader.close),
                (t.mrz_reader, self.mrz_reader.open, self.mrz_reader.close),
                (t.camera, self.camera.start, self.camera.stop),
            ):
                executor.call(opener)
                opened.append((executor, closer))
            self._open_mount()
        except Exception:
            for executor, closer in reversed(opened):
                executor.call(closer)
            self.threads.close()
            raise

    def _open_mount(self) -> None:
        """A mount that fails to open is degraded: the camera stays where it is."""
        try:
            self.threads.camera_mount.call(self.camera_mount.open, timeout_s=10.0)
        except Exception as exc:
            log.warning("camera mount not opened: %s", getattr(exc, "code", type(exc).__name__))

    def close(self) -> None:
        try:
            self.speaker.close()
        except Exception:  # closing must go on
            pass
        self.threads.start()  # closing devices that were never opened is allowed too
        t = self.threads
        for executor, closer in (
            (t.camera_mount, self.camera_mount.close),
            (t.camera, self.camera.stop),
            (t.mrz_reader, self.mrz_reader.close),
            (t.chip_reader, self.chip_reader.close),
        ):
            try:
                executor.call(closer, timeout_s=10.0)
            except Exception:  # closing must go on; the gate is closed last, fail-secure
                pass
        try:
            t.gate.call(self.gate.close, timeout_s=10.0)
        finally:
            self.threads.close()
