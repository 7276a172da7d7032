"""Ingestion and vetting: what every channel (the endpoint, the drop folder, the command
line) calls with the bytes it received.

An interchange is stored whole, once per sender and interchange control reference (a
resend changes nothing and says so); each PAXLST message replaces or amends its flight's
manifest, every traveller of that flight is vetted, the vetted manifest is published to
the kiosks of the port of arrival, and an iAPI answer is stored when the interchange asks
for one. PNRGOV reservations are stored, linked to the API travellers they describe, and
those flights vetted again. Input that cannot be read is quarantined whole with the
segment and the reason; nothing is dropped."""

from __future__ import annotations

import base64
import datetime as dt
import gc
import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.server_tables import ServerAuditEventRow
from models.vetting_tables import (
    VettingFlightRow,
    VettingInterchangeRow,
    VettingQuarantineRow,
    VettingTravellerRow,
)
from server.database import ServerDatabase
from server.ingest import insert_new
from server.security.change_signing import ChangeSigner
from server.vetting import iapi
from server.vetting.config import VettingConfig
from server.vetting.edifact import EdifactError, decode, interchange
from server.vetting.lists import VettingLists, list_versions, load_lists
from server.vetting.paxlst import parse_paxlst
from server.vetting.pnrgov import parse_pnrgov
from server.vetting.publish import publish_flight
from server.vetting.records import PaxlstMessage, PnrgovMessage
from server.vetting.store import (
    StoredHit,
    load_rules,
    revet_flight,
    store_reservation,
    store_travellers,
    upsert_flight,
    vet_whole_manifest,
)

log = logging.getLogger(__name__)

TYPES = ("PAXLST", "PNRGOV")
INGEST_ATTEMPTS = 3  # a message that raced another one for a new row is ingested again


@dataclass
class IngestReport:
    messages: int = 0
    passengers: int = 0
    crew: int = 0
    reservations: int = 0
    flights: set[int] = field(default_factory=set)
    quarantined: list[dict[str, str]] = field(default_factory=list)
    duplicates: int = 0
    interchange_id: int | None = None
    response: str | None = None

    def add(self, other: IngestReport) -> None:
        self.messages += other.messages
        self.passengers += other.passengers
        self.crew += other.crew
        self.reservations += other.reservations
        self.flights |= other.flights
        self.quarantined += other.quarantined
        self.duplicates += other.duplicates

    def summary(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "passengers": self.passengers,
            "crew": self.crew,
            "flights": len(self.flights),
            "quarantined": self.quarantined,
        }


