"""Tables of the server's pre-arrival vetting (``server/vetting``): airline messages as
received, quarantined input, flights, travellers, reservations, hits, risk rules and the
member states' national lists. Same metadata and ``server_`` prefix as
:mod:`models.server_tables`; migrations ``s0005`` and ``s1316`` (reservation documents)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import JSONDocument, utc_now
from models.server_tables import ServerBase


class VettingInterchangeRow(ServerBase):
    """One interchange (UNB..UNZ) exactly as received; stored once per sender and
    interchange control reference (a resend is a no-op)."""

    __tablename__ = "server_vetting_interchanges"
    __table_args__ = (UniqueConstraint("sender", "control_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))  # paxlst | pnrgov
    sender: Mapped[str] = mapped_column(String(40))
    control_reference: Mapped[str] = mapped_column(String(80))
    sha256: Mapped[str] = mapped_column(String(64))
    raw: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))  # endpoint | folder | cli
    received_by: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utc_now)
    messages: Mapped[int] = mapped_column(default=0)
    travellers: Mapped[int] = mapped_column(default=0)
    warnings: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    iapi_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    response: Mapped[str | None] = mapped_column(Text)  # the CUSRES answer, when asked


class VettingQuarantineRow(ServerBase):
    """Input that could not be read, kept whole with where and why (never dropped)."""

    __tablename__ = "server_vetting_quarantine"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    raw: Mapped[str] = mapped_column(Text)
    segment: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(300))
    received_at: Mapped[datetime] = mapped_column(default=utc_now)


class VettingFlightRow(ServerBase):
    """A flight manifest (one list type of one flight on one day); a later message for the
    same flight replaces its travellers."""

    __tablename__ = "server_vetting_flights"
    __table_args__ = (
        UniqueConstraint("flight", "departure_date", "origin", "list_type"),
        Index("ix_server_vetting_flights_port_arrival", "arrival_port", "arrival_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    flight: Mapped[str] = mapped_column(String(12))
    carrier: Mapped[str] = mapped_column(String(3))
    departure_date: Mapped[date]
    origin: Mapped[str] = mapped_column(String(5))
    arrival_port: Mapped[str] = mapped_column(String(5))
    arrival_date: Mapped[date]
    departure: Mapped[datetime | None]
    arrival: Mapped[datetime | None]
    list_type: Mapped[str] = mapped_column(String(10))
    legs: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    interchange_id: Mapped[int] = mapped_column(
        ForeignKey("server_vetting_interchanges.id", ondelete="RESTRICT")
    )
    version: Mapped[int] = mapped_column(default=1)
    published_keys: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)


class VettingTravellerRow(ServerBase):
    """A passenger or crew member of a flight manifest and the result of vetting them."""

    __tablename__ = "server_vetting_travellers"
    __table_args__ = (
        Index("ix_server_vetting_travellers_flight", "flight_id"),
        Index("ix_server_vetting_travellers_reservation", "reservation"),
        Index("ix_server_vetting_travellers_document", "doc_issuer", "doc_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    flight_id: Mapped[int] = mapped_column(
        ForeignKey("server_vetting_flights.id", ondelete="CASCADE")
    )
    interchange_id: Mapped[int] = mapped_column(BigInteger)
    role: Mapped[str] = mapped_column(String(10))
    in_transit: Mapped[bool] = mapped_column(Boolean, default=False)
    surname: Mapped[str] = mapped_column(String(120))
    given_names: Mapped[str] = mapped_column(String(120), default="")
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[date | None]
    nationality: Mapped[str | None] = mapped_column(String(3))
    residence: Mapped[str | None] = mapped_column(String(5))
    embarkation: Mapped[str | None] = mapped_column(String(5))
    debarkation: Mapped[str | None] = mapped_column(String(5))
    doc_type: Mapped[str | None] = mapped_column(String(2))
    doc_number: Mapped[str | None] = mapped_column(String(20))
    doc_issuer: Mapped[str | None] = mapped_column(String(3))
    doc_expiry: Mapped[date | None]
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    reservation: Mapped[str | None] = mapped_column(String(35))
    seat: Mapped[str | None] = mapped_column(String(35))
    bags: Mapped[int | None]
    problems: Mapped[list[str]] = mapped_column(JSONDocument)
    status: Mapped[str] = mapped_column(String(10))  # cleared | refer | no_board
    vetted_at: Mapped[datetime] = mapped_column(default=utc_now)
    list_versions: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    pnr_id: Mapped[int | None] = mapped_column(BigInteger)
    iapi: Mapped[str | None] = mapped_column(String(16))  # board | no_board | contact


class VettingHitRow(ServerBase):
    """Why a traveller was referred: a list entry, a rule or an identity problem; analysts
    confirm (the traveller may not board) or dismiss it."""

    __tablename__ = "server_vetting_hits"
    __table_args__ = (Index("ix_server_vetting_hits_traveller", "traveller_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    traveller_id: Mapped[int] = mapped_column(
        ForeignKey("server_vetting_travellers.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16))  # lost_stolen | watchlist | rule | identity
    source: Mapped[str] = mapped_column(String(64))  # list name, rule id
    reference: Mapped[str] = mapped_column(String(128))
    score: Mapped[float | None] = mapped_column(Float)
    fields: Mapped[list[str]] = mapped_column(JSONDocument)
    detail: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(10), default="open")  # open|confirmed|dismissed
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)


class VettingReservationRow(ServerBase):
    """The core of one reservation (PNR); contact data only as keyed hashes and masks."""

    __tablename__ = "server_vetting_reservations"
    __table_args__ = (UniqueConstraint("carrier", "locator"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    carrier: Mapped[str] = mapped_column(String(3))
    locator: Mapped[str] = mapped_column(String(12))
    interchange_id: Mapped[int] = mapped_column(BigInteger)
    created: Mapped[datetime | None]
    ticketed: Mapped[datetime | None]
    last_modified: Mapped[datetime | None]
    payment_types: Mapped[list[str]] = mapped_column(JSONDocument)
    agency: Mapped[str | None] = mapped_column(String(20))
    one_way: Mapped[bool] = mapped_column(Boolean, default=False)
    itinerary: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    travellers: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    contact_hashes: Mapped[list[str]] = mapped_column(JSONDocument)
    contact_masked: Mapped[list[str]] = mapped_column(JSONDocument)
    bags: Mapped[int | None]
    received_at: Mapped[datetime] = mapped_column(default=utc_now)


class VettingReservationDocumentRow(ServerBase):
    """A travel document named in a reservation (SSR DOCS): how an API traveller who
    arrives after the booking finds it (migration ``s1316``)."""

    __tablename__ = "server_vetting_reservation_documents"
    __table_args__ = (Index("ix_server_vetting_reservation_documents_doc", "issuer", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    reservation_id: Mapped[int] = mapped_column(
        ForeignKey("server_vetting_reservations.id", ondelete="CASCADE"), index=True
    )
    issuer: Mapped[str] = mapped_column(String(3))
    number: Mapped[str] = mapped_column(String(20))


class VettingRuleRow(ServerBase):
    """A user-defined risk rule: every condition must hold; applied until it expires."""

    __tablename__ = "server_vetting_rules"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80))
    owner: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(300))
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    expires_at: Mapped[datetime]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)


class NationalListEntryRow(ServerBase):
    """An entry of a member state's national list: a person or a document."""

    __tablename__ = "server_vetting_national_entries"
    __table_args__ = (UniqueConstraint("state", "kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    state: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(10))  # person | document
    key: Mapped[str] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(default=utc_now)
