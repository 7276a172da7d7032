"""The in-process simulated chip reader."""

from __future__ import annotations

import threading
import time

import pytest

from hardware.chip_reader import CardEvent, CardRemovedError, ChipReaderError, NoCardError
from hardware.config import SimulatedChipReaderConfig
from hardware.sim.chip_reader import SimulatedChipReader


class Card:
    atr = bytes.fromhex("3B8880014D52544430303031D8")

    def __init__(self) -> None:
        self.powered = 0
        self.inside = threading.Event()
        self.proceed = threading.Event()
        self.proceed.set()

    def power_on(self) -> None:
        self.powered += 1

    def transmit(self, apdu: bytes) -> bytes:
        self.inside.set()
        self.proceed.wait(5)
        return bytes(len(apdu)) + b"\x90\x00"


def test_insert_connect_transmit_remove() -> None:
    events: list[CardEvent] = []
    reader = SimulatedChipReader()
    reader.add_listener(events.append)
    card = Card()
    with reader:
        assert not reader.card_present()
        with pytest.raises(NoCardError):
            reader.connect()
        reader.insert(card)
        assert reader.wait_for_card(0.1)
        assert reader.connect() == card.atr
        assert card.powered == 1
        assert reader.transmit(b"\x00\xa4\x04\x0c") == bytes(4) + b"\x90\x00"
        assert list(reader.sent) == [b"\x00\xa4\x04\x0c"]
        reader.remove()
        with pytest.raises(CardRemovedError):
            reader.transmit(b"\x00\xa4\x04\x0c")
        assert not reader.connected
    assert events == [CardEvent.INSERTED, CardEvent.REMOVED]


def test_card_pulled_during_an_apdu() -> None:
    card = Card()
    card.proceed.clear()
    reader = SimulatedChipReader(card=card)
    reader.connect()
    puller = threading.Thread(
        target=lambda: (card.inside.wait(5), reader.remove(), card.proceed.set()),
        name="kiosk-test-puller",
    )
    puller.start()
    with pytest.raises(CardRemovedError):
        reader.transmit(b"\x00\xb0\x00\x00\x00")
    puller.join(5)


def test_limits_follow_configuration() -> None:
    short = SimulatedChipReader(SimulatedChipReaderConfig(extended_length=False), card=Card())
    assert not short.limits.extended_length and short.limits.max_command_bytes == 261
    short.connect()
    with pytest.raises(ChipReaderError) as caught:
        short.transmit(bytes(300))
    assert caught.value.code == "chip_command_too_long"
    assert SimulatedChipReader().limits.extended_length


def test_latency_model_adds_air_time() -> None:
    config = SimulatedChipReaderConfig(apdu_delay_ms=5, bit_rate_kbps=106)
    reader = SimulatedChipReader(config, card=Card())
    reader.connect()
    started = time.perf_counter()
    reader.transmit(bytes(200))  # 402 bytes on air at 106 kbit/s = 38 ms, plus 5 ms
    assert time.perf_counter() - started >= 0.040
