"""The speaker device: plays the spoken prompts of the traveller screens.

The public methods do the shared work (WAV checks, muting, interruption) and call one driver
hook, ``_play``. A prompt is a complete WAV file (RIFF, PCM). :meth:`Speaker.play` blocks the
calling thread (the prompter's worker, never the GUI) until the sound has played or
:meth:`Speaker.stop` interrupts it. A speaker that fails is reported as degraded: a gate
without sound still works, so a failing speaker never closes the lane.

Drivers: ``alsa`` plays through ALSA's ``aplay`` (Debian's alsa-utils) on a configured PCM
device; ``simulated`` (``hardware.sim.speaker``) records what it was asked to play.
"""

from __future__ import annotations

import abc
import logging
import struct
import subprocess
import threading
from dataclasses import dataclass

from models.errors import DeviceError, ParseError

log = logging.getLogger(__name__)


class SpeakerError(DeviceError):
    """The speaker could not play a prompt."""

    code = "speaker_error"


class WaveFormatError(ParseError):
    """The bytes handed to the speaker are not a PCM WAV file."""

    code = "wave_invalid"


@dataclass(frozen=True)
class WaveInfo:
    channels: int
    sample_rate: int
    bits: int
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def wave_info(data: bytes) -> WaveInfo:
    """Read the format of a RIFF/WAVE PCM file, checking every length before using it."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WaveFormatError("not a RIFF/WAVE file")
    offset = 12
    fmt: tuple[int, int, int, int] | None = None
    while offset + 8 <= len(data):
        chunk_id = data[offset : offset + 4]
        (size,) = struct.unpack_from("<I", data, offset + 4)
        body = offset + 8
        if chunk_id == b"fmt ":
            if size < 16 or body + 16 > len(data):
                raise WaveFormatError("fmt chunk too short")
            audio_format, channels, rate, _byte_rate, _align, bits = struct.unpack_from(
                "<HHIIHH", data, body
            )
            if audio_format != 1 or channels < 1 or rate <= 0 or bits not in (8, 16, 24, 32):
                raise WaveFormatError("not linear PCM")
            fmt = (audio_format, channels, rate, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise WaveFormatError("data before fmt")
            available = min(size, len(data) - body)
            frame_bytes = fmt[1] * fmt[3] // 8
            return WaveInfo(fmt[1], fmt[2], fmt[3], available // frame_bytes)
        if size > len(data):
            break
        offset = body + size + (size & 1)
    raise WaveFormatError("no data chunk")


class Speaker(abc.ABC):
    """One speaker; thread-safe. ``muted`` drops prompts without touching the driver."""

    def __init__(self) -> None:
        self.muted = False
        self.failures = 0
        self._lock = threading.Lock()

    def open(self) -> None:  # noqa: B027 - optional hook
        """Prepare the device (drivers that need it override)."""

    def close(self) -> None:
        self.stop()

    @property
    def degraded(self) -> bool:
        return self.failures > 0

    def play(self, wav: bytes) -> bool:
        """Play one prompt to the end; False when muted, interrupted or failed (logged)."""
        info = wave_info(wav)
        if self.muted or info.frames == 0:
            return False
        try:
            finished = self._play(wav, info)
        except SpeakerError as exc:
            self.failures += 1
            if self.failures in (1, 10, 100) or self.failures % 1000 == 0:
                log.warning("speaker failed (%d so far): %s", self.failures, exc.code)
            return False
        self.failures = 0
        return finished

    def stop(self) -> None:
        """Interrupt the prompt that is playing, if any (from any thread)."""
        self._stop()

    @abc.abstractmethod
    def _play(self, wav: bytes, info: WaveInfo) -> bool:
        """Play ``wav``; True when it played to the end, False when stopped."""

    @abc.abstractmethod
    def _stop(self) -> None: ...


class AlsaSpeaker(Speaker):
    """Plays through ALSA's ``aplay`` on the configured PCM device."""

    def __init__(self, config: object) -> None:
        super().__init__()
        self.device: str = getattr(config, "device", "default")
        self.command: str = getattr(config, "command", "aplay")
        self.timeout_margin_s: float = getattr(config, "timeout_margin_s", 5.0)
        self._process: subprocess.Popen[bytes] | None = None
        self._stopped = threading.Event()

    def _play(self, wav: bytes, info: WaveInfo) -> bool:
        self._stopped.clear()
        try:
            process = subprocess.Popen(
                [self.command, "-q", "-D", self.device, "-"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise SpeakerError(f"cannot start {self.command}: {exc.strerror}") from exc
        with self._lock:
            self._process = process
        try:
            _out, err = process.communicate(wav, timeout=info.duration_s + self.timeout_margin_s)
        except subprocess.TimeoutExpired as exc:
            process.kill()
            process.communicate()
            raise SpeakerError("the player did not finish") from exc
        finally:
            with self._lock:
                self._process = None
        if self._stopped.is_set():
            return False
        if process.returncode != 0:
            first = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            raise SpeakerError(f"{self.command} exited {process.returncode}: {first[0][:120]}")
        return True

    def _stop(self) -> None:
        self._stopped.set()
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
