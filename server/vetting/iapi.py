"""Interactive API: the per-traveller answer to a PAXLST that asks for one, as a
CUSRES-style EDIFACT message (written with pydifact's serializer).

One ERP group per traveller, in the order of the request, naming them by the airline's
own references (RFF AVF reservation, the document) with an ERC directive: board, do not
board, or contact the authority before boarding. ``cleared`` answers board, ``no_board``
(an analyst confirmed a hit) do not board, ``refer`` contact: a referral is a question for
a person, not a refusal.

The code each directive is sent as comes from ``[server.vetting] iapi_codes``. What the
public sources say: CUSRES is the response message of interactive API ("WCO/IATA/ICAO API
Response Message (CUSRES) Implementation Guide [relevant for the interactive API mode]",
April 2013, Appendix IIB of the WCO/IATA/ICAO API Guidelines; the US CBP "Message
Implementation Guideline for Airlines, UN/EDIFACT PAXLST/CUSRES Message Sets" v4.2, 2016,
builds on it), and the answer per traveller is an ERC application error code inside an ERP
group. Neither guide's code list could be read from the public copies we found, so the
defaults ``0Z`` / ``1Z`` / ``2Z`` are ours, not the guides': an authority sets the codes of
its own implementation guide in the configuration (docs/OPERATOR.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from pydifact.segments import Segment
from pydifact.serializer import Serializer

from models.vetting_tables import VettingFlightRow, VettingTravellerRow
from server.vetting.config import Directive

# vetting status -> directive; a status not listed is answered "contact"
DIRECTIVES: dict[str, Directive] = {"cleared": "board", "no_board": "no_board", "refer": "contact"}
DEFAULT_CODES: dict[Directive, str] = {"board": "0Z", "no_board": "1Z", "contact": "2Z"}


def directive(status: str) -> Directive:
    return DIRECTIVES.get(status, "contact")


def cusres(
    *,
    sender: str,
    recipient: str,
    control_reference: str,
    transaction_reference: str,
    flight: VettingFlightRow,
    travellers: Sequence[VettingTravellerRow],
    codes: Mapping[Directive, str] | None = None,
    now: dt.datetime | None = None,
) -> str:
    codes = {**DEFAULT_CODES, **(codes or {})}  # a directive not set keeps its default
    now = now or dt.datetime.now(dt.UTC)
    reference = f"R{control_reference}"[:14]
    segments = [
        Segment(
            "UNB",
            ["UNOA", "4"],
            recipient or "AGENCY",
            sender or "CARRIER",
            [now.strftime("%y%m%d"), now.strftime("%H%M")],
            reference,
        ),  # fmt: skip
        Segment("UNH", "1", ["CUSRES", "D", "05B", "UN", "IATA"]),
        Segment("BGM", "962"),
    ]
    if transaction_reference:
        segments.append(Segment("RFF", ["TN", transaction_reference]))
    segments.append(Segment("RFF", ["AF", flight.flight]))
    if flight.departure:
        segments.append(Segment("DTM", ["189", flight.departure.strftime("%y%m%d%H%M"), "201"]))
    segments += [Segment("LOC", "125", flight.origin), Segment("LOC", "87", flight.arrival_port)]
    for traveller in travellers:
        segments.append(Segment("ERP", "2"))
        if traveller.reservation:
            segments.append(Segment("RFF", ["AVF", traveller.reservation]))
        if traveller.doc_number:
            segments.append(Segment("DOC", traveller.doc_type or "P", traveller.doc_number))
        segments.append(Segment("ERC", codes[directive(traveller.status)]))
    count = len(segments) - 1 + 1  # UNH .. UNT
    segments.append(Segment("UNT", str(count), "1"))
    segments.append(Segment("UNZ", "1", reference))
    return Serializer().serialize(segments, with_una_header=True)
