"""Configuration models of the device drivers, one per driver, chosen by ``type``.

Each model forbids unknown keys so that a typo in the kiosk's TOML file is an error and not a
silently ignored setting. The defaults run the whole kiosk on simulated devices.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _DeviceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- chip reader -------------------------------------------------------------------------


class SimulatedChipReaderConfig(_DeviceConfig):
    type: Literal["simulated"] = "simulated"
    profile: str = "LCA-genuine"
    apdu_delay_ms: float = Field(0.0, ge=0, le=1000)
    bit_rate_kbps: int | None = Field(None, ge=106, le=848)
    extended_length: bool = True


class PcscChipReaderConfig(_DeviceConfig):
    type: Literal["pcsc"] = "pcsc"
    reader_pattern: str = ""
    exclusive: bool = True
    extended_length: bool | None = None
    poll_interval_s: float = Field(0.2, gt=0, le=10)


ChipReaderConfig = Annotated[
    SimulatedChipReaderConfig | PcscChipReaderConfig, Field(discriminator="type")
]


# --- MRZ reader --------------------------------------------------------------------------


class SimulatedMrzReaderConfig(_DeviceConfig):
    type: Literal["simulated"] = "simulated"
    documents: list[str] = Field(default_factory=list)
    present_delay_s: float = Field(0.0, ge=0, le=60)


class SerialMrzReaderConfig(_DeviceConfig):
    type: Literal["serial"] = "serial"
    port: str = "/dev/ttyUSB0"
    baud: int = Field(9600, gt=0)
    framing: Literal["crlf", "stx_etx"] = "crlf"
    reconnect_s: float = Field(2.0, gt=0, le=300)


class KeyboardWedgeMrzReaderConfig(_DeviceConfig):
    type: Literal["keyboard"] = "keyboard"
    inter_key_timeout_ms: int = Field(80, gt=0, le=5000)


MrzReaderConfig = Annotated[
    SimulatedMrzReaderConfig | SerialMrzReaderConfig | KeyboardWedgeMrzReaderConfig,
    Field(discriminator="type"),
]


# --- camera ------------------------------------------------------------------------------


class SimulatedCameraConfig(_DeviceConfig):
    type: Literal["simulated"] = "simulated"
    scene: str = "traveller"
    fps: float = Field(15.0, gt=0, le=120)
    width: int = Field(640, ge=64, le=8192)
    height: int = Field(480, ge=64, le=8192)


class OpenCvCameraConfig(_DeviceConfig):
    type: Literal["opencv"] = "opencv"
    source: int | str = 0
    width: int = Field(1280, ge=64, le=8192)
    height: int = Field(720, ge=64, le=8192)
    fps: float = Field(30.0, gt=0, le=240)
    reconnect_s: float = Field(2.0, gt=0, le=300)


CameraConfig = Annotated[SimulatedCameraConfig | OpenCvCameraConfig, Field(discriminator="type")]


# --- gate --------------------------------------------------------------------------------


class SimulatedGateConfig(_DeviceConfig):
    type: Literal["simulated"] = "simulated"
    transit_s: float = Field(0.0, ge=0, le=60)


class SerialGateConfig(_DeviceConfig):
    type: Literal["serial"] = "serial"
    port: str = "/dev/ttyUSB1"
    baud: int = Field(9600, gt=0)
    heartbeat_s: float = Field(1.0, gt=0, le=60)
    open_timeout_s: float = Field(15.0, gt=0, le=600)


GateConfig = Annotated[SimulatedGateConfig | SerialGateConfig, Field(discriminator="type")]


class DevicesConfig(_DeviceConfig):
    chip_reader: ChipReaderConfig = Field(default_factory=SimulatedChipReaderConfig)
    mrz_reader: MrzReaderConfig = Field(default_factory=SimulatedMrzReaderConfig)
    camera: CameraConfig = Field(default_factory=SimulatedCameraConfig)
    gate: GateConfig = Field(default_factory=SimulatedGateConfig)
