"""Active and Chip Authentication on a live channel, counted only with keys that Passive
Authentication proved (DG15 / DG14 listed in the SOD with a matching hash).

A clone can copy every signed file, but not the private keys; a clone that brings its own key
pair must put it in a DG14 or DG15 the SOD does not vouch for, and fails here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from asn1crypto import core, keys

from kiosk.icao.apdu import EXTENDED_MAX_LE, SHORT_MAX_LE, CommandApdu
from kiosk.icao.auth.active import CHALLENGE_BYTES, verify_active_authentication
from kiosk.icao.auth.passive import PassiveResult
from kiosk.icao.auth.public_keys import UnsupportedKeyError, load_verifying_key
from kiosk.icao.chip_authentication import chip_key_from_public_key, perform_chip_authentication
from kiosk.icao.files import FileReader
from kiosk.icao.lds import oids
from kiosk.icao.lds.dg15 import parse_dg15
from kiosk.icao.lds.security_infos import ChipAuthenticationInfo, SecurityInfos, parse_dg14
from kiosk.icao.pace.groups import DhGroup, Group, standard_group
from kiosk.icao.rng import RandomBytes, system_random
from kiosk.icao.transport import ApduChannel
from models.errors import KioskError, ParseError, ProtocolError
from models.records import CheckResult, CheckStatus

log = logging.getLogger(__name__)

AA, CA = "active_authentication", "chip_authentication"
FID_EF_COM = 0x011E


def _result(name: str, status: CheckStatus, reason: str | None, message: str) -> CheckResult:
    return CheckResult(name, status, reason, message)


def _key_gate(
    name: str, number: int, passive: PassiveResult, files: Mapping[str, bytes]
) -> CheckResult | None:
    """Why the key in DG``number`` cannot be used, or None when PA proved it. The SOD, not
    the chip, says whether the protocol is offered: a listed DG the chip withholds fails."""
    if f"DG{number}" not in files:
        if passive.listed(number):
            return _result(
                name,
                CheckStatus.FAILED,
                "data_group_withheld",
                f"the SOD lists DG{number} but the chip did not give it: possible clone",
            )
        return _result(
            name, CheckStatus.NOT_SUPPORTED, "not_offered", f"the SOD lists no DG{number}"
        )
    if passive.proven(number):
        return None
    if passive.data_groups.get(number) == "failed":
        return _result(
            name,
            CheckStatus.FAILED,
            "key_not_authenticated",
            f"the DG{number} key is not vouched for by the SOD: possible clone",
        )
    if not passive.passed("chain") or not passive.passed("sod_signature"):
        return _result(
            name,
            CheckStatus.NOT_PERFORMED,
            "chain_failed",
            f"the SOD's signer is not trusted, so the DG{number} key proves nothing",
        )
    return _result(
        name,
        CheckStatus.NOT_PERFORMED,
        "key_not_verified",
        f"Passive Authentication could not prove DG{number}, so its key proves nothing",
    )


def active_authentication(
    channel: ApduChannel, files: Mapping[str, bytes], passive: PassiveResult, rng: RandomBytes
) -> CheckResult:
    gate = _key_gate(AA, 15, passive, files)
    if gate is not None:
        return gate
    try:
        key = load_verifying_key(parse_dg15(files["DG15"]).public_key.named_spki())
    except (ParseError, UnsupportedKeyError):
        return _result(AA, CheckStatus.NOT_SUPPORTED, "unsupported_key", "DG15 key not usable")
    declared = None
    if "DG14" in files and passive.proven(14):
        try:
            info = parse_dg14(files["DG14"]).active_authentication
            declared = info.signature_algorithm if info else None
        except ParseError:
            declared = None
    challenge = rng(CHALLENGE_BYTES)
    # RSA-2048 answers 256 bytes, which under secure messaging need extended length.
    le = EXTENDED_MAX_LE if channel.extended_length else SHORT_MAX_LE
    try:
        signature = channel.command(
            CommandApdu(0x00, 0x88, 0x00, 0x00, challenge, le=le), "INTERNAL AUTHENTICATE"
        )
    except ProtocolError as exc:
        log.info("INTERNAL AUTHENTICATE failed (%s)", exc.code)
        return _result(
            AA, CheckStatus.FAILED, "no_response", "the chip refused Active Authentication"
        )
    if verify_active_authentication(key, challenge, signature, declared):
        return _result(AA, CheckStatus.PASSED, None, "the chip holds the DG15 private key")
    return _result(
        AA,
        CheckStatus.FAILED,
        "signature_invalid",
        "the chip's answer does not verify with the DG15 key: possible clone",
    )


def _dh_group(spki: bytes) -> tuple[Group, bytes]:
    info = keys.PublicKeyInfo.load(spki)
    params = core.Sequence.load(info["algorithm"]["parameters"].dump())
    p, g = (
        int(core.Integer.load(params[0].dump()).native),
        int(core.Integer.load(params[1].dump()).native),
    )
    y = int(core.Integer.load(bytes(info["public_key"].contents[1:])).native)
    for parameter_id in (0, 1, 2):
        known = standard_group(parameter_id)
        if isinstance(known, DhGroup) and known.p == p and known.generator == g:
            return known, known.encode(y)
    raise UnsupportedKeyError("DH Chip Authentication key on an unknown group")


def _chip_key(infos: SecurityInfos) -> tuple[str, Group, bytes, int | None]:
    keys_ = infos.chip_authentication_keys
    if not keys_:
        raise UnsupportedKeyError("DG14 holds no Chip Authentication key")
    protocols: list[ChipAuthenticationInfo] = infos.chip_authentication
    chosen = keys_[0]
    protocol = protocols[0] if protocols else None
    if protocol is not None and protocol.key_id is not None:
        chosen = next((k for k in keys_ if k.key_id == protocol.key_id), chosen)
    public = chosen.public_key
    if public.algorithm == "dh":
        group, encoded = _dh_group(public.spki)
        default = oids.CA_DH + ".1"
    else:
        key = load_verifying_key(public.named_spki())
        group, encoded = chip_key_from_public_key(key)  # type: ignore[arg-type]
        default = oids.CA_ECDH + ".1"
    oid = protocol.protocol if protocol is not None else default
    return oid, group, encoded, chosen.key_id


def chip_authentication(
    channel: ApduChannel, files: Mapping[str, bytes], passive: PassiveResult, rng: RandomBytes
) -> CheckResult:
    gate = _key_gate(CA, 14, passive, files)
    if gate is not None:
        return gate
    try:
        oid, group, public, key_id = _chip_key(parse_dg14(files["DG14"]))
    except (ParseError, ValueError, KeyError, TypeError) as exc:
        return _result(
            CA,
            CheckStatus.NOT_SUPPORTED,
            "unsupported_key",
            f"DG14 key not usable ({exc.__class__.__name__})",
        )
    try:
        perform_chip_authentication(channel, oid, group, public, key_id=key_id, rng=rng)
        FileReader(channel).read_file(FID_EF_COM)  # the chip must answer under the new keys
    except KioskError as exc:
        log.info("chip authentication failed (%s)", exc.code)
        return _result(
            CA,
            CheckStatus.FAILED,
            "authentication_failed",
            "the chip does not hold the DG14 private key: possible clone",
        )
    return _result(CA, CheckStatus.PASSED, None, "the chip holds the DG14 private key")


def authenticate_chip(
    channel: ApduChannel,
    files: Mapping[str, bytes],
    passive: PassiveResult,
    *,
    rng: RandomBytes = system_random,
    chip_authenticated: CheckResult | None = None,
) -> tuple[CheckResult, CheckResult]:
    """(Active Authentication, Chip Authentication) on the open channel. AA runs first: CA
    re-keys secure messaging, after which a failed CA leaves the channel unusable. With
    ``chip_authenticated`` (the PACE-CAM result) CA is not run again."""
    aa = active_authentication(channel, files, passive, rng)
    if chip_authenticated is not None:
        return aa, chip_authenticated
    ca = chip_authentication(channel, files, passive, rng)
    return aa, ca


def offline_chip_checks(
    files: Mapping[str, bytes], passive: PassiveResult
) -> tuple[CheckResult, CheckResult]:
    """AA and CA when there is no chip (verifying dumped files): not performed, unless the key
    is already known to be unauthenticated."""
    out: list[Any] = []
    for name, number in ((AA, 15), (CA, 14)):
        gate = _key_gate(name, number, passive, files)
        out.append(
            gate or _result(name, CheckStatus.NOT_PERFORMED, "no_chip", "no chip to challenge")
        )
    return out[0], out[1]
