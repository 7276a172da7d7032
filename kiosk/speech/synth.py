"""Offline speech synthesis with Debian's ``espeak-ng``, cached on disk.

Each (voice, rate, amplitude, text) is rendered once into a WAV file whose name is the hash
of those four and of the engine's version, so the kiosk speaks the same prompt from the cache
every time after the first. The prompts are screen texts, never personal data; the cache holds
nothing else. ``prefetch`` renders a whole catalogue ahead of use (at start, off the GUI thread).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from hardware.speaker import wave_info
from models.errors import KioskError

log = logging.getLogger(__name__)

# The catalogue's languages and the espeak-ng voice of each.
DEFAULT_VOICES: dict[str, str] = {"en": "en-gb", "fr": "fr-fr", "es": "es", "nl": "nl"}
MAX_TEXT = 600


class SpeechUnavailable(KioskError):
    """The speech engine is missing or failed; the gate goes on without sound."""

    code = "speech_unavailable"


class EspeakSynthesizer:
    def __init__(
        self,
        cache_dir: Path,
        *,
        voices: dict[str, str] | None = None,
        words_per_minute: int = 150,
        amplitude: int = 100,
        command: str = "espeak-ng",
        timeout_s: float = 20.0,
    ) -> None:
        self.cache_dir = cache_dir
        self.voices = dict(DEFAULT_VOICES if voices is None else voices)
        self.words_per_minute = words_per_minute
        self.amplitude = amplitude
        self.command = command
        self.timeout_s = timeout_s
        self._version: str | None = None

    def available(self) -> bool:
        return shutil.which(self.command) is not None

    def version(self) -> str:
        if self._version is None:
            out = self._run([self.command, "--version"]).stdout
            self._version = out.decode("utf-8", "replace").strip().split("  Data")[0]
        return self._version

    def voice(self, language: str) -> str:
        try:
            return self.voices[language]
        except KeyError as exc:
            raise SpeechUnavailable(f"no voice for language {language!r}") from exc

    def cache_path(self, language: str, text: str) -> Path:
        key = "\x1f".join(
            (
                self.version(),
                self.voice(language),
                str(self.words_per_minute),
                str(self.amplitude),
                text,
            )
        )
        return self.cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()}.wav"

    def render(self, language: str, text: str) -> bytes:
        """The prompt as a WAV file (from the cache when rendered before)."""
        text = " ".join(text.split())
        if not text or len(text) > MAX_TEXT:
            raise SpeechUnavailable("prompt text empty or too long")
        path = self.cache_path(language, text)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(suffix=".wav", dir=self.cache_dir)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            self._run(
                [
                    self.command,
                    "-v",
                    self.voice(language),
                    "-s",
                    str(self.words_per_minute),
                    "-a",
                    str(self.amplitude),
                    "-w",
                    str(tmp),
                    "--",
                    text,
                ]
            )
            data = tmp.read_bytes()
            wave_info(data)  # a broken engine output is an error here, not at the speaker
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return data

    def prefetch(self, prompts: Iterable[tuple[str, str]]) -> int:
        """Render every (language, text) not yet cached; the number rendered."""
        rendered = 0
        for language, text in prompts:
            if not self.cache_path(language, " ".join(text.split())).exists():
                self.render(language, text)
                rendered += 1
        return rendered

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[bytes]:
        try:
            result = subprocess.run(argv, capture_output=True, timeout=self.timeout_s, check=False)
        except FileNotFoundError as exc:
            raise SpeechUnavailable(f"{self.command} is not installed") from exc
        except subprocess.TimeoutExpired as exc:
            raise SpeechUnavailable(f"{self.command} did not finish") from exc
        if result.returncode != 0:
            raise SpeechUnavailable(f"{self.command} exited {result.returncode}")
        return result
