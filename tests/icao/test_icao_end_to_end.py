"""Reader side against the in-process chip emulator: BAC, PACE on every curve and DH group,
3DES and AES, short and extended length, wrong passwords, tampered responses."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hardware.sim.chip import PassportChip
from hardware.sim.chip_image import ChipImage
from kiosk.icao.access import establish_access
from kiosk.icao.apdu import CommandApdu
from kiosk.icao.crypto import CipherKind
from kiosk.icao.errors import AccessDeniedError, SecureMessagingError, SmDataObjectsError
from kiosk.icao.files import FileReader
from kiosk.icao.transport import ApduChannel

from .conftest import CAN, DG1, DG2, EF_COM, MRZ_INFO, build_image, pace_variant

AES, TDES = CipherKind.AES, CipherKind.TDES


def open_channel(
    image: ChipImage, *, extended: bool = False, tamper: Callable[[bytes], bytes] | None = None
) -> tuple[PassportChip, ApduChannel]:
    chip = PassportChip(image)
    chip.power_on()

    def transmit(apdu: bytes) -> bytes:
        response = chip.transmit(apdu)
        return tamper(response) if tamper else response

    limit = 65538 if extended else 258
    return chip, ApduChannel(transmit, extended_length=extended, max_response_bytes=limit)


def read_all(channel: ApduChannel) -> list[bytes]:
    reader = FileReader(channel)
    return [reader.read_file(0x011E), reader.read_file(sfi=1), reader.read_file(sfi=2)]


@pytest.mark.parametrize("extended", [False, True])
def test_bac_only_chip(extended: bool) -> None:
    # GIVEN a BAC-only chip WHEN the reader opens it with the MRZ and reads three files
    _chip, channel = open_channel(build_image(), extended=extended)
    result = establish_access(channel, mrz_info=MRZ_INFO)
    # THEN BAC was used and every byte (including DG2 beyond offset 32767) arrives
    assert result.protocol == "BAC" and result.sm.kind is TDES
    assert read_all(channel) == [EF_COM, DG1, DG2]


PACE_VARIANTS = [
    (13, AES, 16),
    (13, TDES, 16),
    (16, AES, 24),
    (17, AES, 32),
    (12, AES, 16),
    (15, AES, 32),
    (18, AES, 32),
    (10, TDES, 16),
    (9, AES, 16),
    (0, AES, 16),
    (1, TDES, 16),
    (2, AES, 32),
]


@pytest.mark.parametrize(("parameter_id", "cipher", "key_length"), PACE_VARIANTS)
def test_pace_generic_mapping(parameter_id: int, cipher: CipherKind, key_length: int) -> None:
    # GIVEN a PACE chip offering one variant
    image = build_image([pace_variant(parameter_id, cipher, key_length)])
    _chip, channel = open_channel(image, extended=parameter_id % 2 == 0)
    # WHEN the reader opens it with the MRZ
    result = establish_access(channel, mrz_info=MRZ_INFO)
    # THEN PACE ran with that cipher and the files read back intact
    assert result.protocol == "PACE" and result.sm.kind is cipher
    assert len(result.sm.ks_enc) == key_length
    assert read_all(channel) == [EF_COM, DG1, DG2]


def test_pace_with_can_and_preference_for_ecdh_aes() -> None:
    image = build_image([pace_variant(0, TDES, 16), pace_variant(13, AES, 16)])
    _chip, channel = open_channel(image)
    result = establish_access(channel, can=CAN)
    assert result.pace_info is not None and result.pace_info.parameter_id == 13
    assert FileReader(channel).read_file(sfi=1) == DG1


def test_pace_and_bac_chip_prefers_pace_and_bac_chip_falls_back() -> None:
    image = build_image([pace_variant(13, AES, 16)], bac=True)
    assert establish_access(open_channel(image)[1], mrz_info=MRZ_INFO).protocol == "PACE"
    assert establish_access(open_channel(build_image())[1], mrz_info=MRZ_INFO).protocol == "BAC"


def test_wrong_mrz_on_bac_chip_is_access_denied() -> None:
    _chip, channel = open_channel(build_image())
    with pytest.raises(AccessDeniedError, match="MRZ"):
        establish_access(channel, mrz_info="L898902C<369080619406244")


def test_wrong_mrz_and_wrong_can_on_pace_chip_are_access_denied() -> None:
    image = build_image([pace_variant(13, AES, 16)], bac=False)
    with pytest.raises(AccessDeniedError, match="password"):
        establish_access(open_channel(image)[1], mrz_info="L898902C<369080619406244")
    with pytest.raises(AccessDeniedError):
        establish_access(open_channel(image)[1], can="654321")


def test_can_on_bac_only_chip_is_refused_clearly() -> None:
    with pytest.raises(AccessDeniedError, match="only BAC"):
        establish_access(open_channel(build_image())[1], can=CAN)


@pytest.mark.parametrize("variant", [None, (13, AES, 16)])
def test_tampered_response_mac_ends_the_session(
    variant: tuple[int, CipherKind, int] | None,
) -> None:
    # GIVEN an open session whose next response will have one MAC bit flipped
    image = build_image([pace_variant(*variant)] if variant else None)
    flip = {"on": False}

    def tamper(response: bytes) -> bytes:
        if not flip["on"]:
            return response
        return response[:-3] + bytes([response[-3] ^ 1]) + response[-2:]

    _chip, channel = open_channel(image, tamper=tamper)
    establish_access(channel, mrz_info=MRZ_INFO)
    flip["on"] = True
    # WHEN a file is read THEN a typed error is raised and no data comes back
    with pytest.raises(SecureMessagingError):
        FileReader(channel).read_file(sfi=1)
    # AND the channel no longer speaks secure messaging
    assert channel.sm is None


def test_chip_rejects_a_wrong_command_mac_with_6988_and_drops_access() -> None:
    chip, channel = open_channel(build_image())
    sm = establish_access(channel, mrz_info=MRZ_INFO).sm
    protected = sm.wrap(CommandApdu(0, 0xB0, 0x81, 0, le=16)).to_bytes()
    broken = protected[:-3] + bytes([protected[-3] ^ 0x40]) + protected[-2:]
    assert chip.transmit(broken) == bytes.fromhex("6988")
    assert not chip.access_granted
    with pytest.raises(SmDataObjectsError):
        channel.send(CommandApdu(0, 0xB0, 0x81, 0, le=16))
