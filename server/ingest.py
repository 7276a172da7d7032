"""Storing what kiosks send: bulk ``INSERT ... ON CONFLICT DO NOTHING RETURNING key`` so a
resent batch stores nothing twice and the answer can say, per item, accepted or duplicate.

Records are keyed on (kiosk, transaction id): a kiosk cannot pre-empt another's id. A
"duplicate" that differs from what is stored is not a resend: :class:`ConflictingRecordError`
(409), and the whole batch is rolled back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.base import utc_now
from models.records import ReasonCode
from models.server_tables import (
    DeviceRow,
    KioskRefusalRow,
    ReceivedCheckpointRow,
    ReceivedDecisionRow,
    ReferralQueueRow,
)
from server import bulk_insert
from server.api.schemas import CheckpointIn, DecisionIn, ListedIn, ReferralIn, RefusalIn
from server.notify import publish, publish_many

DECISIONS: Table = ReceivedDecisionRow.__table__  # type: ignore[assignment]
REFERRALS: Table = ReferralQueueRow.__table__  # type: ignore[assignment]
CHECKPOINTS: Table = ReceivedCheckpointRow.__table__  # type: ignore[assignment]
REFUSALS: Table = KioskRefusalRow.__table__  # type: ignore[assignment]
RECORD_KEY = ["kiosk_id", "transaction_id"]
# what a resend must repeat exactly (the rest is the server's own bookkeeping)
DECISION_FIELDS = ("decision", "reasons", "started_at", "decided_at", "policy", "checks")
REFERRAL_FIELDS = ("reasons", "created_at")


class ConflictingRecordError(Exception):
    """An item with a stored (kiosk, transaction id) whose content differs."""

    def __init__(self, transaction_id: str, field: str) -> None:
        super().__init__(f"transaction {transaction_id} is stored with another {field}")
        self.transaction_id = transaction_id
        self.field = field


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
        fast = bulk_insert.insert_new_postgresql(session, table, rows, conflict, returning)
        if fast is not None:
            return fast
        statement: Any = postgresql.insert(table).on_conflict_do_nothing(index_elements=conflict)
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database {dialect}")
    result = session.execute(statement.returning(table.c[returning]), list(rows))
    return set(result.scalars().all())


def _check_resent(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    new: set[str],
    fields: Sequence[str],
) -> None:
    """Raise :class:`ConflictingRecordError` when a row not inserted now differs from the
    stored one in one of ``fields``."""
    resent = {(row["kiosk_id"], row["transaction_id"]): row for row in rows}
    resent = {key: row for key, row in resent.items() if key[1] not in new}
    if not resent:
        return
    columns = [table.c[name] for name in ("kiosk_id", "transaction_id", *fields)]
    stored = session.execute(
        select(*columns).where(tuple_(table.c.kiosk_id, table.c.transaction_id).in_(list(resent)))
    ).all()
    for found in stored:
        row = resent[(found[0], found[1])]
        for name, value in zip(fields, found[2:], strict=True):
            if _normal(value) != _normal(row[name]):
                raise ConflictingRecordError(found[1], name)


def _normal(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


def _decision_row(item: DecisionIn, now: datetime, site: str | None) -> dict[str, Any]:
    document = item.document
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
        "site": site or item.site,
        "month": item.decided_at.strftime("%Y-%m"),
        "nationality": document.nationality if document else None,
        "sex": document.sex if document else None,
        "face_mismatch": ReasonCode.BIOMETRIC_MISMATCH in item.reasons,
    }


HIT_REASONS = frozenset({"watchlist_hit", "lost_or_stolen"})


def priority_of(reasons: Sequence[str]) -> int:
    """0 for a watchlist or lost/stolen hit (shown first), 1 for every other reason."""
    return 0 if HIT_REASONS.intersection(reasons) else 1


def _device_sites(session: Session, kiosk_ids: set[str]) -> dict[str, str | None]:
    """The site each kiosk was enrolled for (the server's record wins over what it says)."""
    rows = session.execute(
        select(DeviceRow.name, DeviceRow.site).where(DeviceRow.name.in_(kiosk_ids))
    )
    return {name: site for name, site in rows}


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
    sites = _device_sites(session, {item.kiosk_id for item in unique.values()})
    rows = [_decision_row(item, now, sites.get(item.kiosk_id)) for item in unique.values()]
    new: set[str] = insert_new(session, DECISIONS, rows, RECORD_KEY, "transaction_id")
    _check_resent(session, DECISIONS, rows, new, DECISION_FIELDS)
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
            site=sites.get(item.kiosk_id),
        )
        for item in unique.values()
        if item.transaction_id in new and item.referral is not None
    ]
    opened = insert_new(session, REFERRALS, referrals, RECORD_KEY, "transaction_id")
    _announce(session, items, new, opened)
    return new


def new_referral_ids(items: Sequence[DecisionIn], new: set[str]) -> list[str]:
    return [i.transaction_id for i in items if i.transaction_id in new and i.referral is not None]


def store_referrals(session: Session, items: Sequence[ReferralIn]) -> set[str]:
    now = utc_now()
    unique = {item.transaction_id: item for item in items}
    sites = _device_sites(session, {item.kiosk_id for item in unique.values()})
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
            site=sites.get(item.kiosk_id),
        )
        for item in unique.values()
    ]
    new: set[str] = insert_new(session, REFERRALS, rows, RECORD_KEY, "transaction_id")
    _check_resent(session, REFERRALS, rows, new, REFERRAL_FIELDS)
    _announce(session, items, set(), new)
    return new


def _announce(
    session: Session, items: Sequence[DecisionIn | ReferralIn], decided: set[str], opened: set[str]
) -> None:
    """Tell every server process (their live screens) what this batch stored."""
    if not items or not (decided or opened):
        return
    kiosk = items[0].kiosk_id
    if decided:
        publish(session, "decisions", {"event": "stored", "kiosk_id": kiosk,
                                       "count": len(decided)})  # fmt: skip
    publish_many(session, "referrals", [
        {"event": "new", "kiosk_id": kiosk, "transaction_id": transaction_id}
        for transaction_id in sorted(opened)
    ])  # fmt: skip


def store_checkpoints(session: Session, items: Sequence[CheckpointIn]) -> int:
    now = utc_now()
    unique = {(item.kiosk_id, item.seq): item for item in items}
    rows = [
        {**item.model_dump(), "received_at": now, "time": item.time} for item in unique.values()
    ]
    return len(insert_new(session, CHECKPOINTS, rows, ["kiosk_id", "seq"], "id"))


def store_refusals(session: Session, items: Sequence[RefusalIn]) -> set[str]:
    """Refusals a kiosk reported; the refusal ids new to the server (a resend stores none)."""
    now = utc_now()
    unique = {item.refusal_id: item for item in items}
    rows = [
        {
            "kiosk_id": item.kiosk_id,
            "refusal_id": item.refusal_id,
            "list_name": item.list_name,
            "version": item.version,
            "key": item.key,
            "reason": item.reason,
            "refused_at": item.refused_at,
            "received_at": now,
        }
        for item in unique.values()
    ]
    return set(insert_new(session, REFUSALS, rows, ["kiosk_id", "refusal_id"], "refusal_id"))
