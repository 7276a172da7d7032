"""Vetting one flight's travellers: identity, documents, persons, rules.

Every traveller is checked against the lost/stolen documents (regional and national), the
person lists (regional and national, the kiosk's fuzzy matching) and the active risk rules;
a rule may use ``companion_hit``, so list hits are found for the whole flight first. The
result is ``refer`` with every hit, or ``cleared``; ``no_board`` only ever comes from an
analyst confirming a hit (:func:`status_of`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kiosk.screening.matching import PartialDate
from kiosk.screening.watchlist import PersonQuery, WatchlistHit
from server.vetting.lists import VettingLists
from server.vetting.records import Leg
from server.vetting.rules import Rule, age_on, matches, route


@dataclass(frozen=True)
class Booking:
    """What the rules read from the linked reservation."""

    locator: str
    created: dt.datetime | None
    ticketed: dt.datetime | None
    one_way: bool
    payment_types: tuple[str, ...]
    agency: str | None
    travellers: int


@dataclass(frozen=True)
class Subject:
    role: str
    surname: str
    given_names: str
    birth_date: dt.date | None
    nationality: str | None
    residence: str | None
    sex: str | None
    embarkation: str | None
    debarkation: str | None
    doc_type: str
    doc_number: str
    doc_issuer: str
    reservation: str | None = None
    bags: int | None = None
    problems: tuple[str, ...] = ()
    booking: Booking | None = None


@dataclass(frozen=True)
class HitDraft:
    kind: str  # identity | lost_stolen | watchlist | rule
    source: str
    reference: str
    score: float | None
    fields: tuple[str, ...]
    detail: str

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.kind, self.source, self.reference)


@dataclass(frozen=True)
class Verdict:
    status: str  # cleared | refer
    hits: tuple[HitDraft, ...] = field(default_factory=tuple)


def status_of(hit_statuses: Sequence[str]) -> str:
    """A traveller's status from their hits' analyst statuses."""
    if "confirmed" in hit_statuses:
        return "no_board"
    return "refer" if "open" in hit_statuses else "cleared"


def _query(subject: Subject) -> PersonQuery:
    return PersonQuery(
        subject.surname,
        subject.given_names,
        PartialDate.of(subject.birth_date),
        subject.nationality or "",
    )


def _list_hits(
    subject: Subject, documents: Sequence[str], people: Sequence[WatchlistHit]
) -> list[HitDraft]:
    hits: list[HitDraft] = []
    for problem in subject.problems:
        hits.append(HitDraft("identity", "api", problem[:128], None, (), problem[:300]))
    if subject.doc_number:
        for source in documents:
            hits.append(
                HitDraft(
                    "lost_stolen",
                    source,
                    f"{subject.doc_issuer}:{subject.doc_type or '-'}",
                    None,
                    ("document_number", "document_issuer"),
                    f"document listed lost/stolen ({source})",
                )
            )
    for hit in people:
        hits.append(
            HitDraft(
                "watchlist",
                hit.list_name[:64],
                hit.entry.reference[:128],
                hit.score,
                hit.matched_fields,
                f"{hit.list_name} watchlist, score {hit.score:.2f} "
                f"(birth date {hit.birth_date.value}, nationality {hit.nationality.value})",
            )
        )
    return hits


def facts_of(subject: Subject, legs: Sequence[Leg], companion_hit: bool | None) -> dict[str, Any]:
    departure = next((leg.departure for leg in legs if leg.departure), None)
    day = departure.date() if departure else dt.datetime.now(dt.UTC).date()
    booking = subject.booking

    def hours(moment: dt.datetime | None) -> float | None:
        if moment is None or departure is None:
            return None
        return round((departure - moment).total_seconds() / 3600, 2)

    return {
        "route": route(list(legs)),
        "origin": legs[0].origin if legs else None,
        "destination": legs[-1].destination if legs else None,
        "embarkation": subject.embarkation,
        "debarkation": subject.debarkation,
        "carrier": legs[-1].carrier if legs else None,
        "flight": legs[-1].flight if legs else None,
        "role": subject.role,
        "nationality": subject.nationality,
        "residence": subject.residence,
        "sex": subject.sex,
        "age": age_on(subject.birth_date, day),
        "document_type": subject.doc_type or None,
        "document_issuer": subject.doc_issuer or None,
        "booking_to_departure_hours": hours(booking.created) if booking else None,
        "ticketing_to_departure_hours": hours(booking.ticketed) if booking else None,
        "one_way": booking.one_way if booking else None,
        "payment": list(booking.payment_types) if booking and booking.payment_types else None,
        "agency": booking.agency if booking else None,
        "bags": subject.bags,
        "companions": max(booking.travellers - 1, 0) if booking else None,
        "companion_hit": companion_hit if booking or subject.reservation else None,
        "has_pnr": booking is not None,
    }


def vet_flight(
    subjects: Sequence[Subject],
    legs: Sequence[Leg],
    lists: VettingLists,
    rules: Sequence[Rule],
    *,
    threshold: float,
    limit: int,
    now: dt.datetime | None = None,
) -> list[Verdict]:
    now = now or dt.datetime.now(dt.UTC)
    # the whole manifest is searched at once (one batch through the watchlist index)
    named = [s for s in subjects if s.surname]
    people = iter(lists.watchlist.search_many([_query(s) for s in named], threshold, limit))
    # and every document at once (the lost/stolen lists)
    documents = lists.document_hits_many(
        [
            (s.doc_issuer, s.doc_type, s.doc_number) if s.doc_number else ("", "", "")
            for s in subjects
        ]
    )
    found = [
        _list_hits(s, listed, next(people) if s.surname else ())
        for s, listed in zip(subjects, documents, strict=True)
    ]
    flagged: dict[str, int] = {}
    for subject, hits in zip(subjects, found, strict=True):
        if subject.reservation and any(h.kind in ("watchlist", "lost_stolen") for h in hits):
            flagged[subject.reservation] = flagged.get(subject.reservation, 0) + 1
    active = [rule for rule in rules if rule.active(now)]
    verdicts: list[Verdict] = []
    for subject, hits in zip(subjects, found, strict=True):
        own = any(h.kind in ("watchlist", "lost_stolen") for h in hits)
        others = flagged.get(subject.reservation or "", 0) - (1 if own else 0)
        facts = facts_of(subject, legs, others > 0)
        for rule in active:
            agreeing = matches(rule, facts)
            if agreeing:
                hits.append(
                    HitDraft(
                        "rule",
                        str(rule.id),
                        rule.name[:128],
                        None,
                        tuple(agreeing),
                        f"rule {rule.name} ({rule.owner}): {rule.reason}"[:300],
                    )
                )
        verdicts.append(Verdict("refer" if hits else "cleared", tuple(hits)))
    return verdicts