def _settle() -> None:
    """Move the objects alive now (the loaded lists: millions of entries) out of the cyclic
    collector's reach. Left in its oldest generation, each full collection walked them all
    (1.5 s for a million names) every few messages, which made the slowest messages. They
    are still freed by reference counting when the next lists replace them (they hold no
    cycles); the previous freeze is undone first so that nothing stays frozen for good."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class VettingService:
    """One per server process; thread-safe (the lists are swapped whole under a lock)."""

    def __init__(
        self,
        database: ServerDatabase,
        config: VettingConfig,
        contact_key: bytes,
        signer: ChangeSigner,
    ):
        """``signer``: the list-signing key the published manifests are signed with."""
        self.database = database
        self.config = config
        self._key = contact_key
        self._signer = signer
        self._lists: VettingLists | None = None
        self._lock = threading.Lock()

    # --- lists ---------------------------------------------------------------------------

    def lists(
        self, session: Session, progress: Callable[[str, int], None] | None = None
    ) -> VettingLists:
        """The lists at their newest versions: a message is never vetted with a copy older
        than the lists it arrived after. When a version moved, only the indexes of the lists
        that changed are rebuilt (the ten million documents stay when the watchlist moves)."""
        versions = list_versions(session)
        with self._lock:
            if self._lists is None or self._lists.versions != versions:
                self._lists = load_lists(session, self.config, progress, previous=self._lists)
                _settle()
            return self._lists

    def warm_up(self) -> threading.Thread:
        """Load the lists on a background thread (at server start)."""

        def load() -> None:
            try:
                with self.database.sessions() as session:
                    self.lists(session)
            except Exception as exc:  # first ingestion will load them instead
                log.error("vetting lists not loaded at start: %s", exc.__class__.__name__)

        thread = threading.Thread(target=load, name="vetting-warm-up", daemon=True)
        thread.start()
        return thread

    # --- ingestion -----------------------------------------------------------------------

    def ingest(self, data: bytes, *, source: str, channel: str, actor: str) -> IngestReport:
        report = IngestReport()
        digest = hashlib.sha256(data).hexdigest()
        try:
            text = decode(data)
            parsed = interchange(text, TYPES)
        except EdifactError as exc:
            self._quarantine(report, source, channel, digest, data, exc)
            return report
        sender = (parsed.sender or "-")[:40]
        reference = (parsed.control_reference or f"sha256:{digest[:56]}")[:80]
        for attempt in range(1, INGEST_ATTEMPTS + 1):
            try:
                with self.database.session() as session:
                    self._ingest(session, report, text, parsed, sender, reference, digest,
                                 source, channel, actor)  # fmt: skip
                break
            except IntegrityError:
                # The same interchange stored meanwhile by another request (a duplicate); or
                # another message created the same flight, or a list version row, first:
                # everything was rolled back, and the next attempt finds their rows.
                if self._stored(sender, reference) is not None:
                    report = IngestReport(duplicates=1)
                    break
                if attempt == INGEST_ATTEMPTS:
                    raise
                log.info("interchange via %s raced another request; attempt %d", channel, attempt)
                report = IngestReport()
        if report.duplicates:
            row = self._stored(sender, reference)
            report.interchange_id = row.id if row else None
            report.response = row.response if row else None
        log.info(
            "interchange via %s: %d messages, %d passengers, %d crew, %d quarantined%s",
            channel,
            report.messages,
            report.passengers,
            report.crew,
            len(report.quarantined),
            " (duplicate)" if report.duplicates else "",
        )
        return report

    def _stored(self, sender: str, reference: str) -> VettingInterchangeRow | None:
        with self.database.sessions() as session:
            return session.scalar(
                select(VettingInterchangeRow).where(
                    VettingInterchangeRow.sender == sender,
                    VettingInterchangeRow.control_reference == reference,
                )
            )

    def _quarantine(
        self,
        report: IngestReport,
        source: str,
        channel: str,
        digest: str,
        data: bytes | str,
        exc: EdifactError,
        session: Session | None = None,
    ) -> None:
        # kept whole: as text when it is text, else base64 of the bytes (NUL bytes, say)
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        text = raw.decode("utf-8", "replace")
        if "\x00" in text or "\ufffd" in text:
            text = "base64:" + base64.b64encode(raw).decode("ascii")
        row = VettingQuarantineRow(
            source=source[:200],
            channel=channel,
            sha256=digest,
            raw=text,
            segment=exc.segment[:40] or "-",
            reason=exc.reason[:300],
        )
        if session is not None:
            session.add(row)
        else:
            with self.database.session() as own:
                own.add(row)
        report.quarantined.append({"file": source, "segment": row.segment, "reason": row.reason})
        log.warning("quarantined input from %s: %s at %s", channel, row.reason, row.segment)

    def _ingest(
        self,
        session: Session,
        report: IngestReport,
        text: str,
        parsed: Any,
        sender: str,
        reference: str,
        digest: str,
        source: str,
        channel: str,
        actor: str,
    ) -> None:
        kinds = {m.type for m in parsed.messages}
        inserted = insert_new(
            session,
            VettingInterchangeRow.__table__,  # type: ignore[arg-type]
            [
                {
                    "kind": "pnrgov" if kinds == {"PNRGOV"} else "paxlst",
                    "sender": sender,
                    "control_reference": reference,
                    "sha256": digest,
                    "raw": text,
                    "channel": channel,
                    "received_by": actor[:64],
                    "received_at": dt.datetime.now(dt.UTC),
                    "messages": len(parsed.messages),
                    "travellers": 0,
                    "warnings": list(parsed.warnings)[:50],
                    "iapi_requested": parsed.acknowledgement_requested,
                }
            ],
            ["sender", "control_reference"],
            "id",
        )
        if not inserted:
            report.duplicates = 1
            return
        interchange_id = int(next(iter(inserted)))
        report.interchange_id = interchange_id
        apis: list[PaxlstMessage] = []
        pnrs: list[PnrgovMessage] = []
        for message in parsed.messages:
            try:
                if message.type == "PAXLST":
                    apis.append(parse_paxlst(message))
                else:
                    pnrs.append(parse_pnrgov(message, self._key))
            except EdifactError as exc:
                self._quarantine(report, source, channel, digest, text, exc, session)
        report.messages = len(apis) + len(pnrs)
        if not report.messages:  # all quarantined: a corrected resend must not be a duplicate
            session.execute(
                delete(VettingInterchangeRow).where(VettingInterchangeRow.id == interchange_id)
            )
            report.interchange_id = None
            return
        flights: dict[int, VettingFlightRow] = {}
        stored: list[int] = []
        for pnr in pnrs:
            for record in pnr.records:
                stored.append(store_reservation(session, record, interchange_id))
                report.reservations += 1
        if pnrs:
            for flight in self._flights_of_reservations(session, pnrs, stored):
                flights[flight.id] = flight
        lists = self.lists(session)
        rules = load_rules(session)
        vetted: dict[int, list[VettingTravellerRow]] = {}
        hits_of: dict[int, dict[int, list[StoredHit]]] = {}
        stored_only: set[int] = set()  # flights vetted once all their messages are stored
        for api in apis:
            flight = upsert_flight(session, api, interchange_id)
            whole = None
            if flight.id not in flights:  # a whole manifest, vetted as it is stored
                hits_of[flight.id] = {}
                whole = vet_whole_manifest(
                    session, flight, api, interchange_id, lists, rules, self.config,
                    hits_of[flight.id],
                )  # fmt: skip
            if whole is None:
                store_travellers(session, flight, api, interchange_id)
                stored_only.add(flight.id)
            else:
                vetted[flight.id] = whole
            flights[flight.id] = flight
            report.passengers += sum(1 for t in api.travellers if t.role == "passenger")
            report.crew += sum(1 for t in api.travellers if t.role == "crew")
        for flight in flights.values():
            if flight.id in vetted and flight.id not in stored_only:
                continue
            hits_of[flight.id] = {}
            vetted[flight.id] = revet_flight(
                session, flight, lists, rules, self.config, hits_of[flight.id]
            )
        report.flights = set(flights)
        row = session.get(VettingInterchangeRow, interchange_id)
        if row is not None:
            row.travellers = report.passengers + report.crew
            if parsed.acknowledgement_requested and apis:
                report.response = self._answer(session, parsed, apis, flights, vetted)
                row.response = report.response
        session.add(
            ServerAuditEventRow(
                actor=actor[:64],
                action="vetting.ingest",
                subject=f"{sender}:{reference}"[:128],
                details={
                    "channel": channel,
                    "messages": report.messages,
                    "travellers": report.passengers + report.crew,
                    "reservations": report.reservations,
                    "quarantined": len(report.quarantined),
                },
            )
        )
        # published last: a flight's manifest takes the list's next version, which every
        # other message being published waits for until this one commits
        for flight in flights.values():
            publish_flight(
                session, flight, crew=self.config.publish_crew, actor=f"vetting:{actor}",
                signer=self._signer, vetted=(vetted[flight.id], hits_of[flight.id]),
            )  # fmt: skip

    @staticmethod
    def _flights_of_reservations(
        session: Session, pnrs: list[PnrgovMessage], stored: list[int]
    ) -> list[VettingFlightRow]:
        """The flights of the API travellers these reservations describe: by locator, or
        linked by their travel document when the reservations were stored."""
        locators = {r.locator for p in pnrs for r in p.records if r.locator}
        if not locators and not stored:
            return []
        return list(
            session.scalars(
                select(VettingFlightRow)
                .join(VettingTravellerRow, VettingTravellerRow.flight_id == VettingFlightRow.id)
                .where(
                    or_(
                        VettingTravellerRow.reservation.in_(locators),
                        VettingTravellerRow.pnr_id.in_(stored),
                    )
                )
                .distinct()
            )
        )

    def _answer(
        self,
        session: Session,
        parsed: Any,
        apis: list[PaxlstMessage],
        flights: dict[int, VettingFlightRow],
        vetted: dict[int, list[VettingTravellerRow]],
    ) -> str:
        parts = []
        for api in apis:
            flight = next(
                (f for f in flights.values() if f.flight == api.legs[-1].flight[:12]), None
            )
            if flight is None:
                continue
            travellers = vetted.get(flight.id, [])
            for traveller in travellers:
                traveller.iapi = iapi.directive(traveller.status)
            parts.append(
                iapi.cusres(
                    sender=parsed.sender,
                    recipient=parsed.recipient,
                    control_reference=parsed.control_reference,
                    transaction_reference=api.transaction_reference,
                    flight=flight,
                    travellers=travellers,
                    codes=self.config.iapi_codes,
                )
            )
        return "\n".join(parts)

    # --- after the fact ------------------------------------------------------------------

    def republish(self, session: Session, flight_ids: list[int], actor: str) -> None:
        """Publish these flights' vetted manifests again (a traveller's status changed)."""
        for flight in session.scalars(
            select(VettingFlightRow).where(VettingFlightRow.id.in_(flight_ids))
        ):
            publish_flight(
                session, flight, crew=self.config.publish_crew, actor=actor, signer=self._signer
            )

    def revet(self, session: Session, flight_ids: list[int], actor: str) -> None:
        """Vet these flights again (a rule or an analyst's decision changed) and republish."""
        lists = self.lists(session)
        rules = load_rules(session)
        for flight in session.scalars(
            select(VettingFlightRow).where(VettingFlightRow.id.in_(flight_ids))
        ):
            hits: dict[int, list[StoredHit]] = {}
            travellers = revet_flight(session, flight, lists, rules, self.config, hits)
            publish_flight(
                session, flight, crew=self.config.publish_crew, actor=actor,
                signer=self._signer, vetted=(travellers, hits),
            )  # fmt: skip
