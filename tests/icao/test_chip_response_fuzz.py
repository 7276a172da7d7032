"""Fuzzing of chip responses: ``read_passport`` against a chip whose answers are garbage, or
the emulator's real answers mutated on the way. Only typed errors (``KioskError``) may come
out, never another exception or a hang, and whatever the read returns under secure
messaging is exactly what the chip holds (no unauthenticated byte gets through)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from hardware.sim.chip import PassportChip
from hardware.sim.chip_image import DG_FIDS, FID_EF_COM, FID_EF_SOD
from kiosk.icao.mrz import parse_mrz
from kiosk.icao.reader import PassportRead, read_passport
from models.errors import KioskError

MAX_APDUS = 5000  # far more than any honest read needs: beyond it the reader would be looping
TIME_LIMIT_S = 5.0
QUICK = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LONG = settings(QUICK, max_examples=400, derandomize=False)
PROFILES = ("lca-genuine", "lca-bac-only")  # PACE with AES, BAC with 3DES
FILE_NAMES = {FID_EF_COM: "EF_COM", FID_EF_SOD: "EF_SOD"} | {
    fid: f"DG{n}" for n, fid in DG_FIDS.items()
}


class ApduBudgetExceeded(Exception):
    """The reader kept sending commands: a hang in the making (not a KioskError)."""


@dataclass(frozen=True)
class Mutation:
    index: int  # which response (0 = the first APDU's)
    kind: str
    position: int
    payload: bytes

    def apply(self, response: bytes) -> bytes:
        size = len(response)
        if self.kind == "flip":
            if not size:
                return response
            at = self.position % size
            return (
                response[:at]
                + bytes([response[at] ^ (1 << (self.position % 8))])
                + response[at + 1 :]
            )
        if self.kind == "truncate":
            return response[: self.position % (size + 1)]
        if self.kind == "status":
            return response[:-2] + (self.payload + b"\x90\x00")[:2]
        if self.kind == "append":
            return response + self.payload
        if self.kind == "data_only":
            return response[-2:]
        return self.payload + response[-2:]  # "replace": other data, same status word


MUTATIONS = st.builds(
    Mutation,
    index=st.integers(0, 30),  # an honest read of these chips takes about 26 APDUs
    kind=st.sampled_from(
        ["flip", "flip", "flip", "truncate", "status", "append", "data_only", "replace"]
    ),
    position=st.integers(0, 1 << 16),
    payload=st.binary(max_size=40),
)
STATUS_WORDS = [b"\x90\x00", b"\x61\x10", b"\x6c\x08", b"\x62\x82", b"\x63\x00", b"\x69\x88"]
GARBAGE = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda body, sw: body + sw, st.binary(max_size=300), st.sampled_from(STATUS_WORDS)),
    st.sampled_from(STATUS_WORDS),
)


def _note(outcome: str) -> None:
    """Count outcomes in hypothesis's statistics (--hypothesis-show-statistics)."""
    if currently_in_test_context():
        event(outcome)


def _bounded(transmit: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    sent = 0
    started = time.monotonic()

    def guarded(apdu: bytes) -> bytes:
        nonlocal sent
        sent += 1
        if sent > MAX_APDUS or time.monotonic() - started > TIME_LIMIT_S:
            raise ApduBudgetExceeded(f"{sent} APDUs in {time.monotonic() - started:.1f} s")
        return transmit(apdu)

    return guarded


def _read(transmit: Callable[[bytes], bytes], mrz_info: str, seed: int) -> PassportRead | None:
    rng = random.Random(seed)
    try:
        return read_passport(
            _bounded(transmit),
            mrz_info=mrz_info,
            extended_length=True,
            max_response_bytes=65538,
            rng=rng.randbytes,
        )
    except KioskError as exc:
        _note(f"refused: {exc.code}")
        return None


@pytest.fixture(scope="module")
def chips(passports: Any) -> dict[str, tuple[Any, str]]:
    return {
        name: (passports.chip_image(name), parse_mrz(passports.printed_mrz(name)).mrz_information())
        for name in PROFILES
    }


def _mutated_read(
    chips: dict[str, tuple[Any, str]], profile: str, mutations: list[Mutation], seed: int
) -> None:
    image, mrz_info = chips[profile]
    chip = PassportChip(image, rng=random.Random(seed + 1).randbytes)
    chip.power_on()
    by_index = {m.index: m for m in mutations}
    answered = 0

    def transmit(apdu: bytes) -> bytes:
        nonlocal answered
        response = chip.transmit(apdu)
        mutation = by_index.get(answered)
        answered += 1
        return mutation.apply(response) if mutation else response

    read = _read(transmit, mrz_info, seed)
    if read is None:
        return
    _note(f"read by {read.access}")
    # THEN anything returned under secure messaging is the chip's own bytes
    truth = {FILE_NAMES[fid]: data for fid, data in image.application_files.items()}
    for name, data in read.files.items():
        if name != "EF_CardAccess":  # read in plain before access control, like any reader
            assert data == truth[name], f"{name} differs from the chip's file"


@QUICK
@given(
    profile=st.sampled_from(PROFILES),
    mutations=st.lists(MUTATIONS, min_size=1, max_size=3),
    seed=st.integers(0, 2**32 - 1),
)
def test_mutated_chip_responses_give_typed_errors_or_the_true_files(
    chips: dict[str, tuple[Any, str]], profile: str, mutations: list[Mutation], seed: int
) -> None:
    _mutated_read(chips, profile, mutations, seed)


@QUICK
@given(responses=st.lists(GARBAGE, max_size=40), seed=st.integers(0, 2**32 - 1))
def test_garbage_chip_responses_give_typed_errors(responses: list[bytes], seed: int) -> None:
    # GIVEN a "chip" answering the drawn bytes, then "file not found" for ever
    answers = iter(responses)

    def transmit(apdu: bytes) -> bytes:
        return next(answers, b"\x6a\x82")

    # WHEN a passport is read from it THEN only typed errors come out, in bounded time
    _read(transmit, "L898902C<369080619406236", seed)


@pytest.mark.slow
@LONG
@given(
    profile=st.sampled_from(PROFILES),
    mutations=st.lists(MUTATIONS, min_size=1, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_mutated_chip_responses_long(
    chips: dict[str, tuple[Any, str]], profile: str, mutations: list[Mutation], seed: int
) -> None:
    _mutated_read(chips, profile, mutations, seed)


@pytest.mark.slow
@LONG
@given(responses=st.lists(GARBAGE, max_size=60), seed=st.integers(0, 2**32 - 1))
def test_garbage_chip_responses_long(responses: list[bytes], seed: int) -> None:
    answers = iter(responses)

    def transmit(apdu: bytes) -> bytes:
        return next(answers, b"\x6a\x82")

    _read(transmit, "L898902C<369080619406236", seed)


def test_endless_plain_card_access_is_not_read_for_ever() -> None:
    # GIVEN a "chip" whose EF.CardAccess header claims 4 MB and that answers data to any read
    sent = 0

    def transmit(apdu: bytes) -> bytes:
        nonlocal sent
        sent += 1
        if apdu[1] == 0xB0 and apdu[2] & 0x80:  # READ BINARY by short EF identifier
            return b"\x31\x83\x40\x00\x00" + bytes(250) + b"\x90\x00"
        if apdu[1] == 0xB0:
            return bytes(255) + b"\x90\x00"
        return b"\x6a\x82"

    # WHEN a passport is read THEN the claim is refused at once and BAC is tried instead
    assert _read(transmit, "L898902C<369080619406236", 0) is None
    assert sent < 10
