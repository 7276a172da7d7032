"""Hostile input: the parser answers with a result or a typed error, never anything else."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.icao.mrz import MrzError, MrzResult, MrzUnreadableError, parse_mrz

MRZ_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
SHAPES = [(3, 30), (2, 36), (2, 44)]


def _parse(data: str | bytes, strict: bool) -> MrzResult | None:
    try:
        return parse_mrz(data, strict=strict, today=dt.date(2025, 6, 1))
    except MrzError:
        return None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=12_000), st.booleans())
def test_random_bytes_give_a_result_or_a_typed_error(data: bytes, strict: bool) -> None:
    result = _parse(data, strict)
    if result is not None:
        result.as_dict()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=500), st.booleans())
def test_random_text_give_a_result_or_a_typed_error(text: str, strict: bool) -> None:
    _parse(text, strict)


@st.composite
def shaped_lines(draw: st.DrawFn) -> str:
    count, length = draw(st.sampled_from(SHAPES))
    chars = st.sampled_from(MRZ_CHARS + "OISBZG" * 3 + "a#é ")
    lines = ["".join(draw(st.lists(chars, min_size=length, max_size=length))) for _ in range(count)]
    return "\n".join(lines)


@settings(max_examples=300, deadline=None)
@given(shaped_lines(), st.booleans())
def test_mrz_shaped_garbage_is_parsed_without_crashing(text: str, strict: bool) -> None:
    result = _parse(text, strict)
    if result is None:
        return
    report = result.as_dict()
    # valid only when there are no errors and every check passes
    assert report["valid"] == (not report["errors"] and all(report["checks"].values()))
    if result.valid:
        result.mrz_information()


def test_oversized_input_is_refused_before_work() -> None:
    with pytest.raises(MrzUnreadableError):
        parse_mrz("P" * (10 * 1024 + 1))
