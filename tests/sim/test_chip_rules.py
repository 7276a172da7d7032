"""The emulator follows a real chip's rules and runs Active and Chip Authentication."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from hardware.sim.chip import ChipNotAnsweringError, LatencyModel, PassportChip
from hardware.sim.chip_image import ChipBehaviour, ChipImage
from kiosk.icao import tlv
from kiosk.icao.apdu import CommandApdu
from kiosk.icao.bac import perform_bac
from kiosk.icao.chip_authentication import chip_key_from_public_key, perform_chip_authentication
from kiosk.icao.crypto import CipherKind
from kiosk.icao.files import FileReader
from kiosk.icao.pace.groups import DhGroup, standard_group
from kiosk.icao.pace.oids import ca_oid, oid_der
from kiosk.icao.transport import ApduChannel

H = bytes.fromhex
MRZ_INFO = "L898902C<369080619406236"
DG1 = tlv.encode(0x61, b"A" * 300)


def der(key: object) -> bytes:
    return key.private_bytes(  # type: ignore[attr-defined,no-any-return]
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def dh_private_key_der(group: DhGroup, x: int) -> bytes:
    """PKCS#8 of an X9.42 DH key (cryptography's FFDH API is deprecated)."""

    def integer(value: int) -> bytes:
        return tlv.encode(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))

    params = tlv.encode(0x30, integer(group.p) + integer(group.g) + integer(group.q))
    algorithm = tlv.encode(0x30, oid_der("1.2.840.10046.2.1") + params)
    return tlv.encode(0x30, integer(0) + algorithm + tlv.encode(0x04, integer(x)))


def powered(image: ChipImage) -> PassportChip:
    chip = PassportChip(image)
    chip.power_on()
    return chip


def opened(image: ChipImage) -> tuple[PassportChip, ApduChannel]:
    chip = powered(image)
    channel = ApduChannel(chip.transmit)
    FileReader(channel).select_application()
    perform_bac(channel, MRZ_INFO)
    return chip, channel


def test_nothing_readable_before_access_control_and_unknown_ins() -> None:
    chip = powered(ChipImage({0x0101: DG1}, mrz_information=MRZ_INFO))
    assert chip.transmit(H("00A4040C07A0000002471001")) == H("9000")
    assert chip.transmit(H("00B0810010")) == H("6982")
    assert chip.transmit(H("00A4020C020101")) == H("9000")
    assert chip.transmit(H("00B0000010")) == H("6982")
    assert chip.transmit(H("00CA000000")) == H("6D00")
    assert chip.transmit(H("00A4020C020199")) == H("6A82")


def test_read_past_end_answers_6b00_and_short_read_6282() -> None:
    _chip, channel = opened(ChipImage({0x0101: DG1}, mrz_information=MRZ_INFO))
    FileReader(channel).select_file(0x0101)
    size = len(DG1)
    beyond = channel.send(CommandApdu(0, 0xB0, size >> 8, size & 0xFF, le=4))
    assert beyond.sw == 0x6B00 and beyond.data == b""
    tail = channel.send(CommandApdu(0, 0xB0, (size - 3) >> 8, (size - 3) & 0xFF, le=16))
    assert tail.sw == 0x6282 and tail.data == DG1[-3:]


def test_plain_command_under_secure_messaging_drops_access() -> None:
    chip, _channel = opened(ChipImage({0x0101: DG1}, mrz_information=MRZ_INFO))
    assert chip.transmit(H("00B0810010")) == H("6982")
    assert chip.sm is None and not chip.access_granted


def test_wrong_bac_cryptogram_answers_6300() -> None:
    chip = powered(ChipImage({0x0101: DG1}, mrz_information=MRZ_INFO))
    assert len(chip.transmit(H("0084000008"))) == 10
    assert chip.transmit(H("0082000028") + bytes(40) + H("28")) == H("6300")


