"""The vetted manifest of a flight, handed to the kiosks of its port of arrival.

Each traveller becomes one change of the ``manifest`` list that kiosks already pull
(``kiosk/sync/manifest_delta.py``), keyed ``vetted:PORT:FLIGHT:DATE:ISSUER:NUMBER`` so a
kiosk asks only for its port's entries; an entry carries the vetting status and the
reasons an officer will see. A traveller no longer on the flight is deleted from the
kiosks; the keys published last are remembered on the flight."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.list_signature import VETTED_PREFIX, scope_digests
from models.server_tables import ListChangeRow
from models.vetting_tables import VettingFlightRow, VettingHitRow, VettingTravellerRow
from server import bulk_insert
from server.api.lists import sign_version
from server.security.change_signing import ChangeSigner
from server.vetting.lists import bump_version

LIST = "manifest"
PREFIX = VETTED_PREFIX
MAX_REASONS = 6


def manifest_key(port: str, flight: str, day: dt.date, issuer: str, number: str) -> str:
    return f"{PREFIX}{port}:{flight}:{day.isoformat()}:{issuer}:{number}"[:128]


class HitLike(Protocol):
    """What a reason is made of: a stored hit row, or the hit just written."""

    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def score(self) -> float | None: ...
    @property
    def detail(self) -> str: ...


def _reasons(hits: Sequence[HitLike]) -> list[str]:
    live = [h for h in hits if h.status != "dismissed"]
    live.sort(key=lambda h: (h.status != "confirmed", h.kind != "watchlist", -(h.score or 0)))
    return [f"{h.kind}: {h.detail}"[:200] for h in live[:MAX_REASONS]]


def _entry(
    flight: VettingFlightRow, traveller: VettingTravellerRow, hits: Sequence[HitLike]
) -> tuple[str, dict[str, Any]] | None:
    if not (traveller.doc_number and traveller.doc_issuer and traveller.surname):
        return None
    ports = {leg.get("destination") for leg in flight.legs}
    port = traveller.debarkation if traveller.debarkation in ports else flight.arrival_port
    key = manifest_key(
        port or flight.arrival_port,
        flight.flight,
        flight.arrival_date,
        traveller.doc_issuer,
        traveller.doc_number,
    )
    data = {
        "flight": flight.flight[:16],
        "arrival_date": flight.arrival_date.isoformat(),
        "surname": traveller.surname,
        "given_names": traveller.given_names,
        "document_number": traveller.doc_number,
        "issuer": traveller.doc_issuer,
        "nationality": traveller.nationality,
        "birth_date": traveller.birth_date.isoformat() if traveller.birth_date else None,
        "sex": traveller.sex if traveller.sex in ("M", "F") else None,
        "expiry_date": traveller.doc_expiry.isoformat() if traveller.doc_expiry else None,
        "vetting": traveller.status,
        "vetting_reasons": _reasons(hits),
    }
    return key, data


def publish_flight(
    session: Session,
    flight: VettingFlightRow,
    *,
    crew: bool,
    actor: str,
    signer: ChangeSigner,
    vetted: tuple[Sequence[VettingTravellerRow], Mapping[int, Sequence[HitLike]]] | None = None,
) -> int:
    """Append the flight's vetted manifest to the kiosks' ``manifest`` list, signed with the
    list-signing key ``signer``; the number of changes. ``vetted``: the flight's travellers
    and their hits as just stored by the vetting in this transaction (else they are read)."""
    hits_of: Mapping[int, Sequence[HitLike]]
    if vetted is not None:
        travellers, hits_of = vetted
    else:
        travellers = session.scalars(
            select(VettingTravellerRow)
            .where(VettingTravellerRow.flight_id == flight.id)
            .order_by(VettingTravellerRow.id)
        ).all()
        read: dict[int, list[VettingHitRow]] = {}
        if travellers:
            for hit in session.scalars(
                select(VettingHitRow).where(
                    VettingHitRow.traveller_id.in_([t.id for t in travellers])
                )
            ):
                read.setdefault(hit.traveller_id, []).append(hit)
        hits_of = read
    entries: dict[str, dict[str, Any]] = {}
    for traveller in travellers:
        if traveller.role == "crew" and not crew:
            continue
        entry = _entry(flight, traveller, hits_of.get(traveller.id, []))
        if entry is not None:
            entries[entry[0]] = entry[1]
    gone = [key for key in flight.published_keys or [] if key not in entries]
    if not entries and not gone:
        return 0
    rows = [{"op": "delete", "key": key, "data": None} for key in gone] + [
        {"op": "upsert", "key": key, "data": data} for key, data in entries.items()
    ]
    # the digests first: from taking the list's version to the commit, every other flight
    # being published waits (the versions of a list are committed in order)
    scopes = scope_digests(LIST, rows)
    version = bump_version(session, LIST)
    now = dt.datetime.now(dt.UTC)
    bulk_insert.insert_rows(
        session,
        ListChangeRow.__table__,  # type: ignore[arg-type]
        [
            {"list_name": LIST, "version": version, "uploaded_by": actor, "created_at": now, **row}
            for row in rows
        ],
    )
    sign_version(session, signer, LIST, version, rows, actor, scopes)
    flight.published_keys = sorted(entries)
    return len(rows)
