"""Parts of the PC/SC driver that need no pcscd: error mapping, reader choice, missing deps."""

from __future__ import annotations

import sys

import pytest

from hardware.chip_reader import (
    CardRemovedError,
    CardUnresponsiveError,
    ChipReaderError,
    NoCardError,
    ReaderServiceUnavailableError,
    ReaderUnavailableError,
)
from hardware.pcsc import PcscChipReader, match_reader
from hardware.pcsc_errors import pcsc_error
from hardware.pcscd import PcscDaemon, PcscDaemonError, free_port_pair
from models.errors import DeviceNotAvailableError


@pytest.mark.parametrize(
    ("code", "action", "kind", "stable_code"),
    [
        (0x8010001D, "connect", ReaderServiceUnavailableError, "chip_reader_service_unavailable"),
        (0x8010001E, "transmit", ReaderServiceUnavailableError, "chip_reader_service_unavailable"),
        (0x80100017, "transmit", ReaderUnavailableError, "chip_reader_unavailable"),
        (0x80100009, "connect", ReaderUnavailableError, "chip_reader_unavailable"),
        (0x80100069, "transmit", CardRemovedError, "chip_card_removed"),
        (0x8010000C, "connect", NoCardError, "chip_no_card"),
        (0x8010000B, "connect", ChipReaderError, "chip_reader_busy"),
        (0x80100066, "connect", CardUnresponsiveError, "chip_card_unresponsive"),
        (0x8010000A, "transmit", ChipReaderError, "chip_reader_timeout"),
        (0x80100016, "transmit", ChipReaderError, "chip_reader_error"),
        (-2146435043, "connect", ReaderServiceUnavailableError, "chip_reader_service_unavailable"),
    ],
)
def test_pcsc_codes_map_to_typed_errors(
    code: int, action: str, kind: type[ChipReaderError], stable_code: str
) -> None:
    error = pcsc_error(code, action)
    assert type(error) is kind
    assert error.code == stable_code


def test_reader_is_chosen_by_case_insensitive_part_of_its_name() -> None:
    names = ["ACS ACR1252 1S CL Reader [ACR1252 Dual Reader PICC] 00 00", "Virtual PCD 00 00"]
    assert match_reader(names, "virtual pcd") == "Virtual PCD 00 00"
    assert match_reader(names, "picc") == names[0]
    assert match_reader(names, "") == names[0]
    assert match_reader(names, "omnikey") is None


def test_missing_pyscard_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "smartcard", None)
    with pytest.raises(DeviceNotAvailableError, match="pyscard"):
        PcscChipReader().open()


def test_missing_pcscd_binary_is_a_clear_error() -> None:
    daemon = PcscDaemon(pcscd="no-such-pcscd", vpcd_port=free_port_pair())
    with pytest.raises(PcscDaemonError, match="'pcscd'"):
        daemon.start()
    assert not daemon.running
