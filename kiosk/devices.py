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
    chip_reader: ChipReader
    mrz_reader: MrzReader
    camera: Camera
    gate: Gate
    speaker: Speaker = field(default_factory=SimulatedSpeaker)

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
        opened: list[Any] = []
        try:
            for opener, closer in (
                (self.gate.open, self.gate.close),
                (self.chip_reader.open, self.chip_reader.close),
                (self.mrz_reader.open, self.mrz_reader.close),
                (self.camera.start, self.camera.stop),
            ):
                opener()
                opened.append(closer)
        except Exception:
            for closer in reversed(opened):
                closer()
            raise

    def close(self) -> None:
        closers = (self.speaker.close, self.camera.stop, self.mrz_reader.close)
        for closer in (*closers, self.chip_reader.close):
            try:
                closer()
            except Exception:  # closing must go on; the gate is closed last, fail-secure
                pass
        self.gate.close()
