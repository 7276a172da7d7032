"""The passport chip emulator behind the real PC/SC stack (pyscard -> pcscd -> vpcd)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hardware.chip_reader import CardRemovedError
from hardware.pcsc import PcscChipReader
from hardware.sim.chip import PassportChip
from hardware.sim.chip_image import ChipBehaviour, ChipImage
from hardware.sim.vpcd import VpcdCardLink

pytestmark = pytest.mark.pcsc

CARD_ACCESS = bytes.fromhex("3114300F060A04007F00070202040202020102010D")  # PACEInfo, GM ECDH
DG1 = bytes.fromhex("61045F1F0100")


def _chip(**behaviour: int | None) -> PassportChip:
    image = ChipImage(
        application_files={0x0101: DG1, 0x011E: bytes.fromhex("60055F0101300000")},
        master_files={0x011C: CARD_ACCESS},
        behaviour=ChipBehaviour(**behaviour),  # type: ignore[arg-type]
    )
    return PassportChip(image)


def test_passport_chip_answers_through_pcscd(
    pcsc_reader: PcscChipReader, plug_card: Callable[..., VpcdCardLink]
) -> None:
    chip = _chip()
    plug_card(chip)
    # WHEN the kiosk connects and reads EF.CardAccess, then tries DG1 without access control
    assert pcsc_reader.connect() == chip.atr
    assert pcsc_reader.transmit(bytes.fromhex("00A4020C02011C")) == b"\x90\x00"
    card_access = pcsc_reader.transmit(bytes.fromhex("00B0000000"))
    pcsc_reader.transmit(bytes.fromhex("00A4040C07A0000002471001"))
    pcsc_reader.transmit(bytes.fromhex("00A4020C020101"))
    dg1 = pcsc_reader.transmit(bytes.fromhex("00B0000004"))
    # THEN the public file comes back (6282: shorter than Le) and DG1 is refused (6982)
    assert card_access == CARD_ACCESS + b"\x62\x82"
    assert dg1 == b"\x69\x82"
    assert chip.powered


def test_mute_passport_chip_is_a_typed_error(
    pcsc_reader: PcscChipReader, plug_card: Callable[..., VpcdCardLink]
) -> None:
    # GIVEN a chip that stops answering at once (the "stops mid-read" defect)
    plug_card(_chip(stop_after_bytes_read=0))
    pcsc_reader.connect()
    # WHEN a command is sent THEN the reader loses the card, with a typed error
    with pytest.raises(CardRemovedError):
        pcsc_reader.transmit(bytes.fromhex("00A4020C02011C"))
    assert not pcsc_reader.connected
