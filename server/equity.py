"""Equity in operation: biometric-mismatch referral rates by nationality and by sex, per site
and per month, from the decisions kiosks sync.

A *traveller* is a decided transaction; a *mismatch referral* is one whose reasons include
``biometric_mismatch`` (the face did not match the chip photo). The officer's outcome of that
referral tells how it ended: *admitted* means the officer found the traveller to be the
document's holder, so the gate's refusal was most likely a false non-match. Nationality and
sex are the MRZ's, sent by the kiosk with the decision; no other personal data is used.

**The flag.** A group is flagged when its rate is more than :data:`FLAG_RATIO` (1.5) times
the site's overall rate for that month *and* there are enough travellers to tell: the lower
end of the group's Wilson score interval, one-sided at 5 % with a Bonferroni correction for
the number of groups compared in that site and month, is above 1.5 times the overall rate.
A handful of travellers with one unlucky referral cannot raise a flag; a group with a real
excess does once it has enough travellers, and with many nationalities compared at once the
correction keeps chance flags rare.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.records import ReferralOutcome
from models.server_tables import ReceivedDecisionRow, ReferralQueueRow

FLAG_RATIO = 1.5
ALPHA = 0.05
DIMENSIONS = ("nationality", "sex")
UNKNOWN = "unknown"

RULE = (
    f"flagged when the rate exceeds {FLAG_RATIO}x the site's overall rate for the month and "
    f"the lower end of the group's Wilson score interval (one-sided {ALPHA:.0%}, Bonferroni-"
    "corrected for the groups compared in that site and month) is above that level too"
)


@dataclass
class Counts:
    travellers: int = 0
    mismatches: int = 0  # biometric-mismatch referrals
    outcomes: dict[str, int] = field(default_factory=dict)  # of those referrals

    def add(self, count: int, mismatch: bool, outcome: str | None) -> None:
        self.travellers += count
        if mismatch:
            self.mismatches += count
            key = outcome or "open"
            self.outcomes[key] = self.outcomes.get(key, 0) + count

    @property
    def rate(self) -> float:
        return self.mismatches / self.travellers if self.travellers else 0.0

    @property
    def admitted(self) -> int:
        return self.outcomes.get(ReferralOutcome.ADMITTED.value, 0)


def wilson_interval(successes: int, trials: int, z: float) -> tuple[float, float]:
    """The Wilson score interval of a proportion at normal quantile ``z``."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    denominator = 1 + z * z / trials
    return max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator)


def equity_report(
    session: Session, first_month: str, last_month: str, site: str | None = None
) -> dict[str, Any]:
    """Per site and month: the overall rate and each nationality's and sex's, flagged."""
    decisions, referrals = ReceivedDecisionRow, ReferralQueueRow
    keys = (
        decisions.site,
        decisions.month,
        decisions.nationality,
        decisions.sex,
        decisions.face_mismatch,
        referrals.outcome,
    )
    query = (
        select(*keys, func.count())
        .outerjoin(referrals, referrals.transaction_id == decisions.transaction_id)
        .where(decisions.month >= first_month, decisions.month <= last_month)
        .group_by(*keys)
    )
    if site is not None:
        query = query.where(decisions.site == site)
    overall: dict[tuple[str, str], Counts] = defaultdict(Counts)
    groups: dict[tuple[str, str], dict[str, dict[str, Counts]]] = defaultdict(
        lambda: {dimension: defaultdict(Counts) for dimension in DIMENSIONS}
    )
    for row_site, month, nationality, sex, mismatch, outcome, count in session.execute(query):
        key = (row_site or UNKNOWN, month or UNKNOWN)
        overall[key].add(count, bool(mismatch), outcome)
        groups[key]["nationality"][nationality or UNKNOWN].add(count, bool(mismatch), outcome)
        groups[key]["sex"][sex or UNKNOWN].add(count, bool(mismatch), outcome)
    return {
        "from": first_month,
        "to": last_month,
        "rule": RULE,
        "flag_ratio": FLAG_RATIO,
        "sites": [
            _site_month(key, overall[key], groups[key]) for key in sorted(overall, reverse=False)
        ],
    }


def _site_month(
    key: tuple[str, str], overall: Counts, groups: dict[str, dict[str, Counts]]
) -> dict[str, Any]:
    compared = sum(len(values) for values in groups.values())
    z = NormalDist().inv_cdf(1 - ALPHA / max(1, compared))
    level = FLAG_RATIO * overall.rate
    return {
        "site": key[0],
        "month": key[1],
        **_figures(overall, z),
        "by": {
            dimension: sorted(
                (
                    {"value": value, **_figures(counts, z), **_flag(counts, overall, level, z)}
                    for value, counts in values.items()
                ),
                key=lambda g: (-g["rate"], g["value"]),
            )
            for dimension, values in groups.items()
        },
    }


def _figures(counts: Counts, z: float) -> dict[str, Any]:
    low, high = wilson_interval(counts.mismatches, counts.travellers, z)
    return {
        "travellers": counts.travellers,
        "mismatch_referrals": counts.mismatches,
        "rate": counts.rate,
        "rate_interval": [low, high],
        "admitted_same_person": counts.admitted,
        "likely_false_non_match_rate": (
            counts.admitted / counts.travellers if counts.travellers else 0.0
        ),
        "outcomes": dict(sorted(counts.outcomes.items())),
    }


def _flag(counts: Counts, overall: Counts, level: float, z: float) -> dict[str, Any]:
    low, _ = wilson_interval(counts.mismatches, counts.travellers, z)
    ratio = counts.rate / overall.rate if overall.rate else None
    return {
        "ratio_to_overall": ratio,
        "flagged": bool(overall.rate and counts.rate > level and low > level),
    }
