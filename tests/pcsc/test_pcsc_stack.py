"""pyscard -> pcscd -> vpcd -> our card: the real PC/SC path, end to end."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from hardware.chip_reader import (
    CardEvent,
    CardRemovedError,
    ChipReaderError,
    NoCardError,
    ReaderServiceUnavailableError,
    ReaderUnavailableError,
)
from hardware.config import PcscChipReaderConfig
from hardware.pcsc import PcscChipReader, list_readers
from hardware.pcscd import PcscDaemon
from hardware.sim.vpcd import VpcdCardLink

pytestmark = pytest.mark.pcsc

READER = "Virtual PCD 00 00"
SELECT_EMRTD = bytes.fromhex("00A4040C07A0000002471001")


def test_atr_is_read_through_pcscd(pcsc_reader: PcscChipReader, vpcd_card: VpcdCardLink) -> None:
    # GIVEN a card plugged into vpcd and the reader chosen by a part of its name
    # WHEN the reader connects
    atr = pcsc_reader.connect()
    # THEN the ATR is the card's and the reader is the vpcd one, on T=1
    assert atr == vpcd_card.card.atr
    assert pcsc_reader.name == READER
    assert pcsc_reader.connected
    assert vpcd_card.card.power_ons >= 1  # type: ignore[attr-defined]


def test_readers_list_shows_the_card(vpcd_card: VpcdCardLink) -> None:
    # GIVEN a card in slot 00 00 and none in slot 00 01
    # WHEN the readers are listed
    readers = {r.name: r for r in list_readers()}
    # THEN both slots are listed and only the first holds a card, with its ATR
    assert readers[READER].card_present and readers[READER].atr == vpcd_card.card.atr
    assert not readers["Virtual PCD 00 01"].card_present


def test_short_apdu_round_trip(pcsc_reader: PcscChipReader, vpcd_card: VpcdCardLink) -> None:
    pcsc_reader.connect()
    # WHEN a SELECT and a 200-byte echo are sent
    assert pcsc_reader.transmit(SELECT_EMRTD) == b"\x90\x00"
    payload = bytes(range(200))
    echoed = pcsc_reader.transmit(bytes([0x80, 0xEE, 0, 0, len(payload)]) + payload + b"\x00")
    # THEN the card's answers come back whole and the statistics count them
    assert echoed == payload + b"\x90\x00"
    assert pcsc_reader.stats.apdus == 2
    assert pcsc_reader.stats.status_words["9000"] == 2
    assert pcsc_reader.transmit(bytes.fromhex("00FF000000")) == b"\x6d\x00"


def test_extended_length_both_ways(pcsc_reader: PcscChipReader, vpcd_card: VpcdCardLink) -> None:
    pcsc_reader.connect()
    # GIVEN vpcd, which carries extended APDUs: the limits say so
    assert pcsc_reader.limits.extended_length
    assert pcsc_reader.limits.max_response_bytes >= 65535
    # WHEN a READ BINARY asks for 300 bytes with an extended Le
    response = pcsc_reader.transmit(bytes.fromhex("00B0000000012C"))
    # THEN all 300 bytes arrive in one response
    assert response == vpcd_card.card.data[:300] + b"\x90\x00"  # type: ignore[attr-defined]
    # WHEN a 4000-byte command data field goes out with an extended Lc, and 60 000 bytes back
    payload = bytes(i % 7 for i in range(4000))
    command = b"\x80\xee\x00\x00\x00" + len(payload).to_bytes(2, "big") + payload + b"\x00\x00"
    assert pcsc_reader.transmit(command) == payload + b"\x90\x00"
    big = pcsc_reader.transmit(bytes.fromhex("00B0000000EA60"))
    assert big == vpcd_card.card.data[:60000] + b"\x90\x00"  # type: ignore[attr-defined]


def test_extended_length_can_be_turned_off(pcscd: PcscDaemon, vpcd_card: VpcdCardLink) -> None:
    config = PcscChipReaderConfig(reader_pattern="virtual pcd", extended_length=False)
    with PcscChipReader(config) as reader:
        reader.connect()
        assert not reader.limits.extended_length
        assert reader.limits.max_response_bytes == 258


def test_card_removed_mid_transaction(
    pcsc_reader: PcscChipReader,
    plug_card: Callable[..., VpcdCardLink],
    make_test_card: Callable[[], object],
) -> None:
    card = make_test_card()
    link = plug_card(card)
    pcsc_reader.connect()
    # GIVEN an APDU the card is still working on
    stalled = threading.Thread(
        target=lambda: (card.entered_stall.wait(5), link.remove()),  # type: ignore[attr-defined]
        name="kiosk-test-puller",
    )
    stalled.start()
    # WHEN the card is pulled away before it answers
    with pytest.raises(CardRemovedError) as caught:
        pcsc_reader.transmit(bytes.fromhex("80CA000000"))
    # "at once": the error came while the card was still stalled, not after it answered
    answered_first = card.release.is_set()  # type: ignore[attr-defined]
    card.release.set()  # type: ignore[attr-defined]
    stalled.join(5)
    # THEN a typed CardRemovedError, quickly, and the reader is ready for the next card
    assert caught.value.code == "chip_card_removed"
    assert not answered_first
    assert not pcsc_reader.connected
    with pytest.raises(NoCardError):
        pcsc_reader.transmit(SELECT_EMRTD)
    plug_card(make_test_card())
    assert pcsc_reader.wait_for_card(3.0)
    pcsc_reader.connect()
    assert pcsc_reader.transmit(SELECT_EMRTD) == b"\x90\x00"


def test_listener_sees_inserted_and_removed(
    pcsc_reader: PcscChipReader, plug_card: Callable[..., VpcdCardLink], test_card: object
) -> None:
    events: list[CardEvent] = []
    seen = threading.Condition()

    def on_event(event: CardEvent) -> None:
        with seen:
            events.append(event)
            seen.notify_all()

    pcsc_reader.add_listener(on_event)
    # WHEN a card is put on the reader and taken away again
    link = plug_card(test_card, wait=False)
    with seen:
        assert seen.wait_for(lambda: CardEvent.INSERTED in events, timeout=3)
    assert pcsc_reader.card_present()
    link.remove()
    with seen:
        assert seen.wait_for(lambda: CardEvent.REMOVED in events, timeout=3)
    # THEN the listener heard both, in order, on the monitor thread
    assert events == [CardEvent.INSERTED, CardEvent.REMOVED]
    assert not pcsc_reader.card_present()


def test_connect_without_card_is_no_card_error(pcsc_reader: PcscChipReader) -> None:
    assert not pcsc_reader.wait_for_card(0.3)
    with pytest.raises(NoCardError):
        pcsc_reader.connect()


def test_exclusive_connection_keeps_others_out(
    pcsc_reader: PcscChipReader, vpcd_card: VpcdCardLink
) -> None:
    pcsc_reader.connect()
    # WHEN a second application tries to connect to the same card
    other = PcscChipReader(PcscChipReaderConfig(reader_pattern=READER))
    with other, pytest.raises(ChipReaderError) as caught:
        other.connect()
    # THEN it is refused with a typed "busy" error and our connection still works
    assert caught.value.code == "chip_reader_busy"
    assert pcsc_reader.transmit(SELECT_EMRTD) == b"\x90\x00"


def test_no_matching_reader(pcscd: PcscDaemon) -> None:
    with pytest.raises(ReaderUnavailableError):
        PcscChipReader(PcscChipReaderConfig(reader_pattern="no such reader")).open()


def test_reader_gone_when_pcscd_stops(
    restartable_pcscd: PcscDaemon, pcsc_reader: PcscChipReader, vpcd_card: VpcdCardLink
) -> None:
    events: list[CardEvent] = []
    pcsc_reader.add_listener(events.append)
    pcsc_reader.connect()
    # WHEN the PC/SC service and its vpcd reader go away under a connected card
    restartable_pcscd.stop()
    # THEN the next APDU fails with a typed reader error, and listeners hear the card go
    with pytest.raises(ReaderServiceUnavailableError):
        pcsc_reader.transmit(SELECT_EMRTD)
    assert not pcsc_reader.connected
    deadline = time.monotonic() + 3
    while CardEvent.REMOVED not in events and time.monotonic() < deadline:
        time.sleep(0.05)
    assert CardEvent.REMOVED in events
    # AND when pcscd and the card come back, the same reader object reads again
    restartable_pcscd.start()
    vpcd_card.remove()
    vpcd_card.insert()
    assert pcsc_reader.wait_for_card(5.0)
    pcsc_reader.connect()
    assert pcsc_reader.transmit(SELECT_EMRTD) == b"\x90\x00"
