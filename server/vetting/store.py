"""Flights, travellers, reservations and hits in the server database, and re-vetting a
flight from what is stored (after a message, a PNR, a rule change or an analyst's
decision). An analyst's decision on a hit survives re-vetting when the same hit is found."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import delete, insert, or_, select, text, tuple_
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from models.vetting_tables import (
    VettingFlightRow,
    VettingHitRow,
    VettingReservationDocumentRow,
    VettingReservationRow,
    VettingRuleRow,
    VettingTravellerRow,
)
from server import bulk_insert
from server.vetting.config import VettingConfig
from server.vetting.engine import Booking, Subject, Verdict, status_of, vet_flight
from server.vetting.lists import VettingLists
from server.vetting.records import ApiTraveller, Leg, PaxlstMessage, PnrRecord
from server.vetting.rules import Condition, Rule


@dataclass(frozen=True)
class StoredHit:
    """What the published manifest reads of a stored hit."""

    kind: str
    status: str
    score: float | None
    detail: str


def leg_json(leg: Leg) -> dict[str, Any]:
    return {
        "carrier": leg.carrier,
        "number": leg.number,
        "origin": leg.origin,
        "destination": leg.destination,
        "departure": leg.departure.isoformat() if leg.departure else None,
        "arrival": leg.arrival.isoformat() if leg.arrival else None,
    }


def leg_of(data: dict[str, Any]) -> Leg:
    def moment(value: Any) -> dt.datetime | None:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else None

    return Leg(
        str(data.get("carrier", "")),
        str(data.get("number", "")),
        str(data.get("origin", "")),
        str(data.get("destination", "")),
        moment(data.get("departure")),
        moment(data.get("arrival")),
    )


def load_rules(session: Session) -> list[Rule]:
    return [
        Rule(
            row.id,
            row.name,
            row.owner,
            row.reason,
            tuple(Condition.model_validate(c) for c in row.conditions),
            row.expires_at,
            row.enabled,
        )
        for row in session.scalars(select(VettingRuleRow).where(VettingRuleRow.enabled))
    ]


def upsert_flight(
    session: Session, message: PaxlstMessage, interchange_id: int
) -> VettingFlightRow:
    """The flight manifest the message is for (locked), created or moved to a new version."""
    first, last = message.legs[0], message.legs[-1]
    departure_day = (first.departure or last.arrival or dt.datetime.now(dt.UTC)).date()
    arrival_day = last.arrival or last.departure or first.departure or dt.datetime.now(dt.UTC)
    row = session.execute(
        select(VettingFlightRow)
        .where(
            VettingFlightRow.flight == last.flight[:12],
            VettingFlightRow.departure_date == departure_day,
            VettingFlightRow.origin == first.origin,
            VettingFlightRow.list_type == message.list_type,
        )
        .with_for_update()
    ).scalar_one_or_none()
    values = {
        "carrier": last.carrier[:3],
        "arrival_port": last.destination[:5],
        "arrival_date": arrival_day.date(),
        "departure": first.departure,
        "arrival": last.arrival,
        "legs": [leg_json(leg) for leg in message.legs],
        "interchange_id": interchange_id,
        "updated_at": dt.datetime.now(dt.UTC),
    }
    if row is None:
        row = VettingFlightRow(
            flight=last.flight[:12],
            departure_date=departure_day,
            origin=first.origin[:5],
            list_type=message.list_type,
            version=1,
            published_keys=[],
            **values,
        )
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
        row.version += 1
    session.flush()
    return row


def _traveller_row(t: ApiTraveller, flight_id: int, interchange_id: int) -> dict[str, Any]:
    doc = t.document
    return {
        "flight_id": flight_id,
        "interchange_id": interchange_id,
        "role": t.role,
        "in_transit": t.in_transit,
        "surname": t.surname,
        "given_names": t.given_names,
        "sex": t.sex,
        "birth_date": t.birth_date,
        "nationality": t.nationality,
        "residence": (t.residence or "")[:5] or None,
        "embarkation": t.embarkation,
        "debarkation": t.debarkation,
        "doc_type": doc.doc_type if doc else None,
        "doc_number": doc.number if doc else None,
        "doc_issuer": (doc.issuer or None) if doc else None,
        "doc_expiry": doc.expiry if doc else None,
        "documents": [
            {
                "type": d.doc_type,
                "number": d.number,
                "issuer": d.issuer,
                "expiry": d.expiry.isoformat() if d.expiry else None,
            }
            for d in t.documents
        ],
        "reservation": t.reservation,
        "seat": t.seat,
        "bags": t.bags,
        "problems": list(t.problems),
        "status": "refer",  # until vetted, in the same transaction
        "list_versions": {},
    }


def _same_person(message: PaxlstMessage) -> Any:
    keys = [(d.issuer, d.number) for t in message.travellers if (d := t.document) and d.issuer]
    return tuple_(VettingTravellerRow.doc_issuer, VettingTravellerRow.doc_number).in_(keys)


def store_travellers(
    session: Session, flight: VettingFlightRow, message: PaxlstMessage, interchange_id: int
) -> None:
    """Replace (original, close-out), amend (change) or remove (cancel) travellers."""
    travellers = VettingTravellerRow
    if message.function in ("original", "closeout"):
        session.execute(delete(travellers).where(travellers.flight_id == flight.id))
    elif any(t.document and t.document.issuer for t in message.travellers):
        session.execute(
            delete(travellers).where(travellers.flight_id == flight.id, _same_person(message))
        )
    if message.function == "cancel":
        return
    now = dt.datetime.now(dt.UTC)
    rows = [
        {**_traveller_row(t, flight.id, interchange_id), "vetted_at": now}
        for t in message.travellers
    ]
    bulk_insert.insert_rows(session, travellers.__table__, rows)  # type: ignore[arg-type]


def store_reservation(session: Session, record: PnrRecord, interchange_id: int) -> int:
    """Insert or replace the reservation; link the API travellers it describes. Its id."""
    row = session.execute(
        select(VettingReservationRow)
        .where(
            VettingReservationRow.carrier == record.carrier,
            VettingReservationRow.locator == record.locator,
        )
        .with_for_update()
    ).scalar_one_or_none()
    values = {
        "interchange_id": interchange_id,
        "created": record.created,
        "ticketed": record.ticketed,
        "last_modified": record.last_modified,
        "payment_types": list(record.payment_types),
        "agency": record.agency,
        "one_way": record.one_way,
        "itinerary": [leg_json(leg) for leg in record.itinerary],
        "travellers": [
            {
                "surname": t.surname,
                "given_names": t.given_names,
                "reference": t.reference,
                "document": (
                    {
                        "type": t.document.doc_type,
                        "number": t.document.number,
                        "issuer": t.document.issuer,
                    }
                    if t.document
                    else None
                ),
                "birth_date": t.birth_date.isoformat() if t.birth_date else None,
                "seats": list(t.seats),
            }  # fmt: skip
            for t in record.travellers
        ],
        "contact_hashes": list(record.contact_hashes),
        "contact_masked": list(record.contact_masked),
        "bags": record.bags,
        "received_at": dt.datetime.now(dt.UTC),
    }
    if row is None:
        row = VettingReservationRow(carrier=record.carrier, locator=record.locator, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    session.flush()
    documents = list(
        dict.fromkeys(
            (t.document.issuer[:3], t.document.number[:20])
            for t in record.travellers
            if t.document and t.document.issuer and t.document.number
        )
    )
    # the documents it names, for API travellers who arrive after it
    session.execute(
        delete(VettingReservationDocumentRow).where(
            VettingReservationDocumentRow.reservation_id == row.id
        )
    )
    if documents:
        session.execute(
            insert(VettingReservationDocumentRow),
            [{"reservation_id": row.id, "issuer": i, "number": n} for i, n in documents],
        )
    conditions = [VettingTravellerRow.reservation == record.locator]
    if documents:
        conditions.append(
            tuple_(VettingTravellerRow.doc_issuer, VettingTravellerRow.doc_number).in_(documents)
        )
    session.execute(
        VettingTravellerRow.__table__.update()  # type: ignore[attr-defined]
        .where(or_(*conditions))
        .values(pnr_id=row.id)
    )
    return row.id


def _by_document(
    session: Session, travellers: Sequence[VettingTravellerRow]
) -> dict[tuple[str, str], int]:
    """The newest reservation naming each unlinked traveller's document."""
    wanted = {
        (t.doc_issuer, t.doc_number)
        for t in travellers
        if not t.pnr_id and t.doc_issuer and t.doc_number
    }
    if not wanted:
        return {}
    documents = VettingReservationDocumentRow
    found: dict[tuple[str, str], int] = {}
    for issuer, number, reservation in session.execute(
        select(documents.issuer, documents.number, documents.reservation_id)
        .where(bulk_insert.one_of(session, [documents.issuer, documents.number], list(wanted)))
        .order_by(documents.reservation_id)
    ):
        found[(issuer, number)] = reservation  # the newest (highest id) wins
    return found


