"""Fuzzing every LDS parser: bad input gives LdsParseError and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.icao.lds import (
    LdsParseError,
    parse_card_access,
    parse_card_security,
    parse_com,
    parse_data_group,
    parse_dg1,
    parse_dg2,
    parse_dg7,
    parse_dg11,
    parse_dg12,
    parse_dg14,
    parse_dg15,
    parse_public_key_info,
    parse_sod,
)
from kiosk.icao.lds.face_iso19794 import parse_iso19794_face_record
from kiosk.icao.lds.face_iso39794 import parse_iso39794_face_record

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "biometrics"
PARSERS: dict[str, Callable[[bytes], Any]] = {
    "com": parse_com,
    "sod": parse_sod,
    "dg1": parse_dg1,
    "dg2": parse_dg2,
    "dg7": parse_dg7,
    "dg11": parse_dg11,
    "dg12": parse_dg12,
    "dg14": parse_dg14,
    "dg15": parse_dg15,
    "dg3": lambda b: parse_data_group(3, b),
    "card_access": parse_card_access,
    "card_security": parse_card_security,
    "spki": parse_public_key_info,
    "iso19794": parse_iso19794_face_record,
    "iso39794": parse_iso39794_face_record,
}
SEEDS = [
    (SAMPLES / "dg2_silver_all_fields.bin").read_bytes()[:600],
    (SAMPLES / "ISO19794_Test1_Data.bin").read_bytes()[:400],
    (SAMPLES / "efcardsecurity.dump").read_bytes(),
    (SAMPLES / "spec_sample_encoded_dg14.bin").read_bytes(),
]


def _only_typed_errors(parser: Callable[[bytes], Any], data: bytes) -> None:
    try:
        parser(data)
    except LdsParseError:
        pass


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    seed = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(seed) - 1))
        seed[pos] = draw(st.integers(0, 255))
    cut = draw(st.integers(1, len(seed)))
    return bytes(seed[:cut])


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300))
def test_random_bytes(name: str, data: bytes) -> None:
    _only_typed_errors(PARSERS[name], data)


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated())
def test_mutated_samples(name: str, data: bytes) -> None:
    # the tag of the file is put in front, so the parsers get past the first check
    _only_typed_errors(PARSERS[name], data)
    _only_typed_errors(PARSERS[name], data[1:])


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated())
def test_mutated_samples_long(name: str, data: bytes) -> None:
    _only_typed_errors(PARSERS[name], data)
