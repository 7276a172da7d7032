"""Device drivers by kind and ``type``: the explicit map the composition root uses.

Drivers are named as ``module:Class`` and imported only when configured, so a kiosk with
simulated devices never loads pyscard or pyserial, and a missing vendor library fails with
a clear error at start-up instead of at ``import kiosk``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from hardware.camera import Camera
from hardware.chip_reader import ChipReader
from hardware.config import DevicesConfig
from hardware.gate import Gate
from hardware.mrz_reader import MrzReader
from hardware.sim.speaker import SimulatedSpeaker
from hardware.speaker import Speaker
from kiosk.device_threads import DeviceThreads
from models.errors import ConfigError

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
    threads: DeviceThreads = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.threads = DeviceThreads.bind(self)

    @classmethod
    def from_config(cls, config: DevicesConfig) -> Devices:
        return cls(
            chip_reader=create_driver("chip_reader", config.chip_reader),
            mrz_reader=create_driver("mrz_reader", config.mrz_reader),
            camera=create_driver("camera", config.camera),
            gate=create_driver("gate", config.gate),
            speaker=create_driver("speaker", config.speaker),
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
        except Exception:
            for executor, closer in reversed(opened):
                executor.call(closer)
            self.threads.close()
            raise

    def close(self) -> None:
        try:
            self.speaker.close()
        except Exception:  # closing must go on
            pass
        self.threads.start()  # closing devices that were never opened is allowed too
        t = self.threads
        for executor, closer in (
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
