"""Fuzzing the parsers the red-team fixes added: ATR historical bytes, EF.ATR/INFO, the chip
photo's declared dimensions and the PACE-CAM data. Whatever the bytes, a typed answer."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.face.chip_photo import check_chip_photo, declared_size
from kiosk.face.images import ImageRejected
from kiosk.icao.errors import AuthenticationError
from kiosk.icao.extended_length import (
    atr_declares_extended_length,
    historical_bytes,
    parse_extended_length_info,
)
from kiosk.icao.pace.mappings import decrypt_chip_authentication_data

JPEG = b"\xff\xd8\xff"
JP2 = b"\x00\x00\x00\x0cjP  \r\n\x87\n"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_atr_parsing_never_raises(atr: bytes) -> None:
    assert isinstance(atr_declares_extended_length(atr), bool)
    assert len(historical_bytes(atr)) <= 15


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_ef_atr_info_parsing_never_raises(data: bytes) -> None:
    result = parse_extended_length_info(data)
    assert result is None or result > 256


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([b"", JPEG, JP2, b"\xff\x4f\xff\x51"]), st.binary(max_size=200))
def test_chip_photo_header_parsing_never_raises(prefix: bytes, body: bytes) -> None:
    data = prefix + body
    kind, size = declared_size(data)
    assert kind in ("jpeg", "jpeg2000", "unknown")
    assert size is None or all(v >= 0 for v in size)
    refused = check_chip_photo(data)
    assert refused is None or isinstance(refused, ImageRejected)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.binary(max_size=80))
def test_chip_authentication_data_is_refused_typed(key: bytes, data: bytes) -> None:
    try:
        value = decrypt_chip_authentication_data(key, data)
    except AuthenticationError:
        return
    assert value >= 0
