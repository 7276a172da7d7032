"""The vpcd socket protocol, against a fake vpcd (no pcscd needed)."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import pytest

from hardware.sim.vpcd import (
    CTRL_ATR,
    CTRL_POWER_OFF,
    CTRL_POWER_ON,
    CTRL_RESET,
    VpcdCardLink,
    VpcdLinkError,
    parse_vpcd_address,
)
from models.errors import DeviceError

ATR = bytes.fromhex("3B8880014D52544430303031D8")


class Card:
    atr = ATR

    def __init__(self) -> None:
        self.calls: list[str] = []

    def power_on(self) -> None:
        self.calls.append("on")

    def reset(self) -> None:
        self.calls.append("reset")

    def transmit(self, apdu: bytes) -> bytes:
        if apdu[1] == 0xFF:
            raise RuntimeError("card bug")
        if apdu[1] == 0xB0:
            return bytes(70_000)  # too long for one vpcd message
        return apdu[::-1] + b"\x90\x00"


def send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack(">H", len(payload)) + payload)


def receive(sock: socket.socket) -> bytes:
    header = sock.recv(2, socket.MSG_WAITALL)
    (length,) = struct.unpack(">H", header)
    return sock.recv(length, socket.MSG_WAITALL) if length else b""


@pytest.fixture
def fake_vpcd() -> Iterator[socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(5)
    yield server
    server.close()


def test_link_answers_controls_and_apdus(fake_vpcd: socket.socket) -> None:
    card = Card()
    link = VpcdCardLink(card, "127.0.0.1", fake_vpcd.getsockname()[1])
    # GIVEN the card plugged into vpcd
    link.insert()
    conn, _ = fake_vpcd.accept()
    conn.settimeout(5)
    with conn:
        # WHEN vpcd powers it, asks for the ATR and sends APDUs
        send(conn, bytes([CTRL_POWER_ON]))
        send(conn, bytes([CTRL_RESET]))
        send(conn, bytes([CTRL_POWER_OFF]))
        send(conn, bytes([CTRL_ATR]))
        atr = receive(conn)
        send(conn, bytes.fromhex("00A4040C"))
        answer = receive(conn)
        send(conn, bytes.fromhex("00FF0000"))
        failed = receive(conn)
        send(conn, bytes.fromhex("00B0000000"))
        oversized = receive(conn)
        # THEN the ATR and the answers come back framed, power hooks ran, no answer to them
        assert atr == ATR
        assert answer == bytes.fromhex("0C04A400") + b"\x90\x00"
        assert failed == b"\x6f\x00"  # a card exception is not a pulled card
        assert oversized == b"\x6f\x00"
        assert card.calls == ["on", "reset"]  # power_off is optional and absent here
        assert link.apdus_served == 3
        assert link.controls_seen == [CTRL_POWER_ON, CTRL_RESET, CTRL_POWER_OFF, CTRL_ATR]
        # WHEN the card is removed THEN vpcd sees the connection close
        link.remove()
        assert conn.recv(2) == b""
    assert not link.inserted


def test_link_ends_when_vpcd_goes(fake_vpcd: socket.socket) -> None:
    link = VpcdCardLink(Card(), "127.0.0.1", fake_vpcd.getsockname()[1])
    link.insert()
    conn, _ = fake_vpcd.accept()
    conn.close()
    link._thread.join(5)  # type: ignore[union-attr]
    assert not link.inserted
    link.remove()


def test_link_fails_typed_when_nobody_listens() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    link = VpcdCardLink(Card(), "127.0.0.1", port, connect_timeout_s=0.2)
    with pytest.raises(VpcdLinkError):
        link.insert()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("localhost:35963", ("localhost", 35963)),
        ("10.0.0.5", ("10.0.0.5", 35963)),
        (":4000", ("localhost", 4000)),
    ],
)
def test_parse_vpcd_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_vpcd_address(text) == expected


@pytest.mark.parametrize("text", ["host:port", "host:0", "host:70000"])
def test_parse_vpcd_address_rejects_bad_ports(text: str) -> None:
    with pytest.raises(VpcdLinkError):
        parse_vpcd_address(text)


def test_mute_card_drops_the_link(fake_vpcd: socket.socket) -> None:
    class MuteCard(Card):
        def transmit(self, apdu: bytes) -> bytes:
            raise DeviceError("chip stopped answering")

    link = VpcdCardLink(MuteCard(), "127.0.0.1", fake_vpcd.getsockname()[1])
    link.insert()
    conn, _ = fake_vpcd.accept()
    conn.settimeout(5)
    with conn:
        send(conn, bytes.fromhex("00A4040C"))
        # THEN vpcd sees the card leave instead of waiting for an answer forever
        assert conn.recv(2) == b""
    link.remove()
    assert not link.inserted
