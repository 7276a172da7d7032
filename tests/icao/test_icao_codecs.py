"""BER-TLV and APDU codecs, status words, and the channel's 61xx / 6Cxx handling."""

from __future__ import annotations

import tracemalloc

import pytest

from kiosk.icao import tlv
from kiosk.icao.apdu import CommandApdu, ResponseApdu, status_error
from kiosk.icao.errors import (
    ApduFormatError,
    ChipFileNotFoundError,
    OffsetOutOfRangeError,
    SecurityStatusNotSatisfiedError,
    SmDataObjectsError,
    TlvError,
    VerificationFailedError,
    WrongLengthError,
)
from kiosk.icao.transport import ApduChannel

H = bytes.fromhex


def test_tlv_multibyte_tags_and_long_lengths_round_trip() -> None:
    value = bytes(300)
    encoded = tlv.encode(0x5F1F, value)
    assert encoded[:5] == H("5F1F82012C")
    item = tlv.decode_one(encoded)
    assert (item.tag, item.value) == (0x5F1F, value)
    nested = tlv.encode_constructed(0x7F61, tlv.encode(0x02, b"\x01"), tlv.encode(0x5F2E, b"ab"))
    assert [c.tag for c in tlv.decode_one(nested).children()] == [0x02, 0x5F2E]


def test_tlv_length_claiming_two_gigabytes_fails_at_once() -> None:
    # "at once": nothing near the claimed size is allocated or read (memory, not a clock)
    tracemalloc.start()
    try:
        with pytest.raises(TlvError, match="exceeds"):
            tlv.decode_one(H("7584800000000102"))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "5F",
        "5F1F",
        "5F1F81",
        "01",
        "FF00",
        "7580",
        "75850100000000",
        "7502AA",
        "9F8181818101AA",
    ],
)
def test_tlv_malformed_inputs_raise_tlv_error(raw: str) -> None:
    with pytest.raises(TlvError):
        tlv.decode_one(H(raw))


@pytest.mark.parametrize(
    ("apdu", "expected"),
    [
        (CommandApdu(0, 0xB0, 0, 0, le=256), "00B0000000"),
        (CommandApdu(0, 0xB0, 0, 0, le=4096), "00B00000001000"),
        (CommandApdu(0, 0xB0, 0, 0, le=65536), "00B00000000000"),
        (CommandApdu(0, 0xA4, 2, 0x0C, H("011E")), "00A4020C02011E"),
        (
            CommandApdu(0, 0x86, 0, 0, bytes(300), le=65536),
            "00860000" + "00012C" + "00" * 300 + "0000",
        ),
    ],
)
def test_command_apdu_encoding_round_trips(apdu: CommandApdu, expected: str) -> None:
    assert apdu.to_bytes().hex().upper() == expected
    parsed = CommandApdu.parse(apdu.to_bytes())
    assert (parsed.data, parsed.le, parsed.extended) == (apdu.data, apdu.le, apdu.extended)


@pytest.mark.parametrize("raw", ["00", "00A402", "00A4020C05011E", "00A4020C00000301"])
def test_malformed_command_apdus(raw: str) -> None:
    with pytest.raises(ApduFormatError):
        CommandApdu.parse(H(raw))


@pytest.mark.parametrize(
    ("sw", "error"),
    [
        (0x6300, VerificationFailedError),
        (0x63C2, VerificationFailedError),
        (0x6700, WrongLengthError),
        (0x6C10, WrongLengthError),
        (0x6982, SecurityStatusNotSatisfiedError),
        (0x6988, SmDataObjectsError),
        (0x6A82, ChipFileNotFoundError),
        (0x6B00, OffsetOutOfRangeError),
    ],
)
def test_status_words_map_to_typed_errors(sw: int, error: type) -> None:
    assert isinstance(status_error(sw), error)
    with pytest.raises(error):
        ResponseApdu(b"", sw).check()
    assert VerificationFailedError(sw=0x63C2).retries_left == 2


def test_response_parse_rejects_short_and_invalid() -> None:
    for raw in ["", "90", "1234"]:
        with pytest.raises(ApduFormatError):
            ResponseApdu.parse(H(raw))


def test_channel_follows_61xx_and_6cxx() -> None:
    sent: list[str] = []
    answers = iter(["6C04", "AABBCCDD6102", "EEFF9000"])

    def transmit(apdu: bytes) -> bytes:
        sent.append(apdu.hex().upper())
        return H(next(answers))

    response = ApduChannel(transmit).send(CommandApdu(0, 0xB0, 0, 0, le=256))
    assert sent == ["00B0000000", "00B0000004", "00C0000002"]
    assert response == ResponseApdu(H("AABBCCDDEEFF"), 0x9000)
