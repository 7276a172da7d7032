"""What analysts see and do: flights per port with their hit counts, a flight's travellers,
a traveller's API and PNR detail with hits, confirming or dismissing hits, risk rules and
national lists. Every change is audited; the flights it affects are vetted again and
republished to the kiosks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from models.server_tables import ServerAuditEventRow
from models.vetting_tables import (
    NationalListEntryRow,
    VettingFlightRow,
    VettingHitRow,
    VettingQuarantineRow,
    VettingReservationRow,
    VettingRuleRow,
    VettingTravellerRow,
)
from server.vetting.engine import status_of
from server.vetting.lists import NATIONAL, RULES, bump_version
from server.vetting.rules import RuleIn


class NotFound(LookupError):
    pass


def _audit(session: Session, actor: str, action: str, subject: str, **details: Any) -> None:
    session.add(
        ServerAuditEventRow(actor=actor, action=action, subject=subject[:128], details=details)
    )


def flights(
    session: Session, port: str | None, day: dt.date | None, limit: int
) -> list[dict[str, Any]]:
    t, h = VettingTravellerRow, VettingHitRow
    open_hits = (
        select(t.flight_id, func.count(h.id).label("hits"))
        .join(h, h.traveller_id == t.id)
        .where(h.status == "open")
        .group_by(t.flight_id)
        .subquery()
    )
    counts = (
        select(
            t.flight_id,
            func.sum(case((t.role == "passenger", 1), else_=0)).label("passengers"),
            func.sum(case((t.role == "crew", 1), else_=0)).label("crew"),
            func.sum(case((t.status == "refer", 1), else_=0)).label("refer"),
            func.sum(case((t.status == "no_board", 1), else_=0)).label("no_board"),
        )
        .group_by(t.flight_id)
        .subquery()
    )
    f = VettingFlightRow
    statement = (
        select(
            f,
            counts.c.passengers,
            counts.c.crew,
            counts.c.refer,
            counts.c.no_board,
            open_hits.c.hits,
        )
        .outerjoin(counts, counts.c.flight_id == f.id)
        .outerjoin(open_hits, open_hits.c.flight_id == f.id)
        .order_by(f.arrival_date.desc(), f.arrival.desc(), f.id.desc())
        .limit(limit)
    )
    if port:
        statement = statement.where(f.arrival_port == port.upper())
    if day:
        statement = statement.where(f.arrival_date == day)
    return [
        flights_one(row)
        | {
            "passengers": int(p or 0),
            "crew": int(c or 0),
            "refer": int(r or 0),
            "no_board": int(n or 0),
            "open_hits": int(o or 0),
        }
        for row, p, c, r, n, o in session.execute(statement)
    ]


def _traveller(row: VettingTravellerRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "flight_id": row.flight_id,
        "role": row.role,
        "in_transit": row.in_transit,
        "surname": row.surname,
        "given_names": row.given_names,
        "sex": row.sex,
        "birth_date": row.birth_date.isoformat() if row.birth_date else None,
        "nationality": row.nationality,
        "residence": row.residence,
        "embarkation": row.embarkation,
        "debarkation": row.debarkation,
        "document": {
            "type": row.doc_type,
            "number": row.doc_number,
            "issuer": row.doc_issuer,
            "expiry": row.doc_expiry.isoformat() if row.doc_expiry else None,
        },
        "documents": row.documents,
        "reservation": row.reservation,
        "seat": row.seat,
        "bags": row.bags,
        "status": row.status,
        "iapi": row.iapi,
        "vetted_at": row.vetted_at.isoformat(),
        "list_versions": row.list_versions,
        "problems": row.problems,
    }


def _hit(row: VettingHitRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "source": row.source,
        "reference": row.reference,
        "score": row.score,
        "fields": row.fields,
        "detail": row.detail,
        "status": row.status,
        "decided_by": row.decided_by,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "note": row.note,
    }


def flight_travellers(session: Session, flight_id: int) -> dict[str, Any]:
    flight = session.get(VettingFlightRow, flight_id)
    if flight is None:
        raise NotFound("flight")
    rows = session.scalars(
        select(VettingTravellerRow)
        .where(VettingTravellerRow.flight_id == flight_id)
        .order_by(
            case(
                (VettingTravellerRow.status == "no_board", 0),
                (VettingTravellerRow.status == "refer", 1),
                else_=2,
            ),
            VettingTravellerRow.surname,
        )
    ).all()
    counts = dict(
        session.execute(
            select(VettingHitRow.traveller_id, func.count())
            .where(
                VettingHitRow.traveller_id.in_([r.id for r in rows]),
                VettingHitRow.status != "dismissed",
            )
            .group_by(VettingHitRow.traveller_id)
        ).all()
    )
    return {
        "flight": flights_one(flight),
        "travellers": [{**_traveller(r), "hits": int(counts.get(r.id, 0))} for r in rows],
    }


def flights_one(flight: VettingFlightRow) -> dict[str, Any]:
    return {
        "id": flight.id,
        "flight": flight.flight,
        "list_type": flight.list_type,
        "origin": flight.origin,
        "arrival_port": flight.arrival_port,
        "arrival_date": flight.arrival_date.isoformat(),
        "departure": flight.departure.isoformat() if flight.departure else None,
        "arrival": flight.arrival.isoformat() if flight.arrival else None,
        "legs": flight.legs,
        "version": flight.version,
    }


def traveller_detail(session: Session, traveller_id: int) -> dict[str, Any]:
    row = session.get(VettingTravellerRow, traveller_id)
    if row is None:
        raise NotFound("traveller")
    hits = session.scalars(
        select(VettingHitRow).where(VettingHitRow.traveller_id == row.id).order_by(VettingHitRow.id)
    ).all()
    booking = session.get(VettingReservationRow, row.pnr_id) if row.pnr_id else None
    linked = None
    if booking is not None:
        linked = {
            "id": booking.id,
            "carrier": booking.carrier,
            "locator": booking.locator,
            "created": booking.created.isoformat() if booking.created else None,
            "ticketed": booking.ticketed.isoformat() if booking.ticketed else None,
            "last_modified": booking.last_modified.isoformat() if booking.last_modified else None,
            "payment_types": booking.payment_types,
            "agency": booking.agency,
            "one_way": booking.one_way,
            "itinerary": booking.itinerary,
            "travellers": booking.travellers,
            "contacts": booking.contact_masked,
            "contact_hashes": booking.contact_hashes,
            "bags": booking.bags,
        }
    flight = session.get(VettingFlightRow, row.flight_id)
    return {
        "traveller": _traveller(row),
        "flight": flights_one(flight) if flight else None,
        "hits": [_hit(h) for h in hits],
        "booking": linked,
    }


def decide_hit(
    session: Session, hit_id: int, decision: str, note: str, analyst: str
) -> tuple[dict[str, Any], int]:
    """Confirm or dismiss a hit (and recompute the traveller's status); the hit and the
    flight to republish."""
    hit = session.get(VettingHitRow, hit_id, with_for_update=True)
    if hit is None:
        raise NotFound("hit")
    traveller = session.get(VettingTravellerRow, hit.traveller_id, with_for_update=True)
    if traveller is None:
        raise NotFound("traveller")
    before = hit.status
    hit.status = "confirmed" if decision == "confirm" else "dismissed"
    hit.decided_by, hit.decided_at, hit.note = analyst, dt.datetime.now(dt.UTC), note or None
    session.flush()
    statuses = session.scalars(
        select(VettingHitRow.status).where(VettingHitRow.traveller_id == traveller.id)
    ).all()
    traveller.status = status_of(list(statuses))
    _audit(
        session,
        analyst,
        f"vetting.hit.{hit.status}",
        f"hit:{hit.id}",
        traveller=traveller.id,
        kind=hit.kind,
        source=hit.source,
        before=before,
        status=traveller.status,
    )
    return _hit(hit) | {"traveller_status": traveller.status}, traveller.flight_id


def rules(session: Session) -> list[dict[str, Any]]:
    counts = dict(
        session.execute(
            select(VettingHitRow.source, func.count())
            .where(VettingHitRow.kind == "rule")
            .group_by(VettingHitRow.source)
        ).all()
    )
    now = dt.datetime.now(dt.UTC)
    return [
        {
            "id": r.id,
            "name": r.name,
            "owner": r.owner,
            "reason": r.reason,
            "conditions": r.conditions,
            "expires_at": r.expires_at.isoformat(),
            "enabled": r.enabled,
            "expired": r.expires_at <= now,
            "hits": int(counts.get(str(r.id), 0)),
            "updated_at": r.updated_at.isoformat(),
        }
        for r in session.scalars(select(VettingRuleRow).order_by(VettingRuleRow.id))
    ]


def save_rule(session: Session, body: RuleIn, analyst: str, rule_id: int | None = None) -> int:
    now = dt.datetime.now(dt.UTC)
    values = {
        "name": body.name,
        "reason": body.reason,
        "conditions": [c.model_dump(mode="json") for c in body.conditions],
        "expires_at": body.expires_at,
        "enabled": body.enabled,
        "updated_at": now,
    }
    if rule_id is None:
        row = VettingRuleRow(owner=analyst, created_at=now, **values)
        session.add(row)
    else:
        found = session.get(VettingRuleRow, rule_id, with_for_update=True)
        if found is None:
            raise NotFound("rule")
        row = found
        for key, value in values.items():
            setattr(row, key, value)
    session.flush()
    version = bump_version(session, RULES)
    _audit(
        session,
        analyst,
        "vetting.rule.save",
        f"rule:{row.id}",
        version=version,
        **values | {"expires_at": body.expires_at.isoformat(), "updated_at": now.isoformat()},
    )
    return row.id


def add_national(
    session: Session, state: str, kind: str, entries: list[dict[str, Any]], actor: str
) -> int:
    for entry in entries:
        key = str(entry["key"])[:128]
        row = session.scalar(
            select(NationalListEntryRow).where(
                NationalListEntryRow.state == state,
                NationalListEntryRow.kind == kind,
                NationalListEntryRow.key == key,
            )
        )
        if row is None:
            session.add(
                NationalListEntryRow(
                    state=state,
                    kind=kind,
                    key=key,
                    data=dict(entry.get("data") or {}),
                    added_by=actor,
                )
            )
        else:
            row.data = dict(entry.get("data") or {})
    version = bump_version(session, NATIONAL)
    _audit(
        session,
        actor,
        "vetting.national.upload",
        f"{state}:{kind}",
        entries=len(entries),
        version=version,
    )
    return version


def national_entries(session: Session, state: str | None, limit: int) -> list[dict[str, Any]]:
    """A state's national list entries (or every state's), newest first."""
    entry = NationalListEntryRow
    statement = select(entry).order_by(entry.id.desc()).limit(limit)
    if state:
        statement = statement.where(entry.state == state)
    return [
        {
            "id": row.id,
            "state": row.state,
            "kind": row.kind,
            "key": row.key,
            "data": dict(row.data or {}),
            "added_by": row.added_by,
            "added_at": row.added_at.isoformat(),
        }
        for row in session.scalars(statement)
    ]


def delete_national(session: Session, state: str, kind: str, key: str, actor: str) -> int:
    """Remove one entry of a state's national list (audited); the new list version."""
    row = session.scalar(
        select(NationalListEntryRow)
        .where(
            NationalListEntryRow.state == state,
            NationalListEntryRow.kind == kind,
            NationalListEntryRow.key == key,
        )
        .with_for_update()
    )
    if row is None:
        raise NotFound("national list entry")
    session.delete(row)
    session.flush()
    version = bump_version(session, NATIONAL)
    _audit(session, actor, "vetting.national.delete", f"{state}:{kind}", version=version)
    return version


def open_flights(session: Session, days: int) -> list[int]:
    since = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days)
    return list(
        session.scalars(select(VettingFlightRow.id).where(VettingFlightRow.arrival_date >= since))
    )


def quarantine(session: Session, limit: int) -> list[dict[str, Any]]:
    return [
        {
            "id": q.id,
            "source": q.source,
            "channel": q.channel,
            "segment": q.segment,
            "reason": q.reason,
            "sha256": q.sha256,
            "received_at": q.received_at.isoformat(),
        }
        for q in session.scalars(
            select(VettingQuarantineRow).order_by(VettingQuarantineRow.id.desc()).limit(limit)
        )
    ]
