"""Authenticate a document: Passive Authentication of the files read, then (with a live
chip) Active and Chip Authentication, folded into one :class:`DocumentVerdict`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from kiosk.icao.auth.anchors import TrustAnchors
from kiosk.icao.auth.chip import authenticate_chip, offline_chip_checks
from kiosk.icao.auth.pace_cam import pace_cam_check
from kiosk.icao.auth.passive import PassiveResult, passive_authentication
from kiosk.icao.auth.verdict import DocumentVerdict, verdict_from
from kiosk.icao.lds.security_infos import parse_dg14
from kiosk.icao.pace import PaceInfo, supported
from kiosk.icao.pace.reader import CamEvidence
from kiosk.icao.rng import RandomBytes, system_random
from kiosk.icao.transport import ApduChannel
from models.errors import ParseError
from models.records import CheckResult, CheckStatus


def _access_control(
    protocol: str, files: Mapping[str, bytes], passive: PassiveResult
) -> CheckResult:
    """PASSED, unless the chip was opened with BAC although its signed DG14 lists a PACE
    variant this reader runs: then EF.CardAccess was removed or spoiled (a downgrade), a chip
    anomaly. (A chip whose PACE variants are all unsupported here is rightly read by BAC.)"""
    if protocol == "BAC" and passive.proven(14):
        try:
            listed = parse_dg14(files["DG14"]).pace
        except ParseError:
            listed = []
        offers_pace = any(
            supported(PaceInfo(info.protocol, info.version, info.parameter_id)) for info in listed
        )
        if offers_pace:
            return CheckResult(
                "access_control",
                CheckStatus.FAILED,
                "pace_downgrade",
                "the signed DG14 lists PACE but the chip offered only BAC",
            )
    return CheckResult("access_control", CheckStatus.PASSED, None, f"chip opened with {protocol}")


def verify_document(
    files: Mapping[str, bytes],
    anchors: TrustAnchors,
    *,
    printed_mrz: str | None = None,
    access_protocol: str | None = None,
    channel: ApduChannel | None = None,
    rng: RandomBytes = system_random,
    now: dt.datetime | None = None,
    skipped: Mapping[str, str] | None = None,
    pace_cam: CamEvidence | None = None,
) -> tuple[DocumentVerdict, PassiveResult]:
    """The verdict on ``files`` (EF_SOD, DG1 ...). With ``channel`` (still open after
    reading) AA and CA are run on the chip; without it they are not performed. ``skipped``:
    the reader's reasons for the files the chip did not give; ``pace_cam``: what PACE-CAM
    left to verify (the chip authentication check then rests on EF.CardSecurity)."""
    passive = passive_authentication(
        files, anchors, printed_mrz=printed_mrz, now=now, skipped=skipped
    )
    checks = dict(passive.checks)
    if access_protocol is not None:
        checks["access_control"] = _access_control(access_protocol, files, passive)
    else:
        checks["access_control"] = CheckResult(
            "access_control", CheckStatus.NOT_PERFORMED, "offline", "files verified offline"
        )
    cam = None
    if pace_cam is not None:
        moment = now or dt.datetime.now(dt.UTC)
        cam = pace_cam_check(files, pace_cam, anchors, passive.csca_country, moment)
    if channel is not None:
        aa, ca = authenticate_chip(channel, files, passive, rng=rng, chip_authenticated=cam)
    else:
        aa, ca = offline_chip_checks(files, passive)
    checks[aa.name] = aa
    checks[ca.name] = ca
    verdict = verdict_from(
        checks, passive.data_groups, passive.data_group_reasons, missing=passive.missing
    )
    return verdict, passive
