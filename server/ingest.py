"""Storing what kiosks send: bulk ``INSERT ... ON CONFLICT DO NOTHING RETURNING key`` so a
resent batch stores nothing twice and the answer can say, per item, accepted or duplicate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.base import utc_now
from models.server_tables import (
    DeviceRow,
    ReceivedCheckpointRow,
    ReceivedDecisionRow,
    ReferralQueueRow,
)
from server.api.schemas import CheckpointIn, DecisionIn, ListedIn, ReferralIn

DECISIONS: Table = ReceivedDecisionRow.__table__  # type: ignore[assignment]
REFERRALS: Table = ReferralQueueRow.__table__  # type: ignore[assignment]
CHECKPOINTS: Table = ReceivedCheckpointRow.__table__  # type: ignore[assignment]


def insert_new(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    conflict: Sequence[str],
    returning: str,
) -> set[Any]:
    """Insert ``rows``, skipping those whose ``conflict`` key exists; the keys inserted."""
    if not rows:
        return set()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table).on_conflict_do_nothing(index_elements=conflict)
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database {dialect}")
    result = session.execute(statement.returning(table.c[returning]), list(rows))
    return set(result.scalars().all())


def _decision_row(item: DecisionIn, now: datetime) -> dict[str, Any]:
    return {
        "transaction_id": item.transaction_id,
        "kiosk_id": item.kiosk_id,
        "decision": item.decision.value,
        "reasons": [reason.value for reason in item.reasons],
        "started_at": item.started_at,
        "decided_at": item.decided_at,
        "policy": item.policy,
        "document": item.document.model_dump(mode="json") if item.document else None,
        "checks": [check.model_dump(mode="json") for check in item.checks],
        "timings_ms": dict(item.timings_ms),
        "received_at": now,
    }


HIT_REASONS = frozenset({"watchlist_hit", "lost_or_stolen"})


def priority_of(reasons: Sequence[str]) -> int:
    """0 for a watchlist or lost/stolen hit (shown first), 1 for every other reason."""
    return 0 if HIT_REASONS.intersection(reasons) else 1


def _site_of(session: Session, kiosk_id: str) -> str | None:
    device = session.get(DeviceRow, kiosk_id)
    return device.site if device is not None else None


def _referral_row(
    transaction_id: str,
    kiosk_id: str,
    created_at: datetime,
    reasons: list[str],
    surname: str | None,
    given_names: str | None,
    birth_date: Any,
    now: datetime,
    *,
    document_number: str | None = None,
    listed: Sequence[ListedIn] = (),
    site: str | None = None,
) -> dict[str, Any]:
    return {
        "site": site,
        "priority": priority_of(reasons),
        "document_number": document_number,
        "listed": [person.model_dump() for person in listed],
        "claimed_by": None,
        "claimed_at": None,
        "pending_outcome": None,
        "pending_note": None,
        "pending_by": None,
        "pending_at": None,
        "approved_by": None,
        "photos_purged_at": None,
        "transaction_id": transaction_id,
        "kiosk_id": kiosk_id,
        "status": "open",
        "reasons": reasons,
        "created_at": created_at,
        "surname": surname,
        "given_names": given_names,
        "birth_date": birth_date,
        "received_at": now,
        "resolved_at": None,
        "officer": None,
        "outcome": None,
        "note": None,
        "delivered_at": None,
    }


def store_decisions(session: Session, items: Sequence[DecisionIn]) -> set[str]:
    """Store new decisions (and the referrals they open); the transaction ids stored now."""
    now = utc_now()
    unique = {item.transaction_id: item for item in items}  # a batch may repeat an item
    new: set[str] = insert_new(
        session,
        DECISIONS,
        [_decision_row(item, now) for item in unique.values()],
        ["transaction_id"],
        "transaction_id",
    )
    referrals = [
        _referral_row(
            item.transaction_id,
            item.kiosk_id,
            item.decided_at,
            [reason.value for reason in item.reasons],
            item.referral.surname,
            item.referral.given_names,
            item.referral.birth_date,
            now,
            document_number=item.referral.document_number,
            listed=item.referral.listed,
            site=_site_of(session, item.kiosk_id),
        )
        for item in unique.values()
        if item.transaction_id in new and item.referral is not None
    ]
    insert_new(session, REFERRALS, referrals, ["transaction_id"], "transaction_id")
    return new


def new_referral_ids(items: Sequence[DecisionIn], new: set[str]) -> list[str]:
    return [i.transaction_id for i in items if i.transaction_id in new and i.referral is not None]


def store_referrals(session: Session, items: Sequence[ReferralIn]) -> set[str]:
    now = utc_now()
    unique = {item.transaction_id: item for item in items}
    rows = [
        _referral_row(
            item.transaction_id,
            item.kiosk_id,
            item.created_at,
            [reason.value for reason in item.reasons],
            item.surname,
            item.given_names,
            item.birth_date,
            now,
            document_number=item.document_number,
            listed=item.listed,
            site=_site_of(session, item.kiosk_id),
        )
        for item in unique.values()
    ]
    new: set[str] = insert_new(session, REFERRALS, rows, ["transaction_id"], "transaction_id")
    return new


def store_checkpoints(session: Session, items: Sequence[CheckpointIn]) -> int:
    now = utc_now()
    unique = {(item.kiosk_id, item.seq): item for item in items}
    rows = [
        {**item.model_dump(), "received_at": now, "time": item.time} for item in unique.values()
    ]
    return len(insert_new(session, CHECKPOINTS, rows, ["kiosk_id", "seq"], "id"))
