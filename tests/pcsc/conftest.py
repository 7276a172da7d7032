"""Fixtures of the real PC/SC path: our own pcscd with the vpcd reader, and cards plugged
into it through vpcd's socket protocol.

- ``pcscd`` (session): a running :class:`hardware.pcscd.PcscDaemon`; the process environment
  points the PC/SC client library at it. Fails (not skips) when CI=true and it cannot start.
- ``restartable_pcscd``: the same daemon, for a test that stops it; restarted afterwards.
- ``make_test_card`` / ``test_card``: a small scripted card (see :class:`ScriptedCard`).
- ``plug_card``: ``plug_card(card) -> VpcdCardLink`` inserts a card and waits until pcscd sees
  it; every card plugged is removed at teardown and the reader seen empty again.
- ``vpcd_card``: ``test_card`` plugged in.
- ``pcsc_reader``: an open :class:`hardware.pcsc.PcscChipReader` on "Virtual PCD 00 00".

The PC/SC client library reads PCSCLITE_CSOCK_NAME once per process: a test of another
directory that calls pyscard before these fixtures run would reach the system socket instead.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hardware.config import PcscChipReaderConfig
from hardware.pcsc import PcscChipReader, list_readers
from hardware.pcscd import PcscDaemon, PcscDaemonError, free_port_pair
from hardware.sim.vpcd import VirtualCard, VpcdCardLink

READER = "Virtual PCD 00 00"
PASSPORT_ATR = bytes.fromhex("3B8880014D52544430303031D8")


class ScriptedCard:
    """A tiny ISO 7816-4 card: SELECT answers 9000; READ BINARY (B0) reads a 70 000-byte
    pattern at P1P2 with short or extended Le; INS EE echoes its data field (short or
    extended Lc); INS CA blocks until ``release`` is set (to pull the card mid-APDU);
    anything else answers 6D00."""

    def __init__(self, atr: bytes = PASSPORT_ATR) -> None:
        self.atr = atr
        self.data = bytes(i % 251 for i in range(70_000))
        self.entered_stall = threading.Event()
        self.release = threading.Event()
        self.power_ons = 0
        self.apdus = 0

    def power_on(self) -> None:
        self.power_ons += 1

    def transmit(self, apdu: bytes) -> bytes:
        self.apdus += 1
        ins = apdu[1]
        if ins == 0xA4:
            return b"\x90\x00"
        if ins == 0xB0:
            offset = int.from_bytes(apdu[2:4], "big")
            le = _le(apdu)
            return self.data[offset : offset + le] + b"\x90\x00"
        if ins == 0xEE:
            return _data_field(apdu) + b"\x90\x00"
        if ins == 0xCA:
            self.entered_stall.set()
            self.release.wait(10)
            return b"\x90\x00"
        return b"\x6d\x00"


def _le(apdu: bytes) -> int:
    if len(apdu) == 5:
        return apdu[4] or 256
    if len(apdu) == 7 and apdu[4] == 0:
        return int.from_bytes(apdu[5:7], "big") or 65536
    return 0


def _data_field(apdu: bytes) -> bytes:
    if len(apdu) > 7 and apdu[4] == 0:
        lc = int.from_bytes(apdu[5:7], "big")
        return apdu[7 : 7 + lc]
    if len(apdu) > 5:
        return apdu[5 : 5 + apdu[4]]
    return b""


def wait_card_state(present: bool, timeout_s: float = 3.0) -> None:
    """Wait until pcscd reports the vpcd reader with (or without) a card."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(r.name == READER and r.card_present == present for r in list_readers()):
            return
        time.sleep(0.05)
    raise AssertionError(f"pcscd did not see card_present={present} within {timeout_s} s")


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PcscDaemon]:
    # the socket the process's PC/SC library was pointed at before any test ran (tests/conftest)
    chosen = os.environ.get("PCSCLITE_CSOCK_NAME")
    run_dir = Path(chosen).parent if chosen else tmp_path_factory.mktemp("pcscd-run")
    daemon = PcscDaemon(vpcd_port=free_port_pair(), run_dir=run_dir)
    try:
        daemon.start()
    except PcscDaemonError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"pcscd could not start in CI: {exc}")
        pytest.skip(f"pcscd could not start: {exc}")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in daemon.client_env().items():
            patch.setenv(key, value)
        try:
            yield daemon
        finally:
            daemon.stop()


@pytest.fixture
def restartable_pcscd(pcscd: PcscDaemon) -> Iterator[PcscDaemon]:
    yield pcscd
    if not pcscd.running:
        pcscd.start()


@pytest.fixture
def make_test_card() -> Callable[[], ScriptedCard]:
    cards: list[ScriptedCard] = []

    def make() -> ScriptedCard:
        card = ScriptedCard()
        cards.append(card)
        return card

    yield make
    for card in cards:
        card.release.set()  # never leave a vpcd thread stuck in a stalled APDU


@pytest.fixture
def test_card(make_test_card: Callable[[], ScriptedCard]) -> ScriptedCard:
    return make_test_card()


@pytest.fixture
def plug_card(pcscd: PcscDaemon) -> Iterator[Callable[..., VpcdCardLink]]:
    links: list[VpcdCardLink] = []

    def plug(card: VirtualCard, *, wait: bool = True) -> VpcdCardLink:
        link = VpcdCardLink(card, "127.0.0.1", pcscd.vpcd_port)
        links.append(link)
        link.insert()
        if wait:
            wait_card_state(True)
        return link

    yield plug
    for link in links:
        release = getattr(link.card, "release", None)
        if isinstance(release, threading.Event):
            release.set()  # never leave a vpcd thread stuck in a stalled APDU
        link.remove()
    if pcscd.running:
        wait_card_state(False)


@pytest.fixture
def vpcd_card(plug_card: Callable[..., VpcdCardLink], test_card: ScriptedCard) -> VpcdCardLink:
    return plug_card(test_card)


@pytest.fixture
def pcsc_reader(pcscd: PcscDaemon) -> Iterator[PcscChipReader]:
    reader = PcscChipReader(PcscChipReaderConfig(reader_pattern=READER, poll_interval_s=0.1))
    reader.open()
    yield reader
    reader.close()
