"""Authenticate a document: Passive Authentication of the files read, then (with a live
chip) Active and Chip Authentication, folded into one :class:`DocumentVerdict`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from kiosk.icao.auth.anchors import TrustAnchors
from kiosk.icao.auth.chip import authenticate_chip, offline_chip_checks
from kiosk.icao.auth.passive import PassiveResult, passive_authentication
from kiosk.icao.auth.verdict import DocumentVerdict, verdict_from
from kiosk.icao.rng import RandomBytes, system_random
from kiosk.icao.transport import ApduChannel
from models.records import CheckResult, CheckStatus


def verify_document(
    files: Mapping[str, bytes],
    anchors: TrustAnchors,
    *,
    printed_mrz: str | None = None,
    access_protocol: str | None = None,
    channel: ApduChannel | None = None,
    rng: RandomBytes = system_random,
    now: dt.datetime | None = None,
) -> tuple[DocumentVerdict, PassiveResult]:
    """The verdict on ``files`` (EF_SOD, DG1 ...). With ``channel`` (still open after
    reading) AA and CA are run on the chip; without it they are not performed."""
    passive = passive_authentication(files, anchors, printed_mrz=printed_mrz, now=now)
    checks = dict(passive.checks)
    if access_protocol is not None:
        checks["access_control"] = CheckResult(
            "access_control", CheckStatus.PASSED, None, f"chip opened with {access_protocol}"
        )
    else:
        checks["access_control"] = CheckResult(
            "access_control", CheckStatus.NOT_PERFORMED, "offline", "files verified offline"
        )
    if channel is not None:
        aa, ca = authenticate_chip(channel, files, passive, rng=rng)
    else:
        aa, ca = offline_chip_checks(files, passive)
    checks[aa.name] = aa
    checks[ca.name] = ca
    return verdict_from(checks, passive.data_groups, passive.data_group_reasons), passive