def _bookings(session: Session, travellers: Sequence[Any]) -> dict[int, tuple[int, Booking]]:
    """The reservation of each traveller (by ``id``; a stored traveller, or one about to be
    stored, with ``pnr_id``, ``reservation``, ``doc_issuer`` and ``doc_number``): the one
    linked already, else the one named by the traveller's reservation reference (locator),
    else the newest naming their travel document (a PNR that arrived before the API
    message). Each with the reservation's id."""
    by_document = _by_document(session, travellers)
    ids = {t.pnr_id for t in travellers if t.pnr_id} | set(by_document.values())
    locators = {t.reservation for t in travellers if t.reservation and not t.pnr_id}
    if not ids and not locators:
        return {}
    reservations = VettingReservationRow
    rows = session.scalars(
        select(reservations).where(
            or_(
                bulk_insert.one_of(session, [reservations.id], sorted(ids)),
                bulk_insert.one_of(session, [reservations.locator], sorted(locators)),
            )
        )
    ).all()
    by_id = {row.id: row for row in rows}
    by_locator = {row.locator: row for row in rows}
    out: dict[int, tuple[int, Booking]] = {}
    for traveller in travellers:
        document = by_document.get((traveller.doc_issuer or "", traveller.doc_number or ""))
        row = (
            by_id.get(traveller.pnr_id or 0)
            or by_locator.get(traveller.reservation or "")
            or by_id.get(document or 0)
        )
        if row is None:
            continue
        out[traveller.id] = (
            row.id,
            Booking(
                row.locator,
                row.created,
                row.ticketed,
                row.one_way,
                tuple(row.payment_types),
                row.agency,
                len(row.travellers),
            ),
        )
    return out


