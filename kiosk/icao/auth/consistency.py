"""Checks of DG1 against the world: the printed MRZ, the signer's country, the calendar."""

from __future__ import annotations

import datetime as dt

from kiosk.icao.auth.country_codes import alpha2_of
from models.records import CheckResult, CheckStatus


def _lines(mrz: str) -> list[str]:
    return [line.strip() for line in mrz.replace("\r", "").split("\n") if line.strip()]


def normalised_mrz(mrz: str) -> str:
    return "".join(_lines(mrz)).replace(" ", "").upper()


def _no_dg1(name: str, state: str) -> CheckResult:
    """DG1 is mandatory: without it (or unreadable) the check fails, it is never skipped."""
    return CheckResult(name, CheckStatus.FAILED, state, "DG1 was not read or is unreadable")


def mrz_consistency(
    dg1_mrz: str | None, printed_mrz: str | None, dg1_state: str = "dg1_missing"
) -> CheckResult:
    name = "mrz_consistency"
    if dg1_mrz is None:
        return _no_dg1(name, dg1_state)
    if not printed_mrz:
        return CheckResult(
            name, CheckStatus.NOT_PERFORMED, "no_printed_mrz", "no MRZ was read optically"
        )
    if normalised_mrz(dg1_mrz) != normalised_mrz(printed_mrz):
        return CheckResult(
            name,
            CheckStatus.FAILED,
            "dg1_differs_from_printed_mrz",
            "the MRZ on the chip differs from the printed one",
        )
    return CheckResult(name, CheckStatus.PASSED, None, "chip MRZ equals the printed MRZ")


def issuing_state(dg1_mrz: str) -> str:
    return "".join(_lines(dg1_mrz))[2:5]


def issuer_consistency(
    dg1_mrz: str | None,
    signer_country: str | None,
    csca_country: str | None,
    dg1_state: str = "dg1_missing",
) -> CheckResult:
    name = "issuer_consistency"
    if dg1_mrz is None:
        return _no_dg1(name, dg1_state)
    if signer_country is None:
        return CheckResult(
            name, CheckStatus.NOT_PERFORMED, "not_available", "the document signer is missing"
        )
    state = alpha2_of(issuing_state(dg1_mrz))
    if state is None:
        # XXA, UNO ... : no state's CSCA can vouch for it, so it is not authentic here
        return CheckResult(
            name,
            CheckStatus.FAILED,
            "issuer_not_a_state",
            "the issuing authority is not a state this inspection system can verify",
        )
    countries = {signer_country} | ({csca_country} if csca_country else set())
    if countries != {state}:
        return CheckResult(
            name,
            CheckStatus.FAILED,
            "issuing_state_differs_from_signer",
            "the issuing state differs from the country of the document signer or CSCA",
        )
    return CheckResult(name, CheckStatus.PASSED, None, "issuing state matches the signer")


def expiry_date(dg1_mrz: str) -> dt.date | None:
    lines = _lines(dg1_mrz)
    if len(lines) == 3 and len(lines[1]) >= 14:  # TD1
        text = lines[1][8:14]
    elif len(lines) == 2 and len(lines[1]) >= 27:  # TD2, TD3
        text = lines[1][21:27]
    else:
        return None
    if not text.isdigit():
        return None
    try:
        return dt.date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        return None


def expiry(dg1_mrz: str | None, today: dt.date, dg1_state: str = "dg1_missing") -> CheckResult:
    name = "expiry"
    if dg1_mrz is None:
        return _no_dg1(name, dg1_state)
    date = expiry_date(dg1_mrz)
    if date is None:
        return CheckResult(
            name, CheckStatus.NOT_SUPPORTED, "expiry_unreadable", "no expiry date in DG1"
        )
    if date < today:
        return CheckResult(name, CheckStatus.FAILED, "document_expired", "the document has expired")
    return CheckResult(name, CheckStatus.PASSED, None, "the document has not expired")
