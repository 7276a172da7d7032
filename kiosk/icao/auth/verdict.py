"""One verdict per document: a status, reason code and message per check, and whether the
document is authentic. This is what the officer sees.

``authentic``: access control did not fail (it is not performed for dumped files); the SOD
signature, the chain and the data group hashes passed; revocation, Active and Chip
Authentication, MRZ and issuer consistency and readability did not fail. Expiry is policy,
not authenticity: ``valid`` adds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiosk.icao.errors import AccessDeniedError, SecureMessagingError, SmDataObjectsError
from models.errors import DeviceError, KioskError
from models.records import CheckResult, CheckStatus

CHECKS = (
    "access_control",
    "document_readable",
    "sod_signature",
    "chain",
    "revocation",
    "hashes",
    "active_authentication",
    "chip_authentication",
    "mrz_consistency",
    "issuer_consistency",
    "expiry",
)
MUST_PASS = ("sod_signature", "chain", "hashes")
# access_control is not_performed when verifying files dumped earlier; it must not fail.
MUST_NOT_FAIL = (
    "access_control",
    "document_readable",
    "revocation",
    "active_authentication",
    "chip_authentication",
    "mrz_consistency",
    "issuer_consistency",
)


@dataclass(frozen=True)
class DocumentVerdict:
    checks: dict[str, CheckResult]
    data_groups: dict[str, str] = field(default_factory=dict)  # "DG1" -> passed | failed ...
    data_group_reasons: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()  # data groups the SOD lists that were not read

    def status(self, name: str) -> CheckStatus:
        check = self.checks.get(name)
        return check.status if check is not None else CheckStatus.NOT_PERFORMED

    def proven(self, data_group: str) -> bool:
        """Whether ``data_group`` ("DG2") is as the issuer signed it: SOD signature and chain
        passed and its hash matched. Only then may its content be decoded (the chip photo)."""
        return (
            self.status("sod_signature") is CheckStatus.PASSED
            and self.status("chain") is CheckStatus.PASSED
            and self.data_groups.get(data_group) == CheckStatus.PASSED.value
        )

    @property
    def authentic(self) -> bool:
        return all(self.status(n) is CheckStatus.PASSED for n in MUST_PASS) and not any(
            self.status(n) is CheckStatus.FAILED for n in MUST_NOT_FAIL
        )

    @property
    def valid(self) -> bool:
        """Authentic and not expired."""
        return self.authentic and self.status("expiry") is not CheckStatus.FAILED

    @property
    def failed(self) -> dict[str, str | None]:
        """Failed checks and their reasons, in the order of :data:`CHECKS`."""
        return {n: self.checks[n].reason for n in CHECKS if self.status(n) is CheckStatus.FAILED}

    def to_json(self) -> dict[str, Any]:
        checks: dict[str, Any] = {}
        for name in CHECKS:
            check = self.checks.get(name) or CheckResult(name, CheckStatus.NOT_PERFORMED)
            checks[name] = {
                "status": check.status.value,
                "reason": check.reason,
                "message": check.message,
            }
        checks["hashes"].update(self.data_groups)
        checks["hashes"]["data_group_reasons"] = dict(self.data_group_reasons)
        return {
            "authentic": self.authentic,
            "valid": self.valid,
            "checks": checks,
            "missing": list(self.missing),
        }


def _filled(checks: dict[str, CheckResult]) -> dict[str, CheckResult]:
    out = dict(checks)
    for name in CHECKS:
        out.setdefault(name, CheckResult(name, CheckStatus.NOT_PERFORMED, "not_reached", ""))
    return out


def verdict_from(
    checks: dict[str, CheckResult],
    data_groups: dict[int, str] | None = None,
    data_group_reasons: dict[int, str] | None = None,
    *,
    missing: tuple[str, ...] = (),
) -> DocumentVerdict:
    return DocumentVerdict(
        _filled(checks),
        {f"DG{n}": s for n, s in sorted((data_groups or {}).items())},
        {f"DG{n}": r for n, r in sorted((data_group_reasons or {}).items())},
        tuple(missing),
    )


def failed_at(check: str, reason: str, message: str) -> DocumentVerdict:
    """The verdict when the document could not even be read (access denied, chip silent)."""
    return verdict_from({check: CheckResult(check, CheckStatus.FAILED, reason, message)})


def read_failure(exc: KioskError, file_name: str | None = None) -> DocumentVerdict:
    """The verdict when opening or reading the chip failed with ``exc`` (while reading
    ``file_name``, when known)."""
    if isinstance(exc, AccessDeniedError):
        return failed_at("access_control", "access_denied", "the chip refused the MRZ or CAN")
    if isinstance(exc, SecureMessagingError | SmDataObjectsError):
        # an unprotected or unverifiable answer once secure messaging was up
        return failed_at(
            "document_readable",
            "secure_messaging_dropped",
            "the chip's answer broke secure messaging: chip anomaly",
        )
    if isinstance(exc, DeviceError):
        return failed_at("document_readable", "chip_not_responding", "the chip stopped answering")
    if file_name == "EF_SOD":
        return failed_at("document_readable", "malformed_sod", "EF.SOD could not be read whole")
    if file_name is not None and file_name.startswith("DG"):
        return failed_at("document_readable", "malformed_data_group", f"{file_name} unreadable")
    return failed_at("document_readable", "read_failed", f"reading failed ({exc.code})")
