"""What the vetting reads from the airlines' messages: typed, immutable records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Leg:
    """One flight leg: carrier and number, from ``origin`` to ``destination``."""

    carrier: str
    number: str
    origin: str
    destination: str
    departure: dt.datetime | None
    arrival: dt.datetime | None

    @property
    def flight(self) -> str:
        return f"{self.carrier}{self.number}"


@dataclass(frozen=True, slots=True)
class TravelDocument:
    doc_type: str  # P, V, I, A, C ... ("" when the airline did not say)
    number: str
    issuer: str
    expiry: dt.date | None = None
    issued: dt.date | None = None


@dataclass(frozen=True, slots=True)
class ApiTraveller:
    """A passenger or a crew member of a PAXLST message. ``problems`` names the identity
    fields that were missing or invalid (segment and field, never the value)."""

    role: str  # passenger | crew
    in_transit: bool
    surname: str
    given_names: str
    sex: str | None
    birth_date: dt.date | None
    nationality: str | None
    residence: str | None
    embarkation: str | None
    debarkation: str | None
    documents: tuple[TravelDocument, ...]
    reservation: str | None = None
    passenger_reference: str | None = None
    seat: str | None = None
    bags: int | None = None
    bag_weight_kg: float | None = None
    crew_function: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def document(self) -> TravelDocument | None:
        """The travel document the traveller will present (a passport before a visa)."""
        for doc in self.documents:
            if doc.doc_type[:1] != "V":
                return doc
        return self.documents[0] if self.documents else None


@dataclass(frozen=True, slots=True)
class PaxlstMessage:
    reference: str  # UNH message reference
    version: str  # D02B, D05B ...
    list_type: str  # passenger | crew
    function: str  # original | change | cancel | closeout
    legs: tuple[Leg, ...]
    travellers: tuple[ApiTraveller, ...]
    reporting_party: str = ""
    transaction_reference: str = ""
    declared_count: int | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PnrTraveller:
    surname: str
    given_names: str
    reference: str = ""  # the traveller's number in the booking
    document: TravelDocument | None = None
    birth_date: dt.date | None = None
    sex: str | None = None
    nationality: str | None = None
    seats: tuple[str, ...] = ()
    bags: int | None = None


@dataclass(frozen=True, slots=True)
class PnrRecord:
    """The core of one reservation (PNRGOV SRC group). Contact data is kept only as keyed
    hashes and masked forms, never in clear."""

    locator: str
    carrier: str
    created: dt.datetime | None
    ticketed: dt.datetime | None
    last_modified: dt.datetime | None
    travellers: tuple[PnrTraveller, ...]
    itinerary: tuple[Leg, ...]
    payment_types: tuple[str, ...] = ()
    agency: str | None = None
    one_way: bool = False
    contact_hashes: tuple[str, ...] = ()
    contact_masked: tuple[str, ...] = ()
    bags: int | None = None


@dataclass(frozen=True, slots=True)
class PnrgovMessage:
    reference: str
    version: str
    flight: Leg | None
    records: tuple[PnrRecord, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = ()
