"""PACE integrated mapping and chip authentication mapping: the ICAO Doc 9303 Part 11
Appendix H worked example (ECDH, brainpoolP256r1, AES-128), and both mappings run against the
simulated chip on the brainpool and NIST curves."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hardware.sim.chip import PassportChip
from hardware.sim.chip_image import FID_EF_CARDACCESS, ChipImage, PaceParameters
from hardware.sim.passports import PassportFactory
from kiosk.icao.access import establish_access
from kiosk.icao.apdu import CommandApdu
from kiosk.icao.crypto import KDF_ENC, KDF_MAC, CipherKind, derive_key
from kiosk.icao.errors import AuthenticationError
from kiosk.icao.lds import oids
from kiosk.icao.pace import PaceInfo, encode_card_access, pace_oid, standard_group
from kiosk.icao.pace.common import PacePassword, authentication_token
from kiosk.icao.pace.groups import EcGroup
from kiosk.icao.pace.mappings import (
    chip_authentication_data,
    decrypt_chip_authentication_data,
    encrypt_chip_authentication_data,
    integrated_mapping,
    point_encoding,
    pseudo_random,
    verify_chip_authentication_data,
)
from kiosk.icao.pace.oids import pace_suite
from kiosk.icao.pace.reader import run_pace
from kiosk.icao.rng import ReplayRandom
from kiosk.icao.transport import ApduChannel

# Doc 9303 Part 11, Appendix H.1 (PACE-IM, ECDH on brainpoolP256r1, AES-128)
H1 = {
    "s": "2923BE84E16CD6AE529049F1F1BBE9EB",
    "t": "5DD4CBFC96F5453B130D890A1CDBAE32",
    "R": "A2F8FF2DF50E52C6599F386ADCB595D229F6A167ADE2BE5F2C3296ADD5B7430E",
    "Gx": "8E82D31559ED0FDE92A4D0498ADD3C23BABA94FB77691E31E90AEA77FB17D427",
    "Gy": "4C1AE14BD0C3DBAC0C871B7F3608169364437CA30AC243A089D3F266C1E60FAD",
    "sk_ifd": "A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595",
    "pk_ifd": "0489CBA23FFE96AA18D824627C3E934E54A9FD0B87A95D1471DC1C0ABFDCD640D4"
    "6755DE9B7B778280B6BEBD57439ADFEB0E21FD4ED6DF42578C13418A59B34C37",
    "pk_ic": "0467F78E5F7F7686082B293E8D087E056916D0F74BC01A5F8957D0DE45691E51E8"
    "932B69A962B52A0985AD2C0A271EE6A13A8ADDDCD1A3A994B9DED257F4D22753",
    "K": "4F150FDE1D4F0E38E95017B891BAE17133A0DF45B0D3E18B60BA7BEAFDC2C713",
    "ks_enc": "0D3FEB33251A6370893D62AE8DAAF51B",
    "ks_mac": "B01E89E3D9E8719E586B50B4A7506E0B",
    "token_ifd": "450F02B86F6A0909",
    "token_ic": "75D4D96E8D5B0308",
}
IM_OID = oids.PACE_ECDH_IM + ".2"
CAM_OID = oids.PACE_ECDH_CAM + ".2"


def _h(name: str) -> bytes:
    return bytes.fromhex(H1[name])


def brainpool256() -> EcGroup:
    group = standard_group(13)
    assert isinstance(group, EcGroup)
    return group


def test_worked_example_pseudo_random_mapping_and_point_encoding() -> None:
    group = brainpool256()
    r = pseudo_random(_h("s"), _h("t"), group.p, CipherKind.AES, 16)
    assert r == int(H1["R"], 16)
    assert point_encoding(group, r) == (int(H1["Gx"], 16), int(H1["Gy"], 16))


def test_worked_example_key_agreement_and_tokens() -> None:
    group = brainpool256().with_generator((int(H1["Gx"], 16), int(H1["Gy"], 16)))
    sk_ifd = int(H1["sk_ifd"], 16)
    assert group.public_key_bytes(sk_ifd) == _h("pk_ifd")
    secret = group.agree(sk_ifd, _h("pk_ic"))
    assert secret == _h("K")
    assert derive_key(secret, KDF_ENC, CipherKind.AES, 16) == _h("ks_enc")
    assert derive_key(secret, KDF_MAC, CipherKind.AES, 16) == _h("ks_mac")
    suite = pace_suite(IM_OID)
    assert suite is not None
    assert authentication_token(_h("ks_mac"), suite, group, _h("pk_ic")) == _h("token_ifd")
    assert authentication_token(_h("ks_mac"), suite, group, _h("pk_ifd")) == _h("token_ic")


@pytest.mark.parametrize("parameter_id", [8, 9, 11, 12, 13, 14, 15, 16, 17, 18])
def test_point_encoding_lands_on_every_curve_with_p_3_mod_4(parameter_id: int) -> None:
    group = standard_group(parameter_id)
    assert isinstance(group, EcGroup) and group.p % 4 == 3
    for t in (2, 3, 12345, group.p - 2):  # t = ±1 is the exceptional input (α + α² = 0)
        assert group.on_curve(point_encoding(group, t))


def test_chip_authentication_data_round_trip() -> None:
    group = brainpool256()
    sk_ic, sk_map = 0x1234567890ABCDEF, 0xFEDCBA0987654321
    ca_ic = chip_authentication_data(group, sk_ic, sk_map)
    ks_enc = bytes(range(16))
    assert (
        decrypt_chip_authentication_data(
            ks_enc, encrypt_chip_authentication_data(ks_enc, group, ca_ic)
        )
        == ca_ic
    )
    pk_ic, pk_map = group.public_key(sk_ic), group.public_key(sk_map)
    assert verify_chip_authentication_data(group, ca_ic, pk_ic, pk_map)
    assert not verify_chip_authentication_data(group, ca_ic, group.public_key(sk_ic + 1), pk_map)
    with pytest.raises(AuthenticationError):
        decrypt_chip_authentication_data(ks_enc, b"\x00" * 15)


CURVES = {8: ec.SECP192R1, 12: ec.SECP256R1, 13: ec.BrainpoolP256R1, 15: ec.SECP384R1,
          16: ec.BrainpoolP384R1, 17: ec.BrainpoolP512R1, 18: ec.SECP521R1}  # fmt: skip


def _variant(image: ChipImage, oid: str, parameter_id: int, ca_key: bytes | None) -> ChipImage:
    """The chip with only this PACE variant in EF.CardAccess (and, for CAM, a static key on
    the PACE curve)."""
    master = dict(image.master_files)
    master[FID_EF_CARDACCESS] = encode_card_access([PaceInfo(oid, 2, parameter_id)])
    keys = {1: ca_key} if ca_key is not None else image.ca_private_keys
    return dataclasses.replace(
        image, master_files=master, pace=[PaceParameters(oid, parameter_id)], ca_private_keys=keys
    )


@pytest.fixture(scope="module")
def factory(tmp_path_factory: pytest.TempPathFactory) -> PassportFactory:
    return PassportFactory(Path(tmp_path_factory.mktemp("pace-mappings")))


@pytest.mark.parametrize("parameter_id", sorted(CURVES))
@pytest.mark.parametrize("mapping", ["IM", "CAM"])
def test_mapping_opens_the_simulated_chip(
    mapping: str, parameter_id: int, factory: PassportFactory
) -> None:
    # GIVEN a chip that offers only this mapping on this curve
    image = factory.chip_image("lca-genuine")
    key = ec.generate_private_key(CURVES[parameter_id]())
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    oid = pace_oid("ECDH", mapping, CipherKind.AES, 16)
    chip = PassportChip(_variant(image, oid, parameter_id, pkcs8 if mapping == "CAM" else None))
    chip.power_on()
    # WHEN the reader opens it
    channel = ApduChannel(chip.transmit, extended_length=True, max_response_bytes=65538)
    access = establish_access(channel, mrz_info=image.mrz_information)
    # THEN PACE ran with that mapping and secure messaging works
    assert access.protocol == "PACE" and access.mapping == mapping
    assert channel.command(CommandApdu(0x00, 0xA4, 0x02, 0x0C, b"\x01\x1e"), "SELECT") == b""
    if mapping == "CAM":
        # and the chip proved its static key: PK_Map,IC = CA_IC * PK_IC
        assert access.cam is not None
        numbers = key.public_key().public_numbers()
        pk_ic = (numbers.x, numbers.y)
        group = access.cam.group
        assert verify_chip_authentication_data(group, access.cam.ca_ic, pk_ic, access.cam.pk_map_ic)
        other = ec.generate_private_key(CURVES[parameter_id]()).public_key().public_numbers()
        assert not verify_chip_authentication_data(
            group, access.cam.ca_ic, (other.x, other.y), access.cam.pk_map_ic
        )


# Doc 9303 Part 11, Appendix I.1 (PACE-CAM, ECDH on brainpoolP256r1, AES-128)
I1 = {
    "ks_enc": "0A9DA4DB03BDDE39FC5202BC44B2E89E",
    "ks_mac": "4B1C06491ED5140CA2B537D344C6C0B1",
    "pk_ifd": "04446C934084D9DAB863944F219520076C29EE3F7AE6722B11FF319EC1C7728F95"
    "5483400BFF60BF0C5929270009277DC2A515E12575010AD9BA916CF1BF86FEFC",
    "pk_ic": "0402AD566F3C6EC7F9324509AD50A51FA52030782A4968FCFEDF737DAEA9933331"
    "11C3B9B4C2287789BD137E7F8AA882E2A3C633CCD6ECC2C63C57AD401A09C2E1",
    "token_ifd": "E86BD06018A1CD3B",
    "token_ic": "8596CF055C67C1A3",
    "a_ic": "1EEA964DAAE372AC990E3EFDE6333353BFC89A6704D93DA8798CF77F5B7A54BD"
    "10CBA372B42BE0B9B5F28AA8DE2F4F92",
    "ca_ic": "85DC3FA93D0952BFA82F5FD189EE75BD82F11D1F0B8ED4BF5319AC9B53C426B3",
    "pk_map_ic": "A234236AA9B9621E8EFB73B5245C0E09D2576E5277183C1208BDD55280CAE8B3"
    "04F365713A356E65A451E165ECC9AC0AC46E3771342C8FE5AEDD092685338E23",
    "pk_static": "1872709494399E7470A6431BE25E83EEE24FEA568C2ED28DB48E05DB3A610DC8"
    "84D256A40E35EFCB59BF6753D3A489D28C7A4D973C2DA138A6E7A4A08F68E16F",
}


def _point(hex_xy: str) -> tuple[int, int]:
    half = len(hex_xy) // 2
    return int(hex_xy[:half], 16), int(hex_xy[half:], 16)


def test_worked_example_chip_authentication_mapping() -> None:
    group = brainpool256()
    ks_enc, ca_ic = bytes.fromhex(I1["ks_enc"]), int(I1["ca_ic"], 16)
    # THEN the encrypted chip authentication data decrypts to CA_IC, and back
    assert decrypt_chip_authentication_data(ks_enc, bytes.fromhex(I1["a_ic"])) == ca_ic
    assert encrypt_chip_authentication_data(ks_enc, group, ca_ic) == bytes.fromhex(I1["a_ic"])
    # and PK_Map,IC = CA_IC * PK_IC with PK_IC from EF.CardSecurity
    pk_map, pk_static = _point(I1["pk_map_ic"]), _point(I1["pk_static"])
    assert verify_chip_authentication_data(group, ca_ic, pk_static, pk_map)
    assert not verify_chip_authentication_data(group, ca_ic + 1, pk_static, pk_map)
    # and the authentication tokens of the CAM object identifier
    suite = pace_suite(CAM_OID)
    assert suite is not None and suite.mapping == "CAM"
    ks_mac = bytes.fromhex(I1["ks_mac"])
    assert authentication_token(ks_mac, suite, group, bytes.fromhex(I1["pk_ic"])) == bytes.fromhex(
        I1["token_ifd"]
    )
    assert authentication_token(ks_mac, suite, group, bytes.fromhex(I1["pk_ifd"])) == bytes.fromhex(
        I1["token_ic"]
    )


I1_MRZ_INFO = "C11T002JM496081222310314"  # C11T002JM4, 960812(2), 231031(4)
I1_PK_MAP_IFD = (
    "047F1D410ADB7DDB3B84BF1030800981A9105D7457B4A3ADE002384F3086C67EDE"
    "1AB889104A27DB6D842B019020FBF3CEACB0DC627F7BDCAC29969E19D0E553C1"
)
I1_EXCHANGE = [
    # MSE:Set AT; unlike the appendix the reader names the domain parameters (84 01 0D)
    ("0022C1A412800A04007F0007020204060283010184010D", "9000"),
    ("10860000027C0000", "7C128010CB60E8E0D85B76A9BD304747C2AD42E29000"),
    ("10860000457C438141" + I1_PK_MAP_IFD + "00", "7C43824104" + I1["pk_map_ic"] + "9000"),
    ("10860000457C438341" + I1["pk_ifd"] + "00", "7C438441" + I1["pk_ic"] + "9000"),
    ("008600000C7C0A8508" + I1["token_ifd"] + "00",
     "7C3C8608" + I1["token_ic"] + "8A30" + I1["a_ic"] + "9000"),
]  # fmt: skip


def test_worked_example_pace_cam_reader_side_apdus() -> None:
    # GIVEN a chip that answers as in Appendix I.1 and the reader's two private keys
    steps = iter(I1_EXCHANGE)

    def transmit(apdu: bytes) -> bytes:
        command, response = next(steps)
        assert apdu.hex().upper() == command
        return bytes.fromhex(response)

    rng = ReplayRandom(
        [
            bytes.fromhex("5D8BB87BD74D985A4B7D4325B9F7B976FE835122773400798914AA22738135CC"),
            bytes.fromhex("76ECFDAA9841C323A3F5FC5E88B88DB3EFF7E35EBF57A7E6946CB630006C2120"),
        ]
    )
    info = PaceInfo(CAM_OID, 2, 13)
    # WHEN the reader runs PACE-CAM with the MRZ password
    session = run_pace(
        ApduChannel(transmit), PacePassword.from_mrz_information(I1_MRZ_INFO), info, rng
    )
    # THEN every command matched, the session keys are the appendix's, and the chip's answer
    # verifies against the key of its ChipAuthenticationPublicKeyInfo
    assert session.mapping == "CAM" and session.cam is not None
    assert session.sm.ks_enc == bytes.fromhex(I1["ks_enc"])
    assert session.sm.ks_mac == bytes.fromhex(I1["ks_mac"])
    assert session.cam.ca_ic == int(I1["ca_ic"], 16)
    assert verify_chip_authentication_data(
        session.cam.group, session.cam.ca_ic, _point(I1["pk_static"]), session.cam.pk_map_ic
    )


# Doc 9303 Part 11, Appendix H.2 (PACE-IM, DH on the 1024-bit MODP group of RFC 5114, AES-128)
H2 = {
    "s": "FA5B7E3E49753A0DB9178B7B9BD898C8",
    "t": "B3A6DB3C870C3E99245E0D1C06B747DE",
    "R": "A0C7C50C002061A51CC87D254EF38068607417B6EE1B36473CFB800D2D2E5FA2"
    "B6980F01105D24FAB22ACD1BFA5C8A4C093ECDFAFE6D7125D42A843E338603835CF19AFAFF75EFE2"
    "1DC5F6AA1F9AE46C25087E7368166FB08C1E4627AFED7D93570417B790FF7F747E57F432B04E1236"
    "819E0DFEF5B6E77CA4999925328182D2",
    "g": "1D7D767F11E333BCD6DBAEF40E799E7A926B96973550656FF3C830726D118D61"
    "C276CDCC61D475CF03A98E0C0E79CAEBA5BE25578BD4551D0B10903236F0B0F976852FA78EEA14EA"
    "0ACA87D1E91F688FE0DFF897BBE35A472621D343564B262F34223AE8FC59B664BFEDFA2BFE7516CA"
    "5510A6BBB633D517EC25D4E0BBAA16C2",
    "sk_ifd": "4BD0E54740F9A028E6A515BFDAF967848C4F5F5FFF65AA0915947FFD1A0DF2FA"
    "6981271BC905F3551457B7E03AC3B8066DE4AA406C1171FB43DD939C4BA16175103BA3DEE16419AA"
    "248118F90CC36A3D6F4C373652E0C3CCE7F0F1D0C5425B3600F0F0D6A67F004C8BBA33F2B4733C72"
    "52445C1DFC4F1107203F71D2EFB28161",
    "pk_ifd": "0F0CC62945A8029251FB7EF3C094E12EC68E4EF07F27CB9D9CD04C5C4250FAE0"
    "E4F8A951557E929AEB48E5C6DD47F2F5CD7C351A9BD2CD722C07EDE166770F08FFCB370262CF308D"
    "D7B07F2E0DA9CAAA1492344C852906919538C98A4BA4187E76CE9D87832386D319CE2E043C3343AE"
    "AE6EDBA1A9894DC5094D22F7FE1351D5",
    "pk_ic": "928D9A0F9DBA450F13FC859C6F290D1D36E42431138A4378500BEB4E0401854C"
    "FF111F71CB6DC1D0335807A11388CC8EAA87B07907AAD9FBA6B169AF6D8C26AF8DDDC39ADC3AD2E3"
    "FF882B84D23E9768E95A80E4746FB07A9767679FE92133B4D379935C771BD7FBED6C7BB4B1708B27"
    "5EA75679524CDC9C6A91370CC662A2F3",
    "K": "419410D6C0A17A4C07C54872CE1CBCEB0A2705C1A434C8A89A4CFE41F1D78124"
    "CA7EC52BDE7615E5345E48AB1ABB6E7D1D59A57F3174084D3CA4570397C1F62228BDFDB2DA191EA2"
    "239E2C060DBE3BBC23C2FCD0AF12E0F9E0B99FCF91FF1959011D5798B2FCBC1F14FCC24E441F4C8F"
    "9B08D977E9498560E63E7FFAB3134EA7",
    "ks_enc": "01AFC10CF87BE36D8179E87370171F07",
    "ks_mac": "23F0FBD05FD6C7B8B88F4C8309669061",
    "token_ic": "C2F04230187E1525",
    "token_ifd": "55D61977CBF5307E",
}
DH_IM_OID = oids.PACE + ".3.2"


def test_worked_example_dh_integrated_mapping() -> None:
    group = standard_group(0)
    s, t = bytes.fromhex(H2["s"]), bytes.fromhex(H2["t"])
    assert pseudo_random(s, t, group.p, CipherKind.AES, 16) == int(H2["R"], 16)
    mapped = integrated_mapping(group, s, t, CipherKind.AES, 16)
    assert mapped.generator == int(H2["g"], 16)
    sk_ifd = int(H2["sk_ifd"], 16)
    assert mapped.public_key_bytes(sk_ifd) == bytes.fromhex(H2["pk_ifd"])
    secret = mapped.agree(sk_ifd, bytes.fromhex(H2["pk_ic"]))
    assert secret == bytes.fromhex(H2["K"])
    assert derive_key(secret, KDF_ENC, CipherKind.AES, 16) == bytes.fromhex(H2["ks_enc"])
    ks_mac = derive_key(secret, KDF_MAC, CipherKind.AES, 16)
    assert ks_mac == bytes.fromhex(H2["ks_mac"])
    suite = pace_suite(DH_IM_OID)
    assert suite is not None and (suite.agreement, suite.mapping) == ("DH", "IM")
    pk_ifd, pk_ic = bytes.fromhex(H2["pk_ifd"]), bytes.fromhex(H2["pk_ic"])
    assert authentication_token(ks_mac, suite, mapped, pk_ifd) == bytes.fromhex(H2["token_ic"])
    assert authentication_token(ks_mac, suite, mapped, pk_ic) == bytes.fromhex(H2["token_ifd"])


@pytest.mark.parametrize("parameter_id", [0, 1, 2])
def test_dh_integrated_mapping_opens_the_simulated_chip(
    parameter_id: int, factory: PassportFactory
) -> None:
    image = factory.chip_image("lca-genuine")
    chip = PassportChip(_variant(image, DH_IM_OID, parameter_id, None))
    chip.power_on()
    channel = ApduChannel(chip.transmit, extended_length=True, max_response_bytes=65538)
    access = establish_access(channel, mrz_info=image.mrz_information)
    assert access.protocol == "PACE" and access.mapping == "IM"
    assert channel.command(CommandApdu(0x00, 0xA4, 0x02, 0x0C, b"\x01\x1e"), "SELECT") == b""
