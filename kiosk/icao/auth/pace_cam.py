"""Chip authentication by PACE-CAM (ICAO Doc 9303 Part 11 4.4.3.5): the chip proved, during
PACE, that it holds the private key of a public key in EF.CardSecurity. That proves anything
only once EF.CardSecurity itself is proven: signed (signed attributes, content type
id-SecurityObject) by a document signer of the document's own country that meets the Doc 9303
Part 12 profile and chains to a trusted CSCA. The result is the ``chip_authentication`` check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from kiosk.icao.auth.anchors import TrustAnchors, country_of
from kiosk.icao.auth.chain import validate_chain
from kiosk.icao.auth.cms_verify import verify_signer_info
from kiosk.icao.auth.ds_profile import document_signer_profile
from kiosk.icao.auth.public_keys import UnsupportedKeyError, load_verifying_key
from kiosk.icao.chip_authentication import chip_key_from_public_key
from kiosk.icao.lds import oids
from kiosk.icao.lds.card_security import parse_card_security
from kiosk.icao.pace.mappings import verify_chip_authentication_data
from kiosk.icao.pace.reader import CamEvidence
from models.errors import KioskError, ParseError
from models.records import CheckResult, CheckStatus

CHECK = "chip_authentication"


def _failed(reason: str, message: str) -> CheckResult:
    return CheckResult(CHECK, CheckStatus.FAILED, reason, message)


def pace_cam_check(
    files: Mapping[str, bytes],
    evidence: CamEvidence,
    anchors: TrustAnchors,
    document_country: str | None,
    now: dt.datetime,
) -> CheckResult:
    """PASSED when EF.CardSecurity is proven and the chip's CAM answer matches one of its
    keys; FAILED (possible clone) otherwise."""
    raw = files.get("EF_CardSecurity")
    if raw is None:
        return _failed("card_security_missing", "PACE-CAM without EF.CardSecurity")
    try:
        card_security = parse_card_security(raw)
    except ParseError:
        return _failed("card_security_malformed", "EF.CardSecurity could not be parsed")
    signed = card_security.signed
    if signed.content_type != oids.SECURITY_OBJECT_EAC or len(signed.signer_infos) != 1:
        return _failed("card_security_malformed", "EF.CardSecurity is no security object")
    outcome = verify_signer_info(
        signed.content_type,
        signed.content,
        signed.signer_infos[0],
        (*signed.certificates, *anchors.document_signers),
    )
    ds = outcome.certificate
    if outcome.status is not CheckStatus.PASSED or ds is None:
        return _failed("card_security_signature_invalid", "EF.CardSecurity signature invalid")
    signing_time = signed.signer_infos[0].signing_time
    profile = document_signer_profile(ds, anchors, signing_time)
    if profile is not None:
        return _failed(f"card_security_{profile.reason}", profile.message)
    if document_country is None or country_of(ds.issuer) != document_country:
        return _failed("card_security_other_country", "EF.CardSecurity signed by another state")
    chain = validate_chain(ds, anchors, signing_time or now).result
    if chain.status is not CheckStatus.PASSED:
        return _failed("card_security_chain_failed", "EF.CardSecurity's signer is not trusted")
    for key in card_security.security_infos.chip_authentication_keys:
        if key.public_key.algorithm != "ec":
            continue
        try:
            group, encoded = chip_key_from_public_key(
                load_verifying_key(key.public_key.named_spki())  # type: ignore[arg-type]
            )
        except (KioskError, UnsupportedKeyError, ValueError):
            continue
        if group.p != evidence.group.p or group.order != evidence.group.order:
            continue
        pk_ic = evidence.group.decode(encoded)
        if verify_chip_authentication_data(
            evidence.group, evidence.ca_ic, pk_ic, evidence.pk_map_ic
        ):
            return CheckResult(
                CHECK, CheckStatus.PASSED, None, "PACE-CAM: the chip holds its EF.CardSecurity key"
            )
    return _failed(
        "authentication_failed", "the chip's PACE-CAM answer matches no EF.CardSecurity key"
    )
