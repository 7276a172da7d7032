"""Apply the deployment's policy to the facts of one transaction.

Every rule that fails adds a reason (the exception categories of the Frontex ABC guidelines);
the decision is ``accept`` only when no reason was found, ``reject`` when a reason is one the
deployment lists in ``reject_reasons`` and no reason needs an officer, ``refer`` otherwise.
Missing facts never accept: a check that was not made is a reason of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from kiosk.policy.config import PolicyConfig
from models.records import CheckStatus, Decision, ReasonCode

# Reasons that always need an officer, whatever reject_reasons says.
OFFICER_REASONS = frozenset(
    {
        ReasonCode.WATCHLIST_HIT,
        ReasonCode.LOST_OR_STOLEN,
        ReasonCode.CLONE_SUSPECTED,
        ReasonCode.VETTING_REFERRAL,
    }
)
VETTED_CLEARED, VETTED_REFERRED = "vetted_cleared", "vetted_referred"


@dataclass(frozen=True)
class DocumentFacts:
    document_type: str
    issuing_state: str
    nationality: str
    date_of_birth: date | None
    date_of_expiry: date | None


@dataclass(frozen=True)
class TransactionFacts:
    """What the session engine learned; ``None`` means the step did not happen."""

    today: date
    document: DocumentFacts | None = None
    document_readable: bool = True
    chip_read: bool | None = None
    # check name -> status, from the DocumentVerdict (sod_signature, chain, revocation, hashes,
    # active_authentication, chip_authentication, mrz_consistency, issuer_consistency, ...)
    checks: dict[str, CheckStatus] = field(default_factory=dict)
    authentic: bool | None = None
    face_distance: float | None = None
    face_threshold: float = 0.5
    liveness_passed: bool | None = None
    lost_or_stolen: bool | None = None
    watchlist_hits: int | None = None
    watchlist_age_hours: float | None = None
    on_manifest: bool | None = None  # None: no manifest loaded
    # the server's pre-arrival vetting: vetted_cleared | vetted_referred | not_vetted
    # (None: no manifest loaded, which counts as not vetted)
    vetting: str | None = None
    vetting_reasons: tuple[str, ...] = ()
    device_fault: str | None = None
    # A family transaction with an adult member: a minor from accompanied_from_age passes
    accompanied: bool = False


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    detail: str


@dataclass(frozen=True)
class PolicyDecision:
    decision: Decision
    reasons: tuple[Reason, ...]

    @property
    def reason_codes(self) -> list[str]:
        """Each reason code once, in the order the rules found them."""
        return list(dict.fromkeys(r.code.value for r in self.reasons))


_PA_CHECKS = ("sod_signature", "chain", "revocation", "hashes")
_CLONE_CHECKS = ("active_authentication", "chip_authentication")


# Document rules decided from the MRZ before the chip and the camera (see early_refusal).
# An ineligible issuer or nationality is not among them: the chip's verdict on such a
# document (an issuer that is no state, a forged page) is what the officer needs to see.
EARLY_REASONS = frozenset({ReasonCode.MINOR, ReasonCode.EXPIRED_DOCUMENT})


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


class PolicyEngine:
    def __init__(self, config: PolicyConfig) -> None:
        self.config = config
        self._issuers = frozenset(config.eligible_issuers)
        self._nationalities = frozenset(config.eligible_nationalities)
        self._rules = {k: frozenset(v) for k, v in config.issuer_nationality_rules.items()}

    def decide(self, facts: TransactionFacts) -> PolicyDecision:
        reasons: list[Reason] = []
        add = reasons.append
        if facts.device_fault is not None:
            add(Reason(ReasonCode.SYSTEM_MALFUNCTION, facts.device_fault))
        if not facts.document_readable or facts.document is None:
            add(Reason(ReasonCode.DOCUMENT_UNREADABLE, "the document could not be read"))
        else:
            reasons += self._document_rules(facts.document, facts.today, facts.accompanied)
        reasons += self._chip_rules(facts)
        reasons += self._biometric_rules(facts)
        reasons += self._screening_rules(facts)
        reasons += self._vetting_rules(facts)
        return PolicyDecision(self._decision(reasons), tuple(_unique(reasons)))

    def early_refusal(
        self, doc: DocumentFacts, today: date, *, in_family: bool = False
    ) -> PolicyDecision | None:
        """The reasons the printed MRZ alone makes certain (a minor, an expired passport): the
        traveller is told at the passport step, before the chip and the camera. Refusing on
        unsigned data is safe; accepting never happens here. In a family transaction a minor
        old enough to be accompanied goes on (the family's adult is checked at the end)."""
        rules = self._document_rules(doc, today, accompanied=in_family)
        early = [r for r in rules if r.code in EARLY_REASONS]
        if not early:
            return None
        return PolicyDecision(Decision.REFER, tuple(_unique(early)))

    def is_adult(self, doc: DocumentFacts | None, today: date) -> bool:
        """Old enough to use the gate alone (and to accompany a minor)."""
        if doc is None or doc.date_of_birth is None:
            return False
        return _age_on(doc.date_of_birth, today) >= self.config.minimum_age

    def _document_rules(
        self, doc: DocumentFacts, today: date, accompanied: bool = False
    ) -> list[Reason]:
        out: list[Reason] = []
        cfg = self.config
        allowed_nat = self._rules.get(doc.issuing_state)
        eligible = (
            doc.issuing_state in self._issuers
            and doc.nationality in self._nationalities
            and (allowed_nat is None or doc.nationality in allowed_nat)
            and doc.document_type[:1] in {t[:1] for t in cfg.eligible_document_types}
        )
        if not eligible:
            out.append(Reason(ReasonCode.NOT_ELIGIBLE, "issuer, nationality or document type"))
        if doc.date_of_expiry is None:
            out.append(Reason(ReasonCode.DOCUMENT_UNREADABLE, "expiry date unknown"))
        elif (doc.date_of_expiry - today).days < cfg.minimum_remaining_validity_days:
            out.append(Reason(ReasonCode.EXPIRED_DOCUMENT, "document expired or too close"))
        if doc.date_of_birth is None:
            out.append(Reason(ReasonCode.DOCUMENT_UNREADABLE, "birth date unknown"))
        elif (age := _age_on(doc.date_of_birth, today)) < cfg.minimum_age:
            if cfg.accompanied_from_age is None or age < cfg.accompanied_from_age:
                out.append(Reason(ReasonCode.MINOR, f"under {cfg.minimum_age}"))
            elif not accompanied:
                detail = f"under {cfg.minimum_age} and not accompanied by an adult"
                out.append(Reason(ReasonCode.MINOR, detail))
        return out

    def _chip_rules(self, facts: TransactionFacts) -> list[Reason]:
        out: list[Reason] = []
        if facts.chip_read is not True:
            out.append(Reason(ReasonCode.CHIP_ANOMALY, "the chip could not be read"))
            return out
        checks = facts.checks
        if checks.get("access_control") is CheckStatus.FAILED:
            out.append(Reason(ReasonCode.CHIP_ANOMALY, "access control anomaly (PACE downgrade)"))
        for name in _PA_CHECKS:
            status = checks.get(name)
            if (
                name == "revocation"
                and status is CheckStatus.NOT_PERFORMED
                and self.config.revocation_unavailable == "accept"
            ):
                continue
            if status is not CheckStatus.PASSED:
                out.append(Reason(ReasonCode.AUTHENTICATION_FAILED, f"{name} not passed"))
        for name, required in (
            ("active_authentication", self.config.require_active_authentication_when_offered),
            ("chip_authentication", self.config.require_chip_authentication_when_offered),
        ):
            status = checks.get(name, CheckStatus.NOT_SUPPORTED)
            if status is CheckStatus.FAILED:
                out.append(Reason(ReasonCode.CLONE_SUSPECTED, f"{name} failed"))
            elif required and status is CheckStatus.NOT_PERFORMED:
                out.append(Reason(ReasonCode.AUTHENTICATION_FAILED, f"{name} not performed"))
        if checks.get("document_readable") is CheckStatus.FAILED:
            out.append(Reason(ReasonCode.CHIP_ANOMALY, "chip data malformed"))
        for name in ("mrz_consistency", "issuer_consistency"):
            if checks.get(name) is CheckStatus.FAILED:
                out.append(Reason(ReasonCode.AUTHENTICATION_FAILED, f"{name} failed"))
        if facts.authentic is False and not out:
            out.append(Reason(ReasonCode.AUTHENTICATION_FAILED, "document not authentic"))
        return out

    def _biometric_rules(self, facts: TransactionFacts) -> list[Reason]:
        out: list[Reason] = []
        if facts.chip_read is not True:
            return out  # no chip photo to compare with: the chip's reason says why
        threshold = self.config.face_threshold or facts.face_threshold
        if self.config.liveness_required and facts.liveness_passed is not True:
            out.append(Reason(ReasonCode.LIVENESS_FAILED, "liveness not confirmed"))
        if facts.face_distance is None or facts.face_distance > threshold:
            out.append(Reason(ReasonCode.BIOMETRIC_MISMATCH, "face does not match the chip"))
        return out

    def _screening_rules(self, facts: TransactionFacts) -> list[Reason]:
        out: list[Reason] = []
        if facts.lost_or_stolen is not False:
            detail = "listed" if facts.lost_or_stolen else "lost/stolen check not made"
            code = (
                ReasonCode.LOST_OR_STOLEN if facts.lost_or_stolen else ReasonCode.SYSTEM_MALFUNCTION
            )
            out.append(Reason(code, detail))
        if facts.watchlist_hits is None:
            out.append(Reason(ReasonCode.SYSTEM_MALFUNCTION, "watchlist check not made"))
        elif facts.watchlist_hits > 0:
            out.append(Reason(ReasonCode.WATCHLIST_HIT, f"{facts.watchlist_hits} candidate(s)"))
        if (
            facts.watchlist_age_hours is None
            or facts.watchlist_age_hours > self.config.watchlist_max_age_hours
        ):
            out.append(Reason(ReasonCode.SYSTEM_MALFUNCTION, "watchlist copy too old (offline)"))
        if facts.on_manifest is False or (
            facts.on_manifest is None and self.config.manifest_required
        ):
            out.append(Reason(ReasonCode.NOT_ON_MANIFEST, "traveller not expected"))
        return out

    def _vetting_rules(self, facts: TransactionFacts) -> list[Reason]:
        if facts.vetting == VETTED_CLEARED:
            return []
        if facts.vetting == VETTED_REFERRED:
            detail = "; ".join(facts.vetting_reasons) or "referred by the pre-arrival vetting"
            return [Reason(ReasonCode.VETTING_REFERRAL, detail[:500])]
        vetting = self.config.vetting
        national = facts.document is not None and facts.document.nationality in set(
            vetting.nationals
        )
        rule = vetting.not_vetted_nationals if national else vetting.not_vetted_visitors
        if rule == "refer":
            return [Reason(ReasonCode.NOT_VETTED, "no pre-arrival vetting for this traveller")]
        return []

    def _decision(self, reasons: list[Reason]) -> Decision:
        if not reasons:
            return Decision.ACCEPT
        codes = {r.code for r in reasons}
        rejecting = {ReasonCode(r) for r in self.config.reject_reasons}
        if codes & OFFICER_REASONS or not codes <= rejecting:
            return Decision.REFER
        return Decision.REJECT


def _unique(reasons: list[Reason]) -> list[Reason]:
    seen: set[tuple[ReasonCode, str]] = set()
    out: list[Reason] = []
    for r in reasons:
        if (r.code, r.detail) not in seen:
            seen.add((r.code, r.detail))
            out.append(r)
    return out