def revet_flight(
    session: Session,
    flight: VettingFlightRow,
    lists: VettingLists,
    rules: Sequence[Rule],
    config: VettingConfig,
    hits_out: dict[int, list[StoredHit]] | None = None,
) -> list[VettingTravellerRow]:
    """Vet every traveller of ``flight`` again; analysts' decisions on hits found again are
    kept. The travellers (in id order), with their new status; each traveller's hits as
    stored go to ``hits_out`` when given (for publishing without reading them back)."""
    travellers = list(
        session.scalars(
            select(VettingTravellerRow)
            .where(VettingTravellerRow.flight_id == flight.id)
            .order_by(VettingTravellerRow.id)
        )
    )
    if not travellers:
        return []
    ids = [t.id for t in travellers]
    decided: dict[tuple[int, str, str, str], VettingHitRow] = {
        (h.traveller_id, h.kind, h.source, h.reference): h
        for h in session.scalars(
            select(VettingHitRow).where(
                bulk_insert.one_of(session, [VettingHitRow.traveller_id], ids),
                VettingHitRow.status != "open",
            )
        )
    }
    bookings = _bookings(session, travellers)
    for traveller in travellers:
        if traveller.id in bookings:  # stored with the bulk update
            set_committed_value(traveller, "pnr_id", bookings[traveller.id][0])
    verdicts = _vet(travellers, bookings, flight, lists, rules, config)
    session.execute(
        delete(VettingHitRow).where(bulk_insert.one_of(session, [VettingHitRow.traveller_id], ids))
    )
    versions = {**lists.versions}
    now = dt.datetime.now(dt.UTC)
    hit_rows, statuses = _hit_rows(ids, verdicts, decided)
    updates = [
        {
            "id": traveller.id,
            "status": status,
            "vetted_at": now,
            "list_versions": versions,
            "pnr_id": traveller.pnr_id,
        }
        for traveller, status in zip(travellers, statuses, strict=True)
    ]
    # one statement for all the hits (the ORM's bulk insert split them wherever a score
    # or decision was None; an executemany is a statement a hit)
    bulk_insert.insert_rows(session, VettingHitRow.__table__, hit_rows)  # type: ignore[arg-type]
    _hits_out(hit_rows, hits_out)
    # one statement for the flight, not one UPDATE per traveller
    bulk_insert.update_rows(session, VettingTravellerRow.__table__, updates)  # type: ignore[arg-type]
    for traveller, values in zip(travellers, updates, strict=True):
        set_committed_value(traveller, "status", values["status"])
        set_committed_value(traveller, "vetted_at", now)
        set_committed_value(traveller, "list_versions", versions)
    return travellers