def test_chip_that_stops_answering() -> None:
    image = ChipImage({0x0101: DG1}, mrz_information=MRZ_INFO)
    image.behaviour = ChipBehaviour(stop_after_bytes_read=100)
    _chip, channel = opened(image)
    with pytest.raises(ChipNotAnsweringError):
        FileReader(channel).read_file(sfi=1)


def test_latency_model_charges_air_time() -> None:
    waited: list[float] = []
    model = LatencyModel(per_apdu_s=0.001, bit_rate=106_000, sleep=waited.append)
    chip = PassportChip(ChipImage({0x0101: DG1}, mrz_information=MRZ_INFO), latency=model)
    chip.power_on()
    chip.transmit(H("0084000008"))
    assert waited == [pytest.approx(0.001 + 15 * 9 / 106_000)]
    with pytest.raises(ValueError):
        LatencyModel(bit_rate=100_000)


def test_active_authentication_rsa_iso9796_2() -> None:
    key = rsa.generate_private_key(65537, 1024)
    _chip, channel = opened(
        ChipImage({0x0101: DG1}, mrz_information=MRZ_INFO, aa_private_key=der(key))
    )
    challenge = H("0102030405060708")
    signature = channel.command(CommandApdu(0, 0x88, 0, 0, challenge, le=256), "INTERNAL AUTH")
    numbers = key.public_key().public_numbers()
    recovered = pow(int.from_bytes(signature, "big"), numbers.e, numbers.n).to_bytes(128, "big")
    assert recovered[0] == 0x6A and recovered[-1] == 0xBC
    m1, digest = recovered[1:-21], recovered[-21:-1]
    assert hashlib.sha1(m1 + challenge).digest() == digest


def test_active_authentication_ecdsa_plain() -> None:
    key = ec.generate_private_key(ec.BrainpoolP256R1())
    _chip, channel = opened(
        ChipImage({0x0101: DG1}, mrz_information=MRZ_INFO, aa_private_key=der(key))
    )
    challenge = H("1112131415161718")
    signature = channel.command(CommandApdu(0, 0x88, 0, 0, challenge, le=256), "INTERNAL AUTH")
    assert len(signature) == 64
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    key.public_key().verify(encode_dss_signature(r, s), challenge, ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize(
    ("kind", "cipher", "key_length"),
    [
        ("ECDH", CipherKind.AES, 16),
        ("ECDH", CipherKind.TDES, 16),
        ("DH", CipherKind.AES, 32),
        ("DH", CipherKind.TDES, 16),
    ],
)
def test_chip_authentication_rekeys_secure_messaging(
    kind: str, cipher: CipherKind, key_length: int
) -> None:
    # GIVEN a chip with a CA key, opened with BAC
    if kind == "ECDH":
        ec_key = ec.generate_private_key(ec.SECP256R1())
        pkcs8 = der(ec_key)
        group_, public = chip_key_from_public_key(ec_key.public_key())
    else:
        dh_group = standard_group(2)
        assert isinstance(dh_group, DhGroup)
        x = 0x1234567890ABCDEF1234567890ABCDEF
        pkcs8 = dh_private_key_der(dh_group, x)
        group_, public = dh_group, dh_group.public_key_bytes(x)
    image = ChipImage({0x0101: DG1}, mrz_information=MRZ_INFO, ca_private_keys={1: pkcs8})
    chip, channel = opened(image)
    old = channel.sm
    # WHEN the reader runs Chip Authentication with the chip's public key
    sm = perform_chip_authentication(
        channel, ca_oid(kind, cipher, key_length), group_, public, key_id=1
    )
    # THEN both sides switched to new keys and reading continues under them
    assert sm is channel.sm and sm is not old and sm.kind is cipher and sm.ssc == 0
    assert FileReader(channel).read_file(sfi=1) == DG1
    assert chip.sm is not None and chip.sm.ks_mac == sm.ks_mac
