"""Known-answer tests, chip side: the emulator answers the worked examples of ICAO 9303 Part 11
(tests/data/icao/worked-examples.txt) byte for byte when given the same random values."""

from __future__ import annotations

from hardware.sim.chip import PassportChip
from hardware.sim.chip_image import ChipImage, PaceParameters
from kiosk.icao.rng import ReplayRandom

H = bytes.fromhex

EF_COM = H("60145F0104303130365F36063034303030305C026175")
BAC_AND_SM = [
    ("0084000008", "4608F919887022129000"),
    ("008200002872C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
     "5F1448EEA8AD90A728",
     "46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D7449"
     "9000"),
    ("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800",
     "990290008E08FA855A5D4C50A8ED9000"),
    ("0CB000000D9701048E08ED6705417E96BA5500",
     "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"),
    ("0CB000040D9701128E082EA28A70F3C7B53500",
     "871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D74"
     "9000"),
]  # fmt: skip

PK_MAP_IFD = (
    "047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E544552DCB6725218799115"
    "B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D"
)
PK_MAP_IC = (
    "04824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F5730D8C879AAA9C9F73991E6"
    "1B58F4D52EB87A0A0C709A49DC63719363CCD13C54"
)
PK_DH_IFD = (
    "042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C3556F3B3B186DF10B857B5"
    "8F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462"
)
PK_DH_IC = (
    "049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB7764B22277A2EDDC3C265A"
    "9F018F9CB852E111B768B326904B59A0193776F094"
)
PACE = [
    ("0022C1A412800A04007F0007020204020283010184010D", "9000"),
    ("10860000027C0000", "7C12801095A3A016522EE98D01E76CB6B98B42C39000"),
    ("10860000457C438141" + PK_MAP_IFD + "00", "7C438241" + PK_MAP_IC + "9000"),
    ("10860000457C438341" + PK_DH_IFD + "00", "7C438441" + PK_DH_IC + "9000"),
    ("008600000C7C0A8508C2B0BD78D94BA86600", "7C0A86083ABB9674BCE93C089000"),
]


def test_emulator_answers_bac_and_3des_secure_messaging() -> None:
    # GIVEN the specimen chip with the chip's random values of Appendix D
    rng = ReplayRandom([H("4608F91988702212"), H("0B4F80323EB3191CB04970CB4052790B")])
    image = ChipImage(
        application_files={0x011E: EF_COM}, mrz_information="L898902C<369080619406236"
    )
    chip = PassportChip(image, rng=rng)
    chip.power_on()
    assert chip.transmit(H("00A4040C07A0000002471001")) == H("9000")
    # WHEN the reader's commands of Appendices D.3 and D.4 arrive
    # THEN the chip answers with exactly the example's responses
    for command, response in BAC_AND_SM:
        assert chip.transmit(H(command)).hex().upper() == response
    assert rng.remaining == 0


def test_emulator_answers_pace_generic_mapping() -> None:
    # GIVEN the chip of Appendix G.1: nonce s, SK.MAP.IC and SK.DH.IC
    rng = ReplayRandom(
        [
            H("3F00C4D39D153F2B2A214A078D899B22"),
            H("498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560"),
            H("107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A"),
        ]
    )
    image = ChipImage(
        application_files={0x011E: EF_COM},
        master_files={0x011C: H("31143012060A04007F0007020204020202010202010D")},
        mrz_information="T22000129364081251010318",
        bac=False,
        pace=[PaceParameters("0.4.0.127.0.7.2.2.4.2.2", 13)],
    )
    chip = PassportChip(image, rng=rng)
    chip.power_on()
    # WHEN the reader's commands of the example arrive THEN the answers match byte for byte
    for command, response in PACE:
        assert chip.transmit(H(command)).hex().upper() == response
    # AND AES secure messaging is on with SSC 0
    assert chip.sm is not None and chip.sm.ssc == 0 and chip.access_granted


def test_emulator_session_after_bac_is_the_worked_example_session() -> None:
    # GIVEN the specimen chip with the chip's random values of Appendix D.3
    rng = ReplayRandom([H("4608F91988702212"), H("0B4F80323EB3191CB04970CB4052790B")])
    image = ChipImage(
        application_files={0x011E: EF_COM}, mrz_information="L898902C<369080619406236"
    )
    chip = PassportChip(image, rng=rng)
    chip.power_on()
    chip.transmit(H("00A4040C07A0000002471001"))
    # WHEN GET CHALLENGE and EXTERNAL AUTHENTICATE of the example arrive
    for command, _response in BAC_AND_SM[:2]:
        chip.transmit(H(command))
    # THEN the chip holds KSEnc, KSMAC and the SSC of Appendix D.3, with 3DES
    assert chip.sm is not None and chip.access_granted
    assert chip.sm.kind.value == "3DES"
    assert chip.sm.ks_enc.hex().upper() == "979EC13B1CBFE9DCD01AB0FED307EAE5"
    assert chip.sm.ks_mac.hex().upper() == "F1CB1F1FB5ADF208806B89DC579DC1F8"
    assert chip.sm.ssc == 0x887022120C06C226


def test_emulator_refuses_the_bac_example_with_another_mrz() -> None:
    # GIVEN a chip personalised with another document number, same random values
    rng = ReplayRandom([H("4608F91988702212"), H("0B4F80323EB3191CB04970CB4052790B")])
    image = ChipImage(
        application_files={0x011E: EF_COM}, mrz_information="L898902D<769080619406236"
    )
    chip = PassportChip(image, rng=rng)
    chip.power_on()
    chip.transmit(H("00A4040C07A0000002471001"))
    chip.transmit(H(BAC_AND_SM[0][0]))
    # WHEN the example's EXTERNAL AUTHENTICATE arrives THEN it is refused, nothing opens
    assert chip.transmit(H(BAC_AND_SM[1][0]))[-2:] == H("6300")
    assert chip.sm is None and not chip.access_granted
    assert chip.transmit(H("00B0000004")) == H("6982")


def test_emulator_session_after_pace_is_the_worked_example_session() -> None:
    # GIVEN the chip of Appendix G.1 after the example's exchange
    rng = ReplayRandom(
        [
            H("3F00C4D39D153F2B2A214A078D899B22"),
            H("498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560"),
            H("107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A"),
        ]
    )
    image = ChipImage(
        application_files={0x011E: EF_COM},
        master_files={0x011C: H("31143012060A04007F0007020204020202010202010D")},
        mrz_information="T22000129364081251010318",
        bac=False,
        pace=[PaceParameters("0.4.0.127.0.7.2.2.4.2.2", 13)],
    )
    chip = PassportChip(image, rng=rng)
    chip.power_on()
    for command, _response in PACE:
        chip.transmit(H(command))
    # THEN its session keys are KSEnc and KSMAC of Appendix G.1, AES with a 16-byte SSC of 0
    assert chip.sm is not None
    assert chip.sm.kind.value == "AES"
    assert chip.sm.ks_enc.hex().upper() == "F5F0E35C0D7161EE6724EE513A0D9A7F"
    assert chip.sm.ks_mac.hex().upper() == "FE251C7858B356B24514B3BD5F4297D1"
    assert chip.sm.ssc == 0 and chip.sm.block == 16
