"""PACE, reader side (ICAO 9303 Part 11 section 4.4): generic mapping over ECDH and DH,
integrated mapping and chip authentication mapping over ECDH (:mod:`kiosk.icao.pace.mappings`).

Randomness drawn, in order: SK.MAP.IFD (generic and chip authentication mapping) or the nonce
t (integrated mapping, key-length bytes), then SK.DH.IFD (``scalar_size`` bytes of the group
order; values out of range are drawn again).
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from kiosk.icao.apdu import CommandApdu, ResponseApdu
from kiosk.icao.errors import (
    AccessDeniedError,
    ApduError,
    AuthenticationError,
    UnsupportedProtocolError,
)
from kiosk.icao.pace.card_access import PaceInfo
from kiosk.icao.pace.common import (
    PacePassword,
    authentication_token,
    decrypt_nonce,
    dynamic_data,
    mse_set_at_data,
    parse_dynamic_data,
    password_key,
    session_keys,
)
from kiosk.icao.pace.groups import EcGroup, Group, Point, standard_group
from kiosk.icao.pace.mappings import decrypt_chip_authentication_data, integrated_mapping
from kiosk.icao.pace.oids import ProtocolSuite
from kiosk.icao.rng import RandomBytes, system_random
from kiosk.icao.sm import SecureMessaging
from kiosk.icao.transport import ApduChannel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CamEvidence:
    """What PACE-CAM leaves to verify once EF.CardSecurity is proven: PK_Map,IC = CA_IC *
    PK_IC on the standard domain parameters."""

    group: EcGroup
    pk_map_ic: Point
    ca_ic: int


@dataclass(frozen=True)
class PaceSession:
    sm: SecureMessaging
    mapping: str  # GM | IM | CAM
    cam: CamEvidence | None = None


def supported(info: PaceInfo) -> bool:
    """Whether this implementation can run the PACE variant ``info`` announces."""
    suite = info.suite
    if suite is None or suite.mapping not in ("GM", "IM", "CAM") or info.parameter_id is None:
        return False
    try:
        group = standard_group(info.parameter_id)
    except UnsupportedProtocolError:
        return False
    if suite.mapping == "GM":
        return True
    if not isinstance(group, EcGroup):
        return suite.mapping == "IM"  # DH integrated mapping; CAM is ECDH only
    # the ECDH IM point encoding needs p = 3 mod 4
    return suite.mapping == "CAM" or group.p % 4 == 3


def _general_authenticate(channel: ApduChannel, data: bytes, *, last: bool, step: str) -> bytes:
    command = CommandApdu(0x00 if last else 0x10, 0x86, 0x00, 0x00, data, le=256)
    response: ResponseApdu = channel.send(command)
    if response.ok:
        return response.data
    if response.sw1 == 0x63 or response.sw in (0x6982, 0x6983, 0x6984, 0x6300):
        raise AccessDeniedError(
            f"PACE refused at {step}: the password (MRZ or CAN) does not match this chip"
        ) from ApduError(sw=response.sw)
    raise AuthenticationError(f"PACE {step} failed") from ApduError(sw=response.sw)


def perform_pace(
    channel: ApduChannel,
    password: PacePassword,
    info: PaceInfo,
    rng: RandomBytes = system_random,
) -> SecureMessaging:
    """Run PACE; start and return secure messaging on ``channel``."""
    return run_pace(channel, password, info, rng).sm


def run_pace(
    channel: ApduChannel,
    password: PacePassword,
    info: PaceInfo,
    rng: RandomBytes = system_random,
) -> PaceSession:
    """Run PACE with the mapping ``info`` names; start secure messaging on ``channel``."""
    suite = info.suite
    if suite is None or not supported(info):
        raise UnsupportedProtocolError(f"PACE variant {info.protocol_oid} is not supported")
    assert info.parameter_id is not None
    group = standard_group(info.parameter_id)
    response = channel.send(
        CommandApdu(
            0x00, 0x22, 0xC1, 0xA4, mse_set_at_data(suite.oid, password.kind, info.parameter_id)
        )
    )
    if response.sw != 0x9000 and response.sw1 != 0x63:
        raise UnsupportedProtocolError("chip refused MSE:Set AT for PACE") from ApduError(
            sw=response.sw
        )

    # 1. encrypted nonce
    answer = _general_authenticate(channel, dynamic_data(0, b""), last=False, step="nonce")
    nonce = decrypt_nonce(password_key(password, suite), suite, parse_dynamic_data(answer, 0x80))
    # 2. mapping
    pk_map_ic = b""
    if suite.mapping == "IM":
        t = rng(suite.key_length)
        _general_authenticate(channel, dynamic_data(0x81, t), last=False, step="mapping")
        mapped: Group = integrated_mapping(group, nonce, t, suite.cipher, suite.key_length)
    else:
        sk_map, _pk_map, pk_map_ic = _exchange_keys(channel, group, rng, 0x81, "mapping")
        mapped = group.map_from_peer(int.from_bytes(nonce, "big"), sk_map, pk_map_ic)
    # 3. key agreement on the mapped generator
    sk_dh, pk_dh_bytes, pk_dh_ic_bytes = _exchange_keys(channel, mapped, rng, 0x83, "key agreement")
    secret = mapped.agree(sk_dh, pk_dh_ic_bytes)
    sm, answer = _mutual_authentication(channel, suite, mapped, secret, pk_dh_bytes, pk_dh_ic_bytes)
    cam = None
    if suite.mapping == "CAM":
        assert isinstance(group, EcGroup)
        encrypted = parse_dynamic_data(answer, 0x8A)
        ca_ic = decrypt_chip_authentication_data(sm.ks_enc, encrypted)
        cam = CamEvidence(group, group.decode(pk_map_ic), ca_ic)
    channel.start_secure_messaging(sm)
    log.info("PACE established (%s, parameter id %d)", suite.oid, info.parameter_id)
    return PaceSession(sm, suite.mapping or "GM", cam)


def _exchange_keys(
    channel: ApduChannel, group: Group, rng: RandomBytes, tag: int, step: str
) -> tuple[int, bytes, bytes]:
    """(own private key, own public key, the chip's public key) of one ephemeral exchange;
    the chip answers in tag + 1 and must not echo the reader's key."""
    private = group.random_scalar(rng)
    public = group.public_key_bytes(private)
    answer = _general_authenticate(channel, dynamic_data(tag, public), last=False, step=step)
    peer = parse_dynamic_data(answer, tag + 1)
    if peer == public:
        raise AuthenticationError(f"PACE: chip echoed the key at {step}")
    return private, public, peer


def _mutual_authentication(
    channel: ApduChannel,
    suite: ProtocolSuite,
    group: Group,
    secret: bytes,
    pk_ifd: bytes,
    pk_ic: bytes,
) -> tuple[SecureMessaging, bytes]:
    ks_enc, ks_mac = session_keys(secret, suite)
    token = authentication_token(ks_mac, suite, group, pk_ic)
    answer = _general_authenticate(
        channel, dynamic_data(0x85, token), last=True, step="mutual authentication"
    )
    expected = authentication_token(ks_mac, suite, group, pk_ifd)
    if not hmac.compare_digest(parse_dynamic_data(answer, 0x86), expected):
        raise AuthenticationError("PACE: the chip's authentication token is wrong")
    return SecureMessaging(suite.cipher, ks_enc, ks_mac, 0), answer
