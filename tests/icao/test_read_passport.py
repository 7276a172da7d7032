"""GIVEN a personalised simulated chip WHEN the reader reads it in one call THEN every file the
chip lists comes back, by PACE or BAC as the chip offers, with the time of each step."""

from __future__ import annotations

from typing import Any

import pytest

from hardware.chip_reader import CardRemovedError
from hardware.sim.chip import PassportChip
from hardware.sim.chip_reader import SimulatedChipReader
from kiosk.icao.errors import AccessDeniedError
from kiosk.icao.lds.sod import parse_sod
from kiosk.icao.mrz import parse_mrz
from kiosk.icao.reader import read_passport


def _reader(passports: Any, profile: str) -> SimulatedChipReader:
    reader = SimulatedChipReader(card=PassportChip(passports.chip_image(profile)))
    reader.connect()
    return reader


def _mrz_info(passports: Any, profile: str) -> str:
    return parse_mrz(passports.printed_mrz(profile)).mrz_information()


@pytest.mark.parametrize(
    ("profile", "access"),
    [
        ("lca-genuine", "PACE"),
        ("lca-bac-only", "BAC"),
        ("lca-pace-only", "PACE"),
        ("jam-genuine", None),
        ("lca-id-card", None),
    ],
)
def test_every_listed_file_is_read(passports: Any, profile: str, access: str | None) -> None:
    reader = _reader(passports, profile)
    read = read_passport(
        reader.transmit,
        mrz_info=_mrz_info(passports, profile),
        extended_length=reader.limits.extended_length,
        max_response_bytes=reader.limits.max_response_bytes,
    )
    if access:
        assert read.access == access
    sod = parse_sod(read.files["EF_SOD"])
    for number in sod.data_group_hashes:
        if number not in (3, 4):
            assert f"DG{number}" in read.files
    assert {"EF_COM", "EF_SOD", "DG1", "DG2"} <= set(read.files)
    assert read.timings_ms["access"] > 0 and read.timings_ms["total"] >= read.timings_ms["DG2"]


def test_short_apdus_read_the_same_bytes_as_extended(passports: Any) -> None:
    reader = _reader(passports, "lca-genuine")
    info = _mrz_info(passports, "lca-genuine")
    extended = read_passport(
        reader.transmit, mrz_info=info, extended_length=True, max_response_bytes=65538
    )
    reader.disconnect()
    reader.connect()
    short = read_passport(reader.transmit, mrz_info=info)
    assert extended.files == short.files


def test_the_can_opens_a_pace_chip(passports: Any) -> None:
    reader = _reader(passports, "lca-genuine")
    can = passports.chip_image("lca-genuine").can
    assert read_passport(reader.transmit, can=can).access == "PACE"


def test_a_wrong_password_is_access_denied(passports: Any) -> None:
    reader = _reader(passports, "lca-wrong-password")
    with pytest.raises(AccessDeniedError):
        read_passport(reader.transmit, mrz_info=_mrz_info(passports, "lca-wrong-password"))


def test_a_card_pulled_mid_read_is_a_typed_error(passports: Any) -> None:
    reader = _reader(passports, "lca-genuine")
    transmit_count = 0

    def flaky(apdu: bytes) -> bytes:
        nonlocal transmit_count
        transmit_count += 1
        if transmit_count == 12:
            reader.remove()
        return reader.transmit(apdu)

    with pytest.raises(CardRemovedError):
        read_passport(flaky, mrz_info=_mrz_info(passports, "lca-genuine"))
