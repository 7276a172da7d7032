"""GIVEN WAV prompts WHEN the speaker drivers play them THEN malformed files are refused with
a typed error, ALSA's aplay plays them for real (on the null PCM, no sound card needed), a
stop interrupts a long prompt, and a missing player degrades the speaker without raising."""

from __future__ import annotations

import io
import shutil
import struct
import threading
import wave
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.config import AlsaSpeakerConfig, SimulatedSpeakerConfig
from hardware.sim.speaker import SimulatedSpeaker
from hardware.speaker import AlsaSpeaker, WaveFormatError, wave_info
from kiosk.devices import DRIVERS, create_driver


def silence(seconds: float, rate: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(seconds * rate))
    return buffer.getvalue()


def test_wave_info_reads_the_format_and_length() -> None:
    info = wave_info(silence(0.5))
    assert (info.channels, info.sample_rate, info.bits) == (1, 16_000, 16)
    assert info.frames == 8_000 and info.duration_s == pytest.approx(0.5)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"RIFF",
        b"RIFF\0\0\0\0WAVE",
        b"RIFF\x24\0\0\0WAVEdata\0\0\0\0",  # data before fmt
        silence(0.1).replace(b"\x01\x00\x01\x00", b"\x03\x00\x01\x00", 1),  # float, not PCM
        b"ID3\x03" + bytes(100),  # an MP3, not a WAV
    ],
)
def test_malformed_prompts_are_refused(data: bytes) -> None:
    with pytest.raises(WaveFormatError):
        wave_info(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_wave_parser_fuzz_only_typed_errors(tail: bytes) -> None:
    for data in (tail, b"RIFF" + tail, b"RIFF\0\0\0\0WAVE" + tail, silence(0.01)[:44] + tail):
        try:
            wave_info(data)
        except WaveFormatError:
            pass


def test_every_speaker_type_resolves_to_a_driver() -> None:
    assert set(DRIVERS["speaker"]) == {"simulated", "alsa"}
    assert isinstance(create_driver("speaker", SimulatedSpeakerConfig()), SimulatedSpeaker)
    assert isinstance(create_driver("speaker", AlsaSpeakerConfig()), AlsaSpeaker)


def test_muted_speaker_plays_nothing() -> None:
    speaker = SimulatedSpeaker()
    speaker.muted = True
    assert speaker.play(silence(0.1)) is False
    assert speaker.played == []


needs_aplay = pytest.mark.skipif(shutil.which("aplay") is None, reason="alsa-utils missing")


@needs_aplay
def test_aplay_plays_a_prompt_on_the_null_device() -> None:
    speaker = AlsaSpeaker(AlsaSpeakerConfig(device="null"))
    assert speaker.play(silence(0.2)) is True
    assert not speaker.degraded


def test_stop_interrupts_a_long_prompt(tmp_path: Path) -> None:
    # GIVEN a player that takes the prompt and then plays for ever (ALSA's null device does
    # not pace playback, so a stand-in player paces it)
    player_script = tmp_path / "slow-player"
    player_script.write_text("#!/bin/sh\ncat > /dev/null\nexec sleep 600\n")
    player_script.chmod(0o755)
    speaker = AlsaSpeaker(AlsaSpeakerConfig(command=str(player_script)))
    result: list[bool] = []
    player = threading.Thread(target=lambda: result.append(speaker.play(silence(1.0))))
    player.start()
    # WHEN it is stopped once the player runs
    while speaker._process is None and player.is_alive():
        threading.Event().wait(0.01)
    speaker.stop()
    player.join(30.0)
    # THEN play returns, reporting that it did not finish, and the speaker is not degraded
    assert not player.is_alive() and result == [False]
    assert not speaker.degraded


def test_the_simulated_speaker_is_interruptible_in_real_time() -> None:
    speaker = SimulatedSpeaker(SimulatedSpeakerConfig(realtime=True))
    result: list[bool] = []
    player = threading.Thread(target=lambda: result.append(speaker.play(silence(60.0))))
    player.start()
    speaker.stop()  # may come before play starts: then play runs to its end, so repeat
    while player.is_alive():
        speaker.stop()
        player.join(0.05)
    assert len(speaker.played) == 1


def test_a_missing_player_degrades_the_speaker_instead_of_raising() -> None:
    speaker = AlsaSpeaker(AlsaSpeakerConfig(command="/nonexistent/aplay"))
    assert speaker.play(silence(0.1)) is False
    assert speaker.degraded
    assert speaker.failures == 1


@needs_aplay
def test_a_missing_sound_card_is_a_failure_not_a_crash() -> None:
    speaker = AlsaSpeaker(AlsaSpeakerConfig(device="hw:99,0"))
    assert speaker.play(silence(0.1)) is False
    assert speaker.degraded


def test_header_lengths_larger_than_the_file_are_bounded() -> None:
    data = bytearray(silence(0.1))
    struct.pack_into("<I", data, 40, 0x7FFFFFFF)  # data chunk claims 2 GB (espeak --stdout)
    assert wave_info(bytes(data)).frames == 1_600