def _vet(
    travellers: Sequence[Any],
    bookings: dict[int, tuple[int, Booking]],
    flight: VettingFlightRow,
    lists: VettingLists,
    rules: Sequence[Rule],
    config: VettingConfig,
) -> list[Verdict]:
    """The verdicts of the flight's travellers (stored rows, or rows about to be)."""
    subjects = [
        Subject(
            t.role,
            t.surname,
            t.given_names,
            t.birth_date,
            t.nationality,
            t.residence,
            t.sex,
            t.embarkation,
            t.debarkation,
            t.doc_type or "",
            t.doc_number or "",
            t.doc_issuer or "",
            t.reservation,
            t.bags,
            tuple(t.problems),
            bookings[t.id][1] if t.id in bookings else None,
        )  # fmt: skip
        for t in travellers
    ]
    return vet_flight(
        subjects,
        [leg_of(leg) for leg in flight.legs],
        lists,
        rules,
        threshold=config.watchlist_threshold,
        limit=config.max_hits,
    )


def _hit_rows(
    ids: Sequence[int],
    verdicts: Sequence[Verdict],
    decided: dict[tuple[int, str, str, str], VettingHitRow],
) -> tuple[list[dict[str, Any]], list[str]]:
    """The hit rows of the travellers ``ids`` (analysts' decisions on hits found again
    kept), and each traveller's status."""
    hit_rows: list[dict[str, Any]] = []
    statuses: list[str] = []
    for traveller_id, verdict in zip(ids, verdicts, strict=True):
        found: list[str] = []
        for hit in verdict.hits:
            before = decided.get((traveller_id, *hit.identity))
            status = before.status if before else "open"
            found.append(status)
            hit_rows.append(
                {
                    "traveller_id": traveller_id,
                    "kind": hit.kind,
                    "source": hit.source,
                    "reference": hit.reference,
                    "score": hit.score,
                    "fields": list(hit.fields),
                    "detail": hit.detail,
                    "status": status,
                    "decided_by": before.decided_by if before else None,
                    "decided_at": before.decided_at if before else None,
                    "note": before.note if before else None,
                }
            )
        statuses.append(status_of(found))
    return hit_rows, statuses


def _hits_out(hit_rows: list[dict[str, Any]], hits_out: dict[int, list[StoredHit]] | None) -> None:
    if hits_out is not None:
        for row in hit_rows:
            hits_out.setdefault(row["traveller_id"], []).append(
                StoredHit(row["kind"], row["status"], row["score"], row["detail"])
            )


def vet_whole_manifest(
    session: Session,
    flight: VettingFlightRow,
    message: PaxlstMessage,
    interchange_id: int,
    lists: VettingLists,
    rules: Sequence[Rule],
    config: VettingConfig,
    hits_out: dict[int, list[StoredHit]] | None = None,
) -> list[VettingTravellerRow] | None:
    """Replace the flight's travellers with those of ``message`` (an original or close-out
    list: the whole manifest) already vetted, as :func:`store_travellers` then
    :func:`revet_flight` would leave them, with the travellers written once instead of
    written, read back and updated. ``None`` (nothing done) where this does not apply:
    another kind of message, or a database other than PostgreSQL (the travellers' ids are
    drawn from their sequence before they are written). The travellers, in id order."""
    if message.function not in ("original", "closeout") or not bulk_insert.is_postgresql(session):
        return None
    table = VettingTravellerRow.__table__
    session.execute(delete(VettingTravellerRow).where(VettingTravellerRow.flight_id == flight.id))
    if not message.travellers:
        return []
    ids = [
        int(i)
        for i in session.scalars(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            ),
            {"table": table.name, "n": len(message.travellers)},  # type: ignore[attr-defined]
        )
    ]
    ids.sort()
    # what _bookings and _vet read of a traveller, before the row exists
    pending = [
        SimpleNamespace(**_traveller_row(t, flight.id, interchange_id), id=i, pnr_id=None)
        for i, t in zip(ids, message.travellers, strict=True)
    ]
    bookings = _bookings(session, pending)
    verdicts = _vet(pending, bookings, flight, lists, rules, config)
    hit_rows, statuses = _hit_rows(ids, verdicts, {})
    now = dt.datetime.now(dt.UTC)
    versions = {**lists.versions}
    rows = [
        {
            **vars(new),
            "status": status,
            "vetted_at": now,
            "list_versions": versions,
            "pnr_id": bookings[new.id][0] if new.id in bookings else None,
            "iapi": None,
        }
        for new, status in zip(pending, statuses, strict=True)
    ]
    bulk_insert.insert_rows(session, table, rows)  # type: ignore[arg-type]
    bulk_insert.insert_rows(session, VettingHitRow.__table__, hit_rows)  # type: ignore[arg-type]
    _hits_out(hit_rows, hits_out)
    # the stored rows as the session's own (no read back): published, answered from
    travellers = []
    for row in rows:
        traveller = VettingTravellerRow(**row)
        make_transient_to_detached(traveller)
        session.add(traveller)
        travellers.append(traveller)
    return travellers
