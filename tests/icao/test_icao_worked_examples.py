"""Known-answer tests, reader side: every value of ICAO 9303 Part 11 Appendices D and G.1
(tests/data/icao/worked-examples.txt)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from kiosk.icao.apdu import CommandApdu, ResponseApdu
from kiosk.icao.bac import (
    bac_cryptogram,
    bac_key_seed,
    derive_bac_keys,
    mrz_information,
    open_bac_cryptogram,
    perform_bac,
)
from kiosk.icao.crypto import CipherKind, derive_key, pad, retail_mac
from kiosk.icao.pace import PacePassword, parse_card_access, perform_pace, standard_group
from kiosk.icao.pace.common import (
    authentication_token,
    decrypt_nonce,
    password_key,
    session_keys,
    token_input,
)
from kiosk.icao.rng import ReplayRandom
from kiosk.icao.sm import SecureMessaging
from kiosk.icao.transport import ApduChannel

H = bytes.fromhex

# --- A. BAC ---------------------------------------------------------------------------------
MRZ_INFO = "L898902C<369080619406236"
RND_IC = H("4608F91988702212")
RND_IFD = H("781723860C06C226")
K_IFD = H("0B795240CB7049B01C19B33E32804F0B")
K_IC = H("0B4F80323EB3191CB04970CB4052790B")
KS_ENC = H("979EC13B1CBFE9DCD01AB0FED307EAE5")
KS_MAC = H("F1CB1F1FB5ADF208806B89DC579DC1F8")
SSC = 0x887022120C06C226
BAC_EXCHANGE = [
    ("0084000008", "4608F919887022129000"),
    (
        "008200002872C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
        "5F1448EEA8AD90A728",
        "46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D74499000",
    ),
]
# --- B. 3DES secure messaging -----------------------------------------------------------------
SM_EXCHANGE = [
    ("00A4020C02011E", "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800",
     "990290008E08FA855A5D4C50A8ED9000", ""),
    ("00B0000004", "0CB000000D9701048E08ED6705417E96BA5500",
     "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000", "60145F01"),
    ("00B0000412", "0CB000040D9701128E082EA28A70F3C7B53500",
     "871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000",
     "04303130365F36063034303030305C026175"),
]  # fmt: skip
EF_COM = H("60145F0104303130365F36063034303030305C026175")
# --- C. PACE ECDH GM brainpoolP256r1 AES-128 -----------------------------------------------
PACE_MRZ_INFO = "T22000129364081251010318"
CARD_ACCESS = H("31143012060A04007F0007020204020202010202010D")
SK_MAP_IFD = H("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99")
SK_DH_IFD = H("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595")
PK_MAP_IFD = H(
    "047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E544552DCB6725218799115"
    "B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D"
)
PK_MAP_IC = H(
    "04824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F5730D8C879AAA9C9F73991E6"
    "1B58F4D52EB87A0A0C709A49DC63719363CCD13C54"
)
PK_DH_IFD = H(
    "042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C3556F3B3B186DF10B857B5"
    "8F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462"
)
PK_DH_IC = H(
    "049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB7764B22277A2EDDC3C265A"
    "9F018F9CB852E111B768B326904B59A0193776F094"
)
PACE_EXCHANGE = [
    ("0022C1A412800A04007F0007020204020283010184010D", "9000"),
    ("10860000027C0000", "7C12801095A3A016522EE98D01E76CB6B98B42C39000"),
    ("10860000457C438141" + PK_MAP_IFD.hex().upper() + "00",
     "7C438241" + PK_MAP_IC.hex().upper() + "9000"),
    ("10860000457C438341" + PK_DH_IFD.hex().upper() + "00",
     "7C438441" + PK_DH_IC.hex().upper() + "9000"),
    ("008600000C7C0A8508C2B0BD78D94BA86600", "7C0A86083ABB9674BCE93C089000"),
]  # fmt: skip


def scripted(exchange: list[tuple[str, str]]) -> Callable[[bytes], bytes]:
    """A transmit that checks each command byte for byte and plays the recorded answer."""
    steps = iter(exchange)

    def transmit(apdu: bytes) -> bytes:
        command, response = next(steps)
        assert apdu.hex().upper() == command
        return H(response)

    return transmit


def test_bac_key_derivation() -> None:
    # GIVEN the MRZ of the specimen passport WHEN the MRZ information and keys are derived
    info = mrz_information("L898902C", "690806", "940623")
    assert info == MRZ_INFO
    assert hashlib.sha1(info.encode()).digest() == H("239AB9CB282DAF66231DC5A4DF6BFBAEDF477565")
    seed = bac_key_seed(info)
    assert seed == H("239AB9CB282DAF66231DC5A4DF6BFBAE")
    # THEN KEnc and KMAC are the parity-adjusted values of Appendix D.2
    assert derive_bac_keys(seed) == (
        H("AB94FDECF2674FDFB9B391F85D7F76F2"),
        H("7962D9ECE03D1ACD4C76089DCE131543"),
    )


def test_bac_cryptograms() -> None:
    k_enc, k_mac = derive_bac_keys(bac_key_seed(MRZ_INFO))
    s = RND_IFD + RND_IC + K_IFD
    assert s == H("781723860C06C2264608F919887022120B795240CB7049B01C19B33E32804F0B")
    cryptogram = bac_cryptogram(k_enc, k_mac, s)
    assert cryptogram[:32] == H("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2")
    assert cryptogram[32:] == H("5F1448EEA8AD90A7")
    assert retail_mac(k_mac, pad(cryptogram[:32], 8)) == H("5F1448EEA8AD90A7")
    answer = H(BAC_EXCHANGE[1][1])[:-2]
    assert answer[32:] == H("2F2D235D074D7449")
    assert open_bac_cryptogram(k_enc, k_mac, answer) == H(
        "4608F91988702212781723860C06C2260B4F80323EB3191CB04970CB4052790B"
    )
    seed = bytes(a ^ b for a, b in zip(K_IC, K_IFD, strict=True))
    assert seed == H("0036D272F5C350ACAC50C3F572D23600")
    assert derive_bac_keys(seed) == (KS_ENC, KS_MAC)


def test_bac_mutual_authentication_reader_side() -> None:
    # GIVEN a chip that answers as in Appendix D.3 and the reader's random values
    channel = ApduChannel(scripted(BAC_EXCHANGE))
    # WHEN the reader runs BAC
    sm = perform_bac(channel, MRZ_INFO, ReplayRandom([RND_IFD, K_IFD]))
    # THEN the session keys and the send sequence counter are those of the example
    assert (sm.ks_enc, sm.ks_mac, sm.ssc) == (KS_ENC, KS_MAC, SSC)
    assert channel.sm is sm


@pytest.mark.parametrize("step", range(3))
def test_3des_secure_messaging(step: int) -> None:
    # GIVEN the BAC session of Appendix D.4 advanced to this step
    sm = SecureMessaging(CipherKind.TDES, KS_ENC, KS_MAC, SSC + 2 * step)
    plain, protected, response, data = SM_EXCHANGE[step]
    # WHEN the plain command is wrapped and the chip's answer unwrapped
    wrapped = sm.wrap(CommandApdu.parse(H(plain)))
    # THEN both match the example byte for byte
    assert wrapped.to_bytes().hex().upper() == protected
    unwrapped = sm.unwrap(ResponseApdu.parse(H(response)))
    assert unwrapped == ResponseApdu(H(data), 0x9000)


def test_3des_secure_messaging_mac_input() -> None:
    sm = SecureMessaging(CipherKind.TDES, KS_ENC, KS_MAC, SSC)
    n = H("887022120C06C2270CA4020C800000008709016375432908C044F6")
    assert retail_mac(KS_MAC, pad(n, 8)) == H("BF8B92D635FF24F8")
    assert sm.encrypt(H("887022120C06C227"), H("011E")) == H("6375432908C044F6")


def test_3des_secure_messaging_reads_ef_com() -> None:
    transmit = scripted([(protected, response) for _, protected, response, _ in SM_EXCHANGE])
    channel = ApduChannel(transmit)
    channel.start_secure_messaging(SecureMessaging(CipherKind.TDES, KS_ENC, KS_MAC, SSC))
    channel.command(CommandApdu(0, 0xA4, 2, 0x0C, H("011E")), "SELECT")
    head = channel.command(CommandApdu(0, 0xB0, 0, 0, le=4), "READ")
    rest = channel.command(CommandApdu(0, 0xB0, 0, 4, le=0x12), "READ")
    assert head + rest == EF_COM


def test_pace_values_step_by_step() -> None:
    info = parse_card_access(CARD_ACCESS)[0]
    assert (info.protocol_oid, info.version, info.parameter_id) == (
        "0.4.0.127.0.7.2.2.4.2.2",
        2,
        13,
    )
    suite = info.suite
    assert suite is not None
    password = PacePassword.from_mrz_information(PACE_MRZ_INFO)
    assert password.key_material() == H("7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD")
    kpi = password_key(password, suite)
    assert kpi == H("89DED1B26624EC1E634C1989302849DD")
    nonce = decrypt_nonce(kpi, suite, H("95A3A016522EE98D01E76CB6B98B42C3"))
    assert nonce == H("3F00C4D39D153F2B2A214A078D899B22")
    group = standard_group(13)
    sk_map = int.from_bytes(SK_MAP_IFD, "big")
    assert group.public_key_bytes(sk_map) == PK_MAP_IFD
    sk_map_ic = int.from_bytes(
        H("498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560"), "big"
    )
    assert group.public_key_bytes(sk_map_ic) == PK_MAP_IC
    shared = group.multiply(sk_map, group.decode(PK_MAP_IC))  # type: ignore[union-attr,arg-type]
    assert shared == (
        0x60332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD5,
        0x0840CA7415BAF3E43BD414D35AA4608B93A2CAF3A4E3EA4E82C9C13D03EB7181,
    )
    mapped = group.map_from_peer(int.from_bytes(nonce, "big"), sk_map, PK_MAP_IC)
    assert mapped.generator == (
        0x8CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2,
        0x8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522,
    )
    assert mapped.public_key_bytes(int.from_bytes(SK_DH_IFD, "big")) == PK_DH_IFD
    sk_dh_ic = H("107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A")
    assert mapped.public_key_bytes(int.from_bytes(sk_dh_ic, "big")) == PK_DH_IC
    secret = mapped.agree(int.from_bytes(SK_DH_IFD, "big"), PK_DH_IC)
    assert secret == H("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
    assert mapped.agree(int.from_bytes(sk_dh_ic, "big"), PK_DH_IFD) == secret
    ks_enc, ks_mac = session_keys(secret, suite)
    assert ks_enc == H("F5F0E35C0D7161EE6724EE513A0D9A7F")
    assert ks_mac == H("FE251C7858B356B24514B3BD5F4297D1")
    assert token_input(suite.oid, mapped, PK_DH_IC) == H(
        "7F494F060A04007F00070202040202864104" + PK_DH_IC.hex()[2:]
    )
    assert token_input(suite.oid, mapped, PK_DH_IFD) == H(
        "7F494F060A04007F00070202040202864104" + PK_DH_IFD.hex()[2:]
    )
    assert authentication_token(ks_mac, suite, mapped, PK_DH_IC) == H("C2B0BD78D94BA866")
    assert authentication_token(ks_mac, suite, mapped, PK_DH_IFD) == H("3ABB9674BCE93C08")
    assert derive_key(secret, 1, CipherKind.AES, 16) == ks_enc


def test_pace_reader_side_apdus() -> None:
    # GIVEN a chip that answers as in Appendix G.1 and the reader's two private keys
    channel = ApduChannel(scripted(PACE_EXCHANGE))
    info = parse_card_access(CARD_ACCESS)[0]
    rng = ReplayRandom([SK_MAP_IFD, SK_DH_IFD])
    # WHEN the reader runs PACE with the MRZ password
    sm = perform_pace(channel, PacePassword.from_mrz_information(PACE_MRZ_INFO), info, rng)
    # THEN every command matched and AES secure messaging starts with SSC 0
    assert sm.kind is CipherKind.AES
    assert sm.ks_enc == H("F5F0E35C0D7161EE6724EE513A0D9A7F")
    assert sm.ks_mac == H("FE251C7858B356B24514B3BD5F4297D1")
    assert sm.ssc == 0 and sm.block == 16
    assert rng.remaining == 0
