"""Configuration models of the device drivers, one per driver, chosen by ``type``.

Each model forbids unknown keys so that a typo in the kiosk's TOML file is an error and not a
silently ignored setting. The defaults run the whole kiosk on simulated devices.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


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
    """A PC/SC reader through pcscd (pyscard)."""

    type: Literal["pcsc"] = "pcsc"
    # Case-insensitive part of the reader name ("Virtual PCD", "ACR1252"); "" = first reader.
    reader_pattern: str = ""
    # SCARD_SHARE_EXCLUSIVE: no other application may talk to the chip while we read it.
    exclusive: bool = True
    # None = detect (reader's SCARD_ATTR_MAXINPUT, else known reader names).
    extended_length: bool | None = None
    # Protocols offered at connect; contactless chips (T=CL) appear as T=1 in PC/SC.
    protocols: tuple[Literal["T1", "T0"], ...] = Field(("T1",), min_length=1)
    # How long the monitor waits in one SCardGetStatusChange call (also its reaction time).
    poll_interval_s: float = Field(0.2, gt=0, le=10)
    # After a failed transmit, how long to wait for pcscd to report the card gone before the
    # failure counts as a reader fault. Only a failed transmit waits this long; 3 s leaves
    # room for a monitor thread starved on a loaded machine (1 s misread a pulled card there).
    removal_grace_s: float = Field(3.0, ge=0, le=10)


ChipReaderConfig = Annotated[
    SimulatedChipReaderConfig | PcscChipReaderConfig, Field(discriminator="type")
]


# --- MRZ reader --------------------------------------------------------------------------


class SimulatedMrzReaderConfig(_DeviceConfig):
    type: Literal["simulated"] = "simulated"
    documents: list[str] = Field(
        default_factory=list, description="MRZ texts presented in turn, lines joined by newlines"
    )
    present_delay_s: float = Field(0.0, ge=0, le=60, description="pause before each document")
    remove_after_s: float | None = Field(
        None, ge=0, le=3600, description="remove each document after this; None: wait for remove()"
    )
    loop: bool = False


class SerialMrzReaderConfig(_DeviceConfig):
    type: Literal["serial"] = "serial"
    port: str = "/dev/ttyUSB0"
    baud: int = Field(9600, gt=0)
    framing: Literal["crlf", "stx_etx"] = "crlf"
    reconnect_s: float = Field(2.0, gt=0, le=300)
    frame_gap_ms: int = Field(
        500, gt=0, le=10_000, description="a pause this long inside a frame discards it"
    )
    presence_timeout_s: float | None = Field(
        None, gt=0, le=3600, description="report the document removed this long after its scan"
    )
    degraded_after_discards: int = Field(
        3, ge=1, le=1000, description="garbage frames in a row that make the status degraded"
    )


class KeyboardWedgeMrzReaderConfig(_DeviceConfig):
    type: Literal["keyboard"] = "keyboard"
    inter_key_timeout_ms: int = Field(80, gt=0, le=5000)
    max_pending_keys: int = Field(4096, ge=256, le=65536)


MrzReaderConfig = Annotated[
    SimulatedMrzReaderConfig | SerialMrzReaderConfig | KeyboardWedgeMrzReaderConfig,
    Field(discriminator="type"),
]


# --- camera ------------------------------------------------------------------------------


SceneName = Literal[
    "traveller",
    "nobody",
    "two_people",
    "poor_light",
    "motion_blur",
    "printed_photo",
    "moved_photo",
    "screen_replay",
    "video",
]


class SimulatedCameraConfig(_DeviceConfig):
    """A camera that plays a scripted scene (see ``hardware.sim.scenes``)."""

    type: Literal["simulated"] = "simulated"
    scene: SceneName = "traveller"
    face_image: Path | None = Field(None, description="photo of the simulated traveller")
    second_face_image: Path | None = Field(None, description="second person (two_people)")
    video: Path | None = Field(None, description="video file played by the 'video' scene")
    fps: float = Field(15.0, gt=0, le=120)
    width: int = Field(640, ge=64, le=8192)
    height: int = Field(480, ge=64, le=8192)
    seed: int = 0


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
    transit_s: float = Field(0.0, ge=0, le=60, description="time a traveller takes to pass")
    auto_passage: bool = Field(
        True,
        description="a simulated traveller steps in when the entry opens, out when the exit does",
    )
    heartbeat_s: float = Field(1.0, gt=0, le=60)
    open_timeout_s: float = Field(15.0, gt=0, le=600)


class SerialGateConfig(_DeviceConfig):
    type: Literal["serial"] = "serial"
    port: str = "/dev/ttyUSB1"
    baud: int = Field(9600, gt=0)
    heartbeat_s: float = Field(1.0, gt=0, le=60)
    heartbeat_misses: int = Field(2, ge=1, le=100, description="missed PONGs that mean lost")
    command_timeout_s: float = Field(1.0, gt=0, le=30)
    open_timeout_s: float = Field(15.0, gt=0, le=600)
    watchdog_ms: int = Field(
        2500,
        ge=0,
        le=60_000,
        description="the board closes every door when no line from the host arrives for this "
        "long (WATCHDOG command; 0 leaves the board's watchdog off)",
    )

    @model_validator(mode="after")
    def _watchdog_outlasts_heartbeats(self) -> SerialGateConfig:
        if self.watchdog_ms and self.watchdog_ms < 2000 * self.heartbeat_s:
            raise ValueError("watchdog_ms must be at least two heartbeats (2000 * heartbeat_s)")
        return self


GateConfig = Annotated[SimulatedGateConfig | SerialGateConfig, Field(discriminator="type")]


# --- speaker -----------------------------------------------------------------------------


class SimulatedSpeakerConfig(_DeviceConfig):
    type: Literal["simulated"] = "simulated"
    realtime: bool = Field(False, description="take each prompt's length to 'play' it")


class AlsaSpeakerConfig(_DeviceConfig):
    """ALSA output through ``aplay`` (Debian's alsa-utils)."""

    type: Literal["alsa"] = "alsa"
    device: str = Field("default", min_length=1, description="ALSA PCM name, e.g. hw:0,0")
    command: str = Field("aplay", min_length=1)
    timeout_margin_s: float = Field(5.0, gt=0, le=60)


SpeakerConfig = Annotated[SimulatedSpeakerConfig | AlsaSpeakerConfig, Field(discriminator="type")]


class DevicesConfig(_DeviceConfig):
    chip_reader: ChipReaderConfig = Field(default_factory=SimulatedChipReaderConfig)
    mrz_reader: MrzReaderConfig = Field(default_factory=SimulatedMrzReaderConfig)
    camera: CameraConfig = Field(default_factory=SimulatedCameraConfig)
    gate: GateConfig = Field(default_factory=SimulatedGateConfig)
    speaker: SpeakerConfig = Field(default_factory=SimulatedSpeakerConfig)
