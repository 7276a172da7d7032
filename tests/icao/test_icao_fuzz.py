"""Fuzzing of everything that parses chip bytes: only typed errors, never a hang."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardware.sim.chip import PassportChip
from hardware.sim.chip.secure_messaging import ChipSecureMessaging
from hardware.sim.chip_image import ChipImage, PaceParameters
from kiosk.icao import tlv
from kiosk.icao.apdu import CommandApdu, ResponseApdu
from kiosk.icao.crypto import CipherKind
from kiosk.icao.pace import parse_card_access
from kiosk.icao.sm import SecureMessaging
from models.errors import KioskError

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEY = bytes(range(16))


@FUZZ
@given(st.binary(max_size=64))
def test_tlv_decode_only_typed_errors(data: bytes) -> None:
    try:
        for item in tlv.decode_all(data):
            if item.constructed:
                item.children()
    except KioskError:
        pass


@FUZZ
@given(st.binary(max_size=40))
def test_apdu_parsers_only_typed_errors(data: bytes) -> None:
    for parse in (ResponseApdu.parse, CommandApdu.parse):
        try:
            parse(data)
        except KioskError:
            pass


@FUZZ
@given(st.binary(max_size=80), st.sampled_from([CipherKind.TDES, CipherKind.AES]))
def test_sm_unwrap_only_typed_errors_and_no_data_without_mac(data: bytes, kind: CipherKind) -> None:
    sm = SecureMessaging(kind, KEY, KEY[::-1], 7)
    try:
        sm.unwrap(ResponseApdu(data, 0x9000))
    except KioskError:
        assert sm.broken
    else:  # pragma: no cover - forging a MAC by chance would be a finding
        raise AssertionError("unauthenticated response accepted")


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=48),
        st.builds(lambda body: tlv.encode(0x31, body), st.binary(max_size=40)),
    )
)
def test_card_access_only_typed_errors(data: bytes) -> None:
    try:
        parse_card_access(data)
    except KioskError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=4, max_size=60))
def test_emulator_answers_any_command_with_a_status_word(data: bytes) -> None:
    image = ChipImage(
        {0x0101: tlv.encode(0x61, b"x")},
        mrz_information="L898902C<369080619406236",
        pace=[PaceParameters("0.4.0.127.0.7.2.2.4.2.2", 13)],
    )
    chip = PassportChip(image, rng=lambda n: bytes(range(1, n + 1)))
    chip.power_on()
    response = chip.transmit(data)
    assert len(response) >= 2


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=80), min_size=1, max_size=4), st.booleans())
def test_emulator_survives_garbage_in_pace_and_secure_messaging(
    bodies: list[bytes], chained: bool
) -> None:
    image = ChipImage(
        {0x0101: tlv.encode(0x61, b"x")},
        mrz_information="L898902C<369080619406236",
        pace=[PaceParameters("0.4.0.127.0.7.2.2.4.2.2", 13)],
    )
    chip = PassportChip(image, rng=lambda n: bytes(range(1, n + 1)))
    chip.power_on()
    assert chip.transmit(bytes.fromhex("0022C1A40F800A04007F00070202040202830101")) == b"\x90\x00"
    for body in bodies:
        cla = 0x10 if chained else 0x00
        assert len(chip.transmit(CommandApdu(cla, 0x86, 0, 0, body, le=256).to_bytes())) >= 2
    chip.sm = ChipSecureMessaging(CipherKind.AES, KEY, KEY, 0)
    for body in bodies:
        response = chip.transmit(CommandApdu(0x0C, 0xB0, 0, 0, body, le=256).to_bytes())
        assert len(response) >= 2
