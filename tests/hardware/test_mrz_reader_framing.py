"""MRZ framing: which bytes make a frame, and that garbage never does harm."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.mrz_framing import (
    MAX_FRAME_BYTES,
    LineFramer,
    MrzLineAssembler,
    StxEtxFramer,
    frame_from_lines,
)

TD3 = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6")


def crlf(frame: tuple[str, ...], end: str = "\r\n") -> bytes:
    return "".join(line + end for line in frame).encode()


def stx(frame: tuple[str, ...]) -> bytes:
    return b"\x02" + "\r".join(frame).encode() + b"\x03"


@pytest.mark.parametrize("frame", [TD1, TD2, TD3], ids=["TD1", "TD2", "TD3"])
@pytest.mark.parametrize("end", ["\r\n", "\n", "\r"], ids=["crlf", "lf", "cr"])
def test_line_framer_finds_each_format_with_each_line_ending(
    frame: tuple[str, ...], end: str
) -> None:
    # GIVEN a framer WHEN a whole MRZ arrives in one go THEN it is one frame, lines intact
    assert LineFramer().feed(crlf(frame, end)) == [frame]


def test_line_framer_joins_a_frame_split_across_reads_even_between_cr_and_lf() -> None:
    framer = LineFramer()
    data = crlf(TD3)
    cut = data.index(b"\n")  # between the CR and the LF of the first line
    # WHEN the bytes come in two reads split inside CR LF
    assert framer.feed(data[:cut]) == []
    # THEN the frame still completes
    assert framer.feed(data[cut:]) == [TD3]


def test_line_framer_discards_noise_and_a_partial_frame_ended_by_a_blank_line() -> None:
    framer = LineFramer()
    # GIVEN noise, then the first line of a TD3 and a blank line (the frame ended early)
    junk = b"\x00\xff\xfegarbage\r\n" + crlf(TD3[:1]) + b"\r\n"
    # WHEN a good TD1 follows THEN only the TD1 is a frame
    assert framer.feed(junk + crlf(TD1)) == [TD1]
    assert framer.discards.total == 2
    assert framer.discards.consecutive == 0


def test_line_framer_restarts_when_a_line_of_another_format_arrives() -> None:
    # GIVEN one TD1 line, then a whole TD3: the TD1 fragment is dropped, the TD3 kept
    assert LineFramer().feed(crlf(TD1[:1]) + crlf(TD3)) == [TD3]


def test_line_framer_drop_partial_forgets_half_a_line() -> None:
    framer = LineFramer()
    framer.feed(TD3[0][:20].encode())
    assert framer.pending
    # WHEN the reader paused (the driver calls drop_partial) THEN the next frame is clean
    framer.drop_partial()
    assert not framer.pending
    assert framer.feed(crlf(TD3)) == [TD3]


def test_line_framer_keeps_overlong_lines_bounded() -> None:
    framer = LineFramer()
    framer.feed(b"A" * 1_000_000)
    assert len(framer._line) <= 64
    assert framer.feed(b"\r\n" + crlf(TD2)) == [TD2]


def test_stx_etx_framer_ignores_noise_outside_frames_and_a_bcc_after_etx() -> None:
    framer = StxEtxFramer()
    frames = framer.feed(b"noise\x7f" + stx(TD3) + b"\x5a" + stx(TD1))
    assert frames == [TD3, TD1]


def test_stx_etx_framer_discards_a_frame_cut_by_a_new_stx() -> None:
    framer = StxEtxFramer()
    # GIVEN a frame whose ETX never came, then a whole frame
    frames = framer.feed(b"\x02" + TD3[0].encode() + b"\r" + stx(TD2))
    assert frames == [TD2]
    assert framer.discards.total == 1


@pytest.mark.parametrize(
    "body",
    [
        TD3[:1],  # one line of two
        (TD3[0], TD3[1][:-1]),  # a short line
        (TD1[0], TD1[1]),  # two lines of three
        TD3 + TD3,  # two documents in one frame
        (TD3[0], TD3[1].lower()),  # not MRZ characters
    ],
)
def test_stx_etx_framer_rejects_frames_that_are_not_exactly_one_mrz(
    body: tuple[str, ...],
) -> None:
    framer = StxEtxFramer()
    assert framer.feed(stx(body)) == []
    assert framer.discards.total == 1


def test_stx_etx_framer_drops_a_frame_longer_than_any_mrz() -> None:
    framer = StxEtxFramer()
    assert framer.feed(b"\x02" + b"<" * (MAX_FRAME_BYTES * 10) + b"\x03") == []
    assert framer._frame is None or len(framer._frame) <= MAX_FRAME_BYTES
    assert framer.feed(stx(TD1)) == [TD1]


def test_frame_from_lines_accepts_only_whole_frames() -> None:
    assert frame_from_lines(["", *TD1, " "]) == TD1
    assert frame_from_lines(TD1[:2]) is None
    assert frame_from_lines([TD3[0], TD2[1]]) is None
    assert frame_from_lines([]) is None


def test_assembler_counts_consecutive_discards_until_a_good_frame() -> None:
    assembler = MrzLineAssembler()
    for _ in range(3):
        assert assembler.add_line("HELLO") is None
    assert assembler.discards.consecutive == 3
    assert assembler.add_line(TD2[0]) is None
    assert assembler.add_line(TD2[1]) == TD2
    assert (assembler.discards.total, assembler.discards.consecutive) == (3, 0)


@settings(max_examples=200, deadline=None)
@given(noise=st.binary(max_size=600))
def test_line_framer_recovers_after_any_noise(noise: bytes) -> None:
    # GIVEN any bytes at all WHEN a blank line and a good frame follow THEN that frame is found
    framer = LineFramer()
    framer.feed(noise)
    assert framer.feed(b"\r\n\r\n" + crlf(TD3))[-1] == TD3


@settings(max_examples=200, deadline=None)
@given(noise=st.binary(max_size=600))
def test_stx_etx_framer_recovers_after_any_noise(noise: bytes) -> None:
    framer = StxEtxFramer()
    framer.feed(noise)
    assert framer.feed(stx(TD1))[-1] == TD1
