"""Passive Authentication (ICAO Doc 9303 Part 11, 5.1): EF.SOD signature, the document signer
to a CSCA at signing time, revocation, the hash of every data group, and DG1 against the
printed MRZ, the signer's country and the calendar."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from kiosk.icao.auth.anchors import TrustAnchors, country_of
from kiosk.icao.auth.chain import ChainOutcome, validate_chain
from kiosk.icao.auth.consistency import expiry, issuer_consistency, mrz_consistency
from kiosk.icao.auth.ds_profile import document_signer_profile, signing_time_in_future
from kiosk.icao.auth.revocation import check_revocation
from kiosk.icao.auth.sod_signature import verify_sod_signature
from kiosk.icao.lds import oids
from kiosk.icao.lds.dg1 import parse_dg1
from kiosk.icao.lds.files import parse_data_group
from kiosk.icao.lds.sod import SecurityObject, parse_sod
from models.errors import ParseError
from models.records import CheckResult, CheckStatus

log = logging.getLogger(__name__)

# Unsigned DG14 / DG15 are reported by Chip / Active Authentication (key_not_authenticated).
KEY_GROUPS = frozenset({14, 15})
MANDATORY_GROUPS = (1, 2)  # ICAO 9303 Part 10: DG1 and DG2 on every eMRTD
# Fingerprints and irises need Extended Access Control, which this inspection system does not
# perform: listed but not read is recorded as such, not as withheld.
EAC_GROUPS = frozenset({3, 4})


def _check(name: str, status: CheckStatus, reason: str | None, message: str) -> CheckResult:
    return CheckResult(name, status, reason, message)


def _not_performed(name: str, reason: str, message: str) -> CheckResult:
    return _check(name, CheckStatus.NOT_PERFORMED, reason, message)


@dataclass
class PassiveResult:
    checks: dict[str, CheckResult]
    data_groups: dict[int, str]  # DG number -> passed | failed | not_performed | not_supported
    data_group_reasons: dict[int, str] = field(default_factory=dict)
    sod: SecurityObject | None = None
    dg1_mrz: str | None = None
    missing: tuple[str, ...] = ()  # SOD-listed data groups that were not read ("DG15" ...)
    csca_country: str | None = None  # C= of the CSCA the document signer chains to

    def passed(self, name: str) -> bool:
        check = self.checks.get(name)
        return check is not None and check.status is CheckStatus.PASSED

    def proven(self, number: int) -> bool:
        """Whether DG``number`` was read, its hash matched, the SOD signature verified and
        the document signer chains to a trusted CSCA."""
        return (
            self.passed("sod_signature")
            and self.passed("chain")
            and self.data_groups.get(number) == CheckStatus.PASSED.value
        )

    def listed(self, number: int) -> bool:
        """Whether the SOD lists DG``number`` (whatever the chip answered for it)."""
        return self.sod is not None and number in self.sod.data_group_hashes


def data_group_numbers(files: Mapping[str, bytes]) -> dict[int, bytes]:
    return {
        int(name[2:]): data
        for name, data in files.items()
        if name.startswith("DG") and name[2:].isdigit() and 1 <= int(name[2:]) <= 16
    }


def _hashes(
    sod: SecurityObject, groups: dict[int, bytes], skipped: Mapping[str, str]
) -> tuple[CheckResult, dict[int, str], dict[int, str]]:
    statuses: dict[int, str] = {}
    reasons: dict[int, str] = {}
    if sod.hash_algorithm not in oids.ICAO_HASH_ALGORITHMS:
        for number in sorted(set(groups) | set(sod.data_group_hashes)):
            statuses[number], reasons[number] = "not_supported", "unsupported_hash_algorithm"
        return (
            _check(
                "hashes",
                CheckStatus.FAILED,
                "unsupported_hash_algorithm",
                "the SOD uses a hash algorithm ICAO 9303 does not allow",
            ),
            statuses,
            reasons,
        )
    failed: str | None = None
    for number in sorted(set(groups) | set(sod.data_group_hashes) | set(MANDATORY_GROUPS)):
        expected = sod.data_group_hashes.get(number)
        data = groups.get(number)
        if data is None and expected is None:
            statuses[number], reasons[number] = "failed", "mandatory_data_group_absent"
            failed = failed or "mandatory_data_group_absent"
        elif data is None and number in EAC_GROUPS:
            statuses[number], reasons[number] = "not_performed", "needs_extended_access_control"
        elif data is None:
            statuses[number] = "failed"
            reasons[number] = skipped.get(f"DG{number}", "not_read")
            failed = failed or "data_group_missing"
        elif expected is None:
            statuses[number], reasons[number] = "failed", "unsigned_data_group"
            if number not in KEY_GROUPS:
                failed = failed or "unsigned_data_group"
        elif hashlib.new(sod.hash_algorithm, data).digest() != expected:
            statuses[number], reasons[number] = "failed", "hash_mismatch"
            failed = "hash_mismatch"
        else:
            statuses[number] = "passed"
    if failed:
        bad = ", ".join(f"DG{n}" for n, s in statuses.items() if s == "failed")
        return (
            _check("hashes", CheckStatus.FAILED, failed, f"data groups not as signed: {bad}"),
            statuses,
            reasons,
        )
    return (
        _check("hashes", CheckStatus.PASSED, None, "every data group the SOD lists is as signed"),
        statuses,
        reasons,
    )


def missing_groups(sod: SecurityObject | None, groups: Mapping[int, bytes]) -> tuple[str, ...]:
    """SOD-listed data groups that were not read (DG3/DG4 apart: EAC is out of scope)."""
    if sod is None:
        return ()
    return tuple(
        f"DG{n}"
        for n in sorted(sod.data_group_hashes)
        if n not in groups and n not in EAC_GROUPS and 1 <= n <= 16
    )


def _readable(groups: dict[int, bytes]) -> CheckResult:
    for number, data in sorted(groups.items()):
        try:
            parse_data_group(number, data)
        except ParseError:
            return _check(
                "document_readable",
                CheckStatus.FAILED,
                "malformed_data_group",
                f"DG{number} is malformed",
            )
    return _check("document_readable", CheckStatus.PASSED, None, "every file read parses")


def passive_authentication(
    files: Mapping[str, bytes],
    anchors: TrustAnchors,
    *,
    printed_mrz: str | None = None,
    now: dt.datetime | None = None,
    skipped: Mapping[str, str] | None = None,
) -> PassiveResult:
    """Verify the chip files (names EF_COM, EF_SOD, DG1 ... DG16) against ``anchors``;
    ``skipped`` holds the reader's reasons for files the chip did not give."""
    now = now or dt.datetime.now(dt.UTC)
    skipped = skipped or {}
    groups = data_group_numbers(files)
    dg1_mrz = None
    dg1_state = "dg1_missing"
    if 1 in groups:
        try:
            dg1_mrz = parse_dg1(groups[1]).mrz
        except ParseError:
            dg1_mrz, dg1_state = None, "dg1_unreadable"
    checks: dict[str, CheckResult] = {
        "mrz_consistency": mrz_consistency(dg1_mrz, printed_mrz, dg1_state),
        "expiry": expiry(dg1_mrz, now.date(), dg1_state),
    }
    readable = _readable(groups)
    if "EF_COM" not in files:
        readable = _check(
            "document_readable",
            CheckStatus.FAILED,
            "ef_com_missing",
            f"EF.COM was not read ({skipped.get('EF_COM', 'not_read')})",
        )
    unusable = "the EF.SOD could not be used"
    try:
        sod = parse_sod(files["EF_SOD"]) if "EF_SOD" in files else None
    except ParseError:
        sod = None
    if sod is None:
        reason = "malformed_sod" if "EF_SOD" in files else "sod_missing"
        checks["document_readable"] = _check(
            "document_readable", CheckStatus.FAILED, reason, "EF.SOD unusable"
        )
        for name in ("sod_signature", "chain", "revocation", "hashes"):
            checks[name] = _not_performed(name, reason, unusable)
        checks["issuer_consistency"] = issuer_consistency(dg1_mrz, None, None, dg1_state)
        return PassiveResult(checks, {n: "not_performed" for n in groups}, {}, None, dg1_mrz)
    checks["document_readable"] = readable
    hashes, statuses, reasons = _hashes(sod, groups, skipped)
    missing = missing_groups(sod, groups)
    checks["hashes"] = hashes
    signature = verify_sod_signature(sod, anchors)
    checks["sod_signature"] = signature.result
    ds = signature.document_signer
    if ds is None:
        checks["chain"] = _not_performed("chain", "ds_certificate_missing", "no document signer")
        checks["revocation"] = _not_performed(
            "revocation", "ds_certificate_missing", "no document signer"
        )
        checks["issuer_consistency"] = issuer_consistency(dg1_mrz, None, None, dg1_state)
        return PassiveResult(checks, statuses, reasons, sod, dg1_mrz, missing)
    signing_time = sod.signer_infos[0].signing_time
    if signature.result.status is CheckStatus.PASSED and signing_time_in_future(signing_time, now):
        checks["sod_signature"] = _check(
            "sod_signature",
            CheckStatus.FAILED,
            "signing_time_in_future",
            "the SOD claims to be signed in the future",
        )
    moment = signing_time or now
    profile = document_signer_profile(ds, anchors, signing_time)
    chain = validate_chain(ds, anchors, moment) if profile is None else ChainOutcome(profile)
    checks["chain"] = chain.result
    if chain.path:
        checks["revocation"] = check_revocation(chain.path, anchors.crls, now)
    else:
        checks["revocation"] = _not_performed("revocation", "chain_failed", "no validated chain")
    checks["issuer_consistency"] = issuer_consistency(
        dg1_mrz, country_of(ds.subject) or country_of(ds.issuer), chain.csca_country, dg1_state
    )
    log.info("passive authentication: %s", {k: v.status.value for k, v in checks.items()})
    return PassiveResult(checks, statuses, reasons, sod, dg1_mrz, missing, chain.csca_country)
