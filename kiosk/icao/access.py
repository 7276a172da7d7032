"""Access control: PACE when EF.CardAccess offers a supported variant, otherwise BAC.

This is what a reader at a gate does with a mix of old (BAC-only) and new passports
(ICAO 9303 Part 11 section 4.2 and Part 10 section 3.11).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kiosk.icao.bac import perform_bac
from kiosk.icao.errors import AccessDeniedError, ApduError, SecurityInfoError, TlvError
from kiosk.icao.files import EMRTD_AID, FileReader
from kiosk.icao.pace import PaceInfo, PacePassword, parse_card_access, supported
from kiosk.icao.pace.reader import CamEvidence, run_pace
from kiosk.icao.rng import RandomBytes, system_random
from kiosk.icao.sm import SecureMessaging
from kiosk.icao.transport import ApduChannel
from models.errors import ParseError

log = logging.getLogger(__name__)

SFI_CARD_ACCESS = 0x1C
SFI_CARD_SECURITY = 0x1D  # in the master file, readable once PACE succeeded
MAX_CARD_SECURITY_BYTES = 64 * 1024
# EF.CardAccess holds a few SecurityInfos (well under 1 KB); it is read before any secure
# messaging, so a larger claim is refused rather than read APDU after APDU.
MAX_CARD_ACCESS_BYTES = 16 * 1024


@dataclass(frozen=True)
class AccessResult:
    protocol: str  # "PACE" or "BAC"
    sm: SecureMessaging
    pace_info: PaceInfo | None
    card_access: bytes | None
    mapping: str | None = None  # GM | IM | CAM when PACE
    cam: CamEvidence | None = None  # PACE-CAM: to verify against EF.CardSecurity
    card_security: bytes | None = None


def read_card_access(channel: ApduChannel) -> bytes | None:
    """EF.CardAccess read by short EF identifier in the master file; None when absent."""
    try:
        return FileReader(channel).read_file(sfi=SFI_CARD_ACCESS, max_bytes=MAX_CARD_ACCESS_BYTES)
    except (ApduError, ParseError) as exc:
        log.info("no EF.CardAccess (%s)", exc.code)
        return None


MAPPING_PREFERENCE = {"CAM": 2, "GM": 1, "IM": 0}  # CAM also authenticates the chip


def _preference(info: PaceInfo) -> tuple[int, int, int, int]:
    suite = info.suite
    assert suite is not None
    return (
        MAPPING_PREFERENCE.get(suite.mapping or "", 0),
        suite.agreement == "ECDH",
        suite.cipher.value == "AES",
        suite.key_length,
    )


def choose_pace(infos: list[PaceInfo]) -> PaceInfo | None:
    usable = [info for info in infos if supported(info)]
    return max(usable, key=_preference) if usable else None


def establish_access(
    channel: ApduChannel,
    *,
    mrz_info: str | None = None,
    can: str | None = None,
    rng: RandomBytes = system_random,
) -> AccessResult:
    """Open the chip with PACE (MRZ or CAN) or BAC (MRZ) and select the eMRTD application."""
    if mrz_info is None and can is None:
        raise ValueError("give the MRZ information or the CAN")
    card_access = read_card_access(channel)
    info: PaceInfo | None = None
    if card_access is not None:
        try:
            info = choose_pace(parse_card_access(card_access))
        except (SecurityInfoError, TlvError) as exc:
            log.warning("EF.CardAccess unusable (%s); falling back to BAC", exc.code)
    reader = FileReader(channel)
    if info is not None:
        if can is not None:
            password = PacePassword.from_can(can)
        else:
            assert mrz_info is not None
            password = PacePassword.from_mrz_information(mrz_info)
        session = run_pace(channel, password, info, rng)
        card_security = None
        if session.cam is not None:
            try:
                card_security = reader.read_file(
                    sfi=SFI_CARD_SECURITY, max_bytes=MAX_CARD_SECURITY_BYTES
                )
            except ApduError as exc:  # protected "not found": the CAM check will fail
                log.info("no EF.CardSecurity after PACE-CAM (%s)", exc.code)
        reader.select_application(EMRTD_AID)
        return AccessResult(
            "PACE", session.sm, info, card_access, session.mapping, session.cam, card_security
        )
    if mrz_info is None:
        raise AccessDeniedError("this chip offers only BAC, which needs the MRZ, not the CAN")
    reader.select_application(EMRTD_AID)
    sm = perform_bac(channel, mrz_info, rng)
    return AccessResult("BAC", sm, None, card_access)
