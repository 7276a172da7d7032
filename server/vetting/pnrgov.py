"""UN/EDIFACT PNRGOV mapped to :class:`PnrgovMessage`: the core of each reservation.

Per the PNRGOV implementation guide: MSG (function), ORG (sender), TVL (the flight the push
is for), EQN (number of records); then per reservation SRC, RCI (carrier:locator, creation
date DDMMYY:HHMM in components 4 and 5), DAT (700 last transaction, 710 ticket issue), ORG
(the booking's origin: agency number and location), ADD and IFT (contact data), EBD
(excess bags), TIF per traveller (surname, given name, traveller reference) with its SSR
DOCS, TKT and FOP (form of payment type), TVL per itinerary leg, SSR SEAT and SSD seats.
SAC opens the history of a record (cancelled items), which is not read as current data.

Contact fields (addresses, telephone numbers, e-mail addresses) are kept only as keyed
hashes (HMAC-SHA-256 with the server's key, so equal contacts link bookings) and masked
forms; the clear text leaves this module nowhere."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass, field

from server.vetting.dates import parse_datetime, pnr_datetime
from server.vetting.edifact import EdifactMessage, Seg
from server.vetting.records import Leg, PnrgovMessage, PnrRecord, PnrTraveller, TravelDocument

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {m: i for i, m in enumerate(MONTH_NAMES, 1)}
_CONTACT_IFT = {"28", "43"}  # free-text contact lines (telephone, address)


def mask(text: str) -> str:
    """A contact shown without revealing it: its kind and its last two characters."""
    clean = re.sub(r"\s+", "", text)
    kind = "email" if "@" in clean else "phone" if re.search(r"\d{5}", clean) else "address"
    return f"{kind}:***{clean[-2:] if len(clean) > 6 else ''}"


def contact_hash(key: bytes, text: str) -> str:
    normal = re.sub(r"[^A-Z0-9@.]", "", text.upper())
    return hmac.new(key, normal.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def _docs_date(text: str, today: dt.date, *, birth: bool) -> dt.date | None:
    match = re.match(r"^(\d{2})([A-Z]{3})(\d{2})$", text.strip().upper())
    if not match or match.group(2) not in _MONTHS:
        return None
    year = 2000 + int(match.group(3))
    if birth and year > today.year:
        year -= 100
    try:
        return dt.date(year, _MONTHS[match.group(2)], int(match.group(1)))
    except ValueError:
        return None


@dataclass
class _TravellerDraft:
    surname: str
    given: str
    reference: str
    document: TravelDocument | None = None
    birth: dt.date | None = None
    sex: str | None = None
    nationality: str | None = None
    seats: list[str] = field(default_factory=list)


@dataclass
class _RecordDraft:
    locator: str = ""
    carrier: str = ""
    created: dt.datetime | None = None
    ticketed: dt.datetime | None = None
    modified: dt.datetime | None = None
    travellers: list[_TravellerDraft] = field(default_factory=list)
    legs: list[Leg] = field(default_factory=list)
    payments: list[str] = field(default_factory=list)
    agency: str | None = None
    contacts: list[str] = field(default_factory=list)
    bags: int | None = None
    history: bool = False

    def build(self, key: bytes) -> PnrRecord:
        legs = tuple(self.legs)
        one_way = bool(legs) and legs[-1].destination != legs[0].origin
        return PnrRecord(
            locator=self.locator,
            carrier=self.carrier,
            created=self.created,
            ticketed=self.ticketed,
            last_modified=self.modified,
            travellers=tuple(
                PnrTraveller(
                    t.surname,
                    t.given,
                    t.reference,
                    t.document,
                    t.birth,
                    t.sex,
                    t.nationality,
                    tuple(t.seats),
                )  # fmt: skip
                for t in self.travellers
            ),
            itinerary=legs,
            payment_types=tuple(dict.fromkeys(self.payments)),
            agency=self.agency,
            one_way=one_way,
            contact_hashes=tuple(dict.fromkeys(contact_hash(key, c) for c in self.contacts)),
            contact_masked=tuple(dict.fromkeys(mask(c) for c in self.contacts)),
            bags=self.bags,
        )


def _tvl(seg: Seg) -> Leg | None:
    origin, destination = seg.get(1)[:5].upper(), seg.get(2)[:5].upper()
    if not origin or not destination:
        return None
    departure = pnr_datetime(seg.get(0, 0), seg.get(0, 1)) or parse_datetime(seg.get(0, 0))
    arrival = pnr_datetime(seg.get(0, 2), seg.get(0, 3)) if seg.get(0, 2) else None
    if arrival is None and departure is not None and seg.get(0, 3):
        arrival = pnr_datetime(seg.get(0, 0), seg.get(0, 3))
    return Leg(
        seg.get(3)[:3].upper(), seg.get(4).lstrip("0")[:8], origin, destination, departure, arrival
    )


def _docs(text: str, today: dt.date) -> tuple[TravelDocument | None, dict[str, object]]:
    """SSR DOCS free text: /type/issuer/number/nationality/birth/sex/expiry/surname/given."""
    text = text.strip()
    parts = (text[1:] if text.startswith("/") else text).split("/")
    parts += [""] * (9 - len(parts))
    number = re.sub(r"[^A-Z0-9]", "", parts[2].upper())
    extra: dict[str, object] = {
        "nationality": parts[3].upper() if re.match(r"^[A-Z]{3}$", parts[3].upper()) else None,
        "birth": _docs_date(parts[4], today, birth=True),
        "sex": parts[5].upper()[:1] if parts[5].upper()[:1] in ("M", "F", "U", "X") else None,
    }
    if not number:
        return None, extra
    issuer = parts[1].upper() if re.match(r"^[A-Z]{3}$", parts[1].upper()) else ""
    expiry = _docs_date(parts[6], today, birth=False)
    return TravelDocument(parts[0].upper()[:2], number[:20], issuer, expiry), extra


def _segment(record: _RecordDraft, seg: Seg, today: dt.date) -> None:
    tag, q = seg.tag, seg.get(0)
    if tag == "SAC":
        record.history = True
    if record.history:
        return
    traveller = record.travellers[-1] if record.travellers else None
    if tag == "RCI":
        record.carrier, record.locator = seg.get(0)[:3].upper(), seg.get(0, 1)[:12].upper()
        record.created = pnr_datetime(seg.get(0, 3), seg.get(0, 4))
    elif tag == "DAT":
        for i in range(len(seg.elements)):
            moment = pnr_datetime(seg.get(i, 1), seg.get(i, 2))
            if seg.get(i) == "700":
                record.modified = moment
            elif seg.get(i) == "710":
                record.ticketed = record.ticketed or moment
    elif tag == "ORG" and record.locator:
        agency = seg.get(1) or seg.get(0, 1)
        record.agency = agency[:20] or None
    elif tag == "ADD":
        record.contacts.append(":".join(c for c in seg.composite(1) if c))
    elif tag == "IFT" and seg.get(0, 1) in _CONTACT_IFT:
        text = " ".join(seg.get(i) for i in range(1, len(seg.elements)))
        if seg.get(0, 1) == "43" or re.search(r"\bCTC[A-Z]?\b|\d{6}", text):
            record.contacts.append(text)
    elif tag == "EBD":
        digits = re.sub(r"[^0-9]", "", seg.get(1))
        record.bags = int(digits[:4]) if digits else record.bags
    elif tag == "TIF":
        record.travellers.append(
            _TravellerDraft(
                " ".join(seg.get(0).upper().split())[:120],
                " ".join(seg.get(1).upper().split())[:120],
                seg.get(1, 2)[:8],
            )
        )
    elif tag == "FOP":
        record.payments.append(q.upper()[:4] or "UNKNOWN")
    elif tag == "TVL":
        leg = _tvl(seg)
        if leg is not None:
            record.legs.append(leg)
    elif tag == "SSR" and q.upper() == "DOCS" and traveller is not None:
        document, extra = _docs(seg.get(0, 8) or seg.get(1), today)
        traveller.document = document or traveller.document
        traveller.birth = extra["birth"] or traveller.birth  # type: ignore[assignment]
        traveller.sex = extra["sex"] or traveller.sex  # type: ignore[assignment]
        traveller.nationality = extra["nationality"] or traveller.nationality  # type: ignore[assignment]
    elif tag == "SSR" and q.upper() in ("CTCE", "CTCM", "CTCH", "CTCB"):
        record.contacts.append(seg.get(0, 8) or seg.get(1))
    elif tag == "SSR" and q.upper() == "SEAT":
        for i in range(1, len(seg.elements)):
            seat, who = seg.get(i, 0).upper()[:4], seg.get(i, 2)
            for t in record.travellers:
                if seat and (t.reference == who or len(record.travellers) == 1):
                    t.seats.append(seat)
    elif tag == "SSD" and traveller is not None and q:
        traveller.seats.append(q.upper()[:4])


def parse_pnrgov(
    message: EdifactMessage, key: bytes, *, today: dt.date | None = None
) -> PnrgovMessage:
    """The reservations of a PNRGOV ``message``; a reservation without a locator is kept
    under an empty locator (and the vetting can still link it by document)."""
    today = today or dt.datetime.now(dt.UTC).date()
    flight: Leg | None = None
    records: list[_RecordDraft] = []
    current: _RecordDraft | None = None
    for seg in message.segments[1:]:
        if seg.tag in ("UNT", "UNZ"):
            break
        if seg.tag == "SRC" or (seg.tag == "RCI" and (current is None or current.locator)):
            current = _RecordDraft()
            records.append(current)
            if seg.tag == "SRC":
                continue
        if current is None:
            if seg.tag == "TVL" and flight is None:
                flight = _tvl(seg)
            continue
        _segment(current, seg, today)
    return PnrgovMessage(
        reference=message.reference[:35],
        version=message.version[:8],
        flight=flight,
        records=tuple(r.build(key) for r in records if r.locator or r.travellers),
    )
