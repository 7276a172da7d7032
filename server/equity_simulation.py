"""Simulated traffic for the equity view: decisions as kiosks sync them, and the officers'
outcomes of the mismatch referrals, so the view can be rehearsed and shown without travellers.

The traffic goes through the server's own ingestion (:func:`server.ingest.store_decisions`,
the same code the kiosk API runs), with the MRZ nationality and sex of each traveller and no
name. Rates are chosen so one group stands out: at site ``KIN`` travellers of one
nationality (``HTI``) are referred three times as often as the others, and most of those
referrals end with the officer admitting the traveller, as false non-matches would.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.records import Decision, ReasonCode, ReferralOutcome, ReferralStatus
from models.server_tables import ReferralQueueRow
from server.api.schemas import DecisionIn, DocumentIn, ReferralSubjectIn
from server.ingest import store_decisions

NATIONALITIES = {"JAM": 0.38, "TTO": 0.20, "BRB": 0.14, "GBR": 0.10, "USA": 0.10, "HTI": 0.08}
BASE_RATE = 0.02
SITES = {"KIN": ("kin-gate-01", "kin-gate-02"), "BGI": ("bgi-gate-01",)}


def _rate(site: str, nationality: str, sex: str) -> float:
    rate = BASE_RATE * (1.15 if sex == "F" else 1.0)
    if site == "KIN" and nationality == "HTI":
        rate *= 3.0
    return rate


def simulate_decisions(
    month_start: datetime, travellers_per_kiosk: int, seed: int = 0
) -> list[DecisionIn]:
    """One month of decisions of every simulated kiosk (deterministic for a seed)."""
    rng = random.Random(seed)
    names, weights = list(NATIONALITIES), list(NATIONALITIES.values())
    items: list[DecisionIn] = []
    for site, kiosks in SITES.items():
        for kiosk in kiosks:
            for index in range(travellers_per_kiosk):
                nationality = rng.choices(names, weights)[0]
                sex = rng.choice(("F", "M"))
                mismatch = rng.random() < _rate(site, nationality, sex)
                decided = month_start + timedelta(minutes=rng.randrange(0, 28 * 24 * 60))
                items.append(
                    DecisionIn(
                        transaction_id=f"{kiosk}-{month_start:%Y%m}-{index:06d}",
                        kiosk_id=kiosk,
                        site=site,
                        started_at=decided - timedelta(seconds=9),
                        decided_at=decided,
                        decision=Decision.REFER if mismatch else Decision.ACCEPT,
                        reasons=[ReasonCode.BIOMETRIC_MISMATCH] if mismatch else [],
                        document=DocumentIn(
                            doc_type="P",
                            issuer=nationality,
                            nationality=nationality,
                            sex=sex,
                            chip_read=True,
                        ),
                        referral=ReferralSubjectIn() if mismatch else None,
                    )
                )
    return items


def resolve_referrals(session: Session, seed: int = 0, admitted_share: float = 0.8) -> int:
    """Officers' outcomes for every open simulated referral; how many were resolved."""
    rng = random.Random(seed)
    rows = session.scalars(
        select(ReferralQueueRow)
        .where(ReferralQueueRow.status == ReferralStatus.OPEN.value)
        .order_by(ReferralQueueRow.transaction_id)
    ).all()
    now = datetime.now(UTC)
    for row in rows:
        draw = rng.random()
        outcome = (
            ReferralOutcome.ADMITTED
            if draw < admitted_share
            else ReferralOutcome.REFUSED
            if draw < admitted_share + (1 - admitted_share) / 2
            else ReferralOutcome.SECONDARY_INSPECTION
        )
        row.status, row.outcome = ReferralStatus.RESOLVED.value, outcome.value
        row.officer, row.resolved_at, row.note = "simulation", now, "simulated"
    return len(rows)


def simulate_month(
    session: Session, month_start: datetime, travellers_per_kiosk: int = 1500, seed: int = 0
) -> int:
    """Store a month of simulated decisions and resolve its referrals; decisions stored."""
    items = simulate_decisions(month_start, travellers_per_kiosk, seed)
    stored = 0
    for start in range(0, len(items), 500):
        stored += len(store_decisions(session, items[start : start + 500]))
    resolve_referrals(session, seed)
    return stored
