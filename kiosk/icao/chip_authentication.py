"""Chip Authentication, reader side: key agreement and re-keying (ICAO 9303 Part 11 sec. 6.2).

The reader sends an ephemeral public key on the chip's static domain parameters; both sides
derive new secure messaging keys from the shared secret and restart with SSC = 0. 3DES uses
MSE:Set KAT; AES (and 3DES when asked) uses MSE:Set AT + GENERAL AUTHENTICATE.
Whether the chip really holds the private key shows only in its next correctly MACed answer:
callers must read something afterwards (the SOD or a DG) before trusting the chip.

Randomness drawn: the ephemeral private scalar.
"""

from __future__ import annotations

import logging

from cryptography.hazmat.primitives.asymmetric import dh, ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kiosk.icao import tlv
from kiosk.icao.apdu import CommandApdu
from kiosk.icao.crypto import CipherKind
from kiosk.icao.errors import UnsupportedProtocolError
from kiosk.icao.pace.common import dynamic_data, session_keys
from kiosk.icao.pace.groups import DhGroup, Group, ec_group_for_curve
from kiosk.icao.pace.oids import ca_suite, oid_contents
from kiosk.icao.rng import RandomBytes, system_random
from kiosk.icao.sm import SecureMessaging
from kiosk.icao.transport import ApduChannel

log = logging.getLogger(__name__)


def chip_key_from_public_key(
    key: ec.EllipticCurvePublicKey | dh.DHPublicKey,
) -> tuple[Group, bytes]:
    """(group, encoded public key) of a chip's static public key loaded by ``cryptography``."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve_group = ec_group_for_curve(key.curve)
        return curve_group, key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    numbers = key.public_numbers()
    params = numbers.parameter_numbers
    if params.q is None:
        raise UnsupportedProtocolError("DH Chip Authentication key without subgroup order q")
    dh_group = DhGroup("DH", params.p, params.g, params.q)
    return dh_group, dh_group.encode(numbers.y)


def perform_chip_authentication(
    channel: ApduChannel,
    protocol_oid: str,
    group: Group,
    chip_public_key: bytes,
    *,
    key_id: int | None = None,
    rng: RandomBytes = system_random,
) -> SecureMessaging:
    """Run CA on an open secure channel; the channel continues with the new session."""
    suite = ca_suite(protocol_oid)
    if suite is None:
        raise UnsupportedProtocolError(f"Chip Authentication {protocol_oid} is not supported")
    if channel.sm is None:
        raise UnsupportedProtocolError("Chip Authentication needs secure messaging first")
    sk = group.random_scalar(rng)
    public = group.public_key_bytes(sk)
    secret = group.agree(sk, chip_public_key)
    key_ref = (
        tlv.encode(0x84, key_id.to_bytes(max(1, (key_id.bit_length() + 7) // 8), "big"))
        if key_id is not None
        else b""
    )
    if suite.cipher is CipherKind.TDES:
        channel.command(
            CommandApdu(0x00, 0x22, 0x41, 0xA6, tlv.encode(0x91, public) + key_ref),
            "MSE:Set KAT",
        )
    else:
        channel.command(
            CommandApdu(
                0x00, 0x22, 0x41, 0xA4, tlv.encode(0x80, oid_contents(suite.oid)) + key_ref
            ),
            "MSE:Set AT (CA)",
        )
        channel.command(
            CommandApdu(0x00, 0x86, 0x00, 0x00, dynamic_data(0x80, public), le=256),
            "GENERAL AUTHENTICATE (CA)",
        )
    ks_enc, ks_mac = session_keys(secret, suite)
    sm = SecureMessaging(suite.cipher, ks_enc, ks_mac, 0)
    channel.start_secure_messaging(sm)
    log.info("Chip Authentication key agreement done (%s)", suite.oid)
    return sm
