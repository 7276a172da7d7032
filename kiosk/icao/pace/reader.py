"""PACE, reader side, with generic mapping over ECDH and DH (ICAO 9303 Part 11 section 4.4).

Randomness drawn, in order: SK.MAP.IFD, then SK.DH.IFD (each ``scalar_size`` bytes of the
group order; values out of range are drawn again).
"""

from __future__ import annotations

import hmac
import logging

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
from kiosk.icao.pace.groups import Group, standard_group
from kiosk.icao.pace.oids import ProtocolSuite
from kiosk.icao.rng import RandomBytes, system_random
from kiosk.icao.sm import SecureMessaging
from kiosk.icao.transport import ApduChannel

log = logging.getLogger(__name__)


def supported(info: PaceInfo) -> bool:
    """Whether this implementation can run the PACE variant ``info`` announces."""
    suite = info.suite
    if suite is None or suite.mapping != "GM" or info.parameter_id is None:
        return False
    try:
        standard_group(info.parameter_id)
    except UnsupportedProtocolError:
        return False
    return True


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
    """Run PACE with generic mapping; start and return secure messaging on ``channel``."""
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
    # 2. generic mapping
    sk_map = group.random_scalar(rng)
    pk_map = group.public_key_bytes(sk_map)
    answer = _general_authenticate(channel, dynamic_data(0x81, pk_map), last=False, step="mapping")
    pk_map_ic = parse_dynamic_data(answer, 0x82)
    if pk_map_ic == pk_map:
        raise AuthenticationError("PACE: chip echoed the mapping key")
    mapped = group.map_from_peer(int.from_bytes(nonce, "big"), sk_map, pk_map_ic)
    # 3. key agreement on the mapped generator
    sk_dh = mapped.random_scalar(rng)
    pk_dh_bytes = mapped.public_key_bytes(sk_dh)
    answer = _general_authenticate(
        channel, dynamic_data(0x83, pk_dh_bytes), last=False, step="key agreement"
    )
    pk_dh_ic_bytes = parse_dynamic_data(answer, 0x84)
    if pk_dh_ic_bytes == pk_dh_bytes:
        raise AuthenticationError("PACE: chip echoed the ephemeral key")
    secret = mapped.agree(sk_dh, pk_dh_ic_bytes)
    sm = _mutual_authentication(channel, suite, mapped, secret, pk_dh_bytes, pk_dh_ic_bytes)
    channel.start_secure_messaging(sm)
    log.info("PACE established (%s, parameter id %d)", suite.oid, info.parameter_id)
    return sm


def _mutual_authentication(
    channel: ApduChannel,
    suite: ProtocolSuite,
    group: Group,
    secret: bytes,
    pk_ifd: bytes,
    pk_ic: bytes,
) -> SecureMessaging:
    ks_enc, ks_mac = session_keys(secret, suite)
    token = authentication_token(ks_mac, suite, group, pk_ic)
    answer = _general_authenticate(
        channel, dynamic_data(0x85, token), last=True, step="mutual authentication"
    )
    expected = authentication_token(ks_mac, suite, group, pk_ifd)
    if not hmac.compare_digest(parse_dynamic_data(answer, 0x86), expected):
        raise AuthenticationError("PACE: the chip's authentication token is wrong")
    return SecureMessaging(suite.cipher, ks_enc, ks_mac, 0)
