"""PACE, chip side: MSE:Set AT and the four GENERAL AUTHENTICATE steps, with generic mapping,
integrated mapping (ECDH) and chip authentication mapping (ECDH, AES), whose last answer adds
the encrypted chip authentication data computed with the chip's static CA key.

Randomness drawn, in order: the nonce s (16 bytes; 32 for integrated mapping with AES-192 or
AES-256), SK.MAP.IC (not for integrated mapping), SK.DH.IC (scalar size of the group order).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hardware.sim.chip.secure_messaging import ChipSecureMessaging
from hardware.sim.chip_image import ChipImage
from kiosk.icao import tlv
from kiosk.icao.apdu import (
    SW_CONDITIONS,
    SW_OK,
    SW_REF_NOT_FOUND,
    SW_VERIFICATION_FAILED,
    SW_WRONG_DATA,
    CommandApdu,
)
from kiosk.icao.errors import AuthenticationError, TlvError
from kiosk.icao.pace.common import (
    NONCE_LENGTH,
    PacePassword,
    PasswordKind,
    authentication_token,
    dynamic_data,
    encrypt_nonce,
    parse_dynamic_data,
    password_key,
    session_keys,
)
from kiosk.icao.pace.groups import EcGroup, Group, standard_group
from kiosk.icao.pace.mappings import (
    chip_authentication_data,
    encrypt_chip_authentication_data,
    integrated_mapping,
    nonce_length,
)
from kiosk.icao.pace.oids import ProtocolSuite, pace_suite
from kiosk.icao.pace.oids import oid_contents as encode_oid
from kiosk.icao.rng import RandomBytes

Reply = tuple[bytes, int, ChipSecureMessaging | None]


@dataclass
class _Run:
    suite: ProtocolSuite
    group: Group
    password: PacePassword
    step: int = 0
    nonce: bytes = b""
    mapped: Group | None = None
    pk_ifd: bytes = b""
    pk_ic: bytes = b""
    ks_enc: bytes = b""
    ks_mac: bytes = b""
    sk_map: int = 0
    parameter_id: int = 0


class PaceResponder:
    def __init__(self, image: ChipImage, rng: RandomBytes) -> None:
        self._image = image
        self._rng = rng
        self._run: _Run | None = None

    def reset(self) -> None:
        self._run = None

    def set_at(self, command: CommandApdu) -> int:
        self._run = None
        try:
            items = tlv.decode_all(command.data)
            oid_contents = tlv.require(items, 0x80)
            reference = tlv.require(items, 0x83)
            parameter = tlv.find(items, 0x84)
        except TlvError:
            return SW_WRONG_DATA
        offered = None
        for candidate in self._image.pace:
            same_oid = encode_oid(candidate.protocol_oid) == oid_contents
            same_id = parameter is None or parameter.value == bytes([candidate.parameter_id])
            if same_oid and same_id:
                offered = candidate
        if offered is None or len(reference) != 1:
            return SW_REF_NOT_FOUND
        suite = pace_suite(offered.protocol_oid)
        if suite is None or suite.mapping not in ("GM", "IM", "CAM"):
            return SW_REF_NOT_FOUND
        if suite.mapping == "CAM" and self._cam_key(offered.parameter_id) is None:
            return SW_REF_NOT_FOUND
        if reference[0] == PasswordKind.MRZ.value and self._image.mrz_information:
            password = PacePassword.from_mrz_information(self._image.mrz_information)
        elif reference[0] == PasswordKind.CAN.value and self._image.can:
            password = PacePassword.from_can(self._image.can)
        else:
            return SW_REF_NOT_FOUND
        group = standard_group(offered.parameter_id)
        self._run = _Run(suite, group, password, parameter_id=offered.parameter_id)
        return SW_OK

    def _cam_key(self, parameter_id: int) -> int | None:
        """The static CA private scalar on the PACE curve (PACE-CAM), or None."""
        group = standard_group(parameter_id)
        for der in self._image.ca_private_keys.values():
            key = serialization.load_der_private_key(der, password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(group, EcGroup):
                continue
            numbers = key.private_numbers()
            point = (numbers.public_numbers.x, numbers.public_numbers.y)
            if group.on_curve(point) and key.curve.key_size == group.order.bit_length():
                return int(numbers.private_value)
        return None

    def general_authenticate(self, command: CommandApdu) -> Reply:
        run = self._run
        if run is None:
            return b"", SW_CONDITIONS, None
        chained = bool(command.cla & 0x10)
        if chained != (run.step < 3):
            self._run = None
            return b"", SW_CONDITIONS, None
        try:
            return self._step(run, command.data)
        except (AuthenticationError, TlvError):
            self._run = None
            return b"", SW_WRONG_DATA, None

    def _step(self, run: _Run, data: bytes) -> Reply:
        if run.step == 0:
            if tlv.decode_one(data, 0x7C).value:
                return b"", SW_WRONG_DATA, None
            length = NONCE_LENGTH
            if run.suite.mapping == "IM":
                length = nonce_length(run.suite.cipher, run.suite.key_length)
            run.nonce = self._rng(length)
            encrypted = encrypt_nonce(password_key(run.password, run.suite), run.suite, run.nonce)
            run.step = 1
            return dynamic_data(0x80, encrypted), SW_OK, None
        if run.step == 1 and run.suite.mapping == "IM":
            t = parse_dynamic_data(data, 0x81)
            suite = run.suite
            run.mapped = integrated_mapping(run.group, run.nonce, t, suite.cipher, suite.key_length)
            run.step = 2
            return dynamic_data(0x82, b""), SW_OK, None
        if run.step == 1:
            peer = parse_dynamic_data(data, 0x81)
            sk_map = run.group.random_scalar(self._rng)
            run.sk_map = sk_map
            pk_map = run.group.public_key_bytes(sk_map)
            if peer == pk_map:
                raise AuthenticationError("mapping keys equal")
            run.mapped = run.group.map_from_peer(int.from_bytes(run.nonce, "big"), sk_map, peer)
            run.step = 2
            return dynamic_data(0x82, pk_map), SW_OK, None
        if run.step == 2:
            assert run.mapped is not None
            run.pk_ifd = parse_dynamic_data(data, 0x83)
            sk_dh = run.mapped.random_scalar(self._rng)
            run.pk_ic = run.mapped.public_key_bytes(sk_dh)
            if run.pk_ic == run.pk_ifd:
                raise AuthenticationError("ephemeral keys equal")
            secret = run.mapped.agree(sk_dh, run.pk_ifd)
            run.ks_enc, run.ks_mac = session_keys(secret, run.suite)
            run.step = 3
            return dynamic_data(0x84, run.pk_ic), SW_OK, None
        assert run.mapped is not None
        token = parse_dynamic_data(data, 0x85)
        expected = authentication_token(run.ks_mac, run.suite, run.mapped, run.pk_ic)
        self._run = None
        if not hmac.compare_digest(token, expected):
            return b"", SW_VERIFICATION_FAILED, None
        answer = authentication_token(run.ks_mac, run.suite, run.mapped, run.pk_ifd)
        sm = ChipSecureMessaging(run.suite.cipher, run.ks_enc, run.ks_mac, 0)
        data = dynamic_data(0x86, answer)
        if run.suite.mapping == "CAM":
            assert isinstance(run.group, EcGroup)
            sk_ic = self._cam_key(run.parameter_id)
            assert sk_ic is not None
            ca_ic = chip_authentication_data(run.group, sk_ic, run.sk_map)
            encrypted = encrypt_chip_authentication_data(run.ks_enc, run.group, ca_ic)
            data = tlv.encode(0x7C, tlv.encode(0x86, answer) + tlv.encode(0x8A, encrypted))
        return data, SW_OK, sm

    def _parameter_id(self, run: _Run) -> int:
        return next(
            p.parameter_id for p in self._image.pace if pace_suite(p.protocol_oid) == run.suite
        )
