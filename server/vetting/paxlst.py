"""UN/EDIFACT PAXLST (D02B, D05B and later) mapped to :class:`PaxlstMessage`.

Segment groups as the WCO/IATA/ICAO API guidelines lay them out:

- header: BGM (745 passenger list, 250 or 336 crew list; document identifier CP change,
  XR cancellation, CL/CLOB/CLNB flight close-out), RFF+TN transaction reference;
- SG1 NAD+MS reporting party (COM);
- SG2 TDT+20 flight, with SG3 LOC+DTM stops: LOC 125 last departure, 87 first arrival, 92
  routing (a departure when DTM 189 follows, an arrival with DTM 232); several TDT groups
  or several stops give the legs of a multi-leg flight;
- SG4 NAD per traveller (FL passenger, DDU passenger in transit, FM crew, DDT crew in
  transit), with ATT+2 sex, DTM+329 birth date, MEA bags, GEI, FTX+BAG, LOC 22/178/179/174,
  EMP crew function, NAT+2, RFF AVF (reservation), ABO (passenger reference), SEA (seat);
  SG5 DOC with DTM 36 expiry, 182 issue, LOC+91 issuing state;
- CNT 42 (passengers) or 41 (crew).

Lenient where airlines are: unknown segments and qualifiers are skipped, empty DOC groups
ignored, a document without a type kept. Strict on identity: a traveller without a surname,
with an impossible birth date, a malformed document number or nationality keeps a
``problems`` entry naming the segment and field, and the vetting refers them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from server.vetting.dates import parse_birth_date, parse_date, parse_datetime
from server.vetting.edifact import EdifactError, EdifactMessage, Seg
from server.vetting.records import ApiTraveller, Leg, PaxlstMessage, TravelDocument

PASSENGER_ROLES = {"FL": False, "DDU": True}
CREW_ROLES = {"FM": False, "DDT": True, "COT": False}
CREW_LISTS = {"250", "336"}
_FUNCTIONS = {"CP": "change", "XR": "cancel", "CL": "closeout", "CLOB": "closeout"}
_STOP_KINDS = {"125": "dep", "87": "arr", "5": "dep", "8": "arr", "PT": "via"}
_DOCUMENT = re.compile(r"^[A-Z0-9]{1,20}$")
_CODE3 = re.compile(r"^[A-Z]{3}$")
_SEX = {"M", "F", "U", "X"}
_FLIGHT = re.compile(r"^([A-Z0-9]{2}[A-Z]?)?(\d{1,5}[A-Z]?)$")
MAX_NAME = 120


@dataclass
class _Stop:
    port: str
    kind: str  # dep | arr | "" (not yet known)
    time: dt.datetime | None = None


@dataclass
class _TravellerDraft:
    role: str
    in_transit: bool
    label: str
    surname: str = ""
    given: str = ""
    sex: str | None = None
    birth: dt.date | None = None
    nationality: str | None = None
    residence: str | None = None
    embarkation: str | None = None
    debarkation: str | None = None
    documents: list[TravelDocument] = field(default_factory=list)
    reservation: str | None = None
    reference: str | None = None
    seat: str | None = None
    bags: int | None = None
    weight: float | None = None
    crew_function: str | None = None
    problems: list[str] = field(default_factory=list)
    doc: dict[str, object] | None = None
    doc_label: str = ""


def _code(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def _flight(seg: Seg) -> tuple[str, str]:
    designator = _code(seg.get(1))
    carrier = _code(seg.get(4)) or _code(seg.get(3))
    match = _FLIGHT.match(designator)
    if match:
        prefix, number = match.group(1) or "", match.group(2)
        carrier = carrier or prefix
    else:
        number = designator
    return carrier[:3], number.lstrip("0")[:8] or number[:8]


def _legs(carrier: str, number: str, stops: list[_Stop]) -> list[Leg]:
    legs: list[Leg] = []
    departure: _Stop | None = None
    for i, stop in enumerate(stops):
        kind = stop.kind or ("dep" if i == 0 else "arr")
        if kind == "dep":
            departure = stop
            continue
        if departure is not None:
            legs.append(Leg(carrier, number, departure.port, stop.port, departure.time, stop.time))
            departure = None
        if kind == "via":  # a transit stop of the legacy US format: arrive, then depart
            departure = _Stop(stop.port, "dep", None)
    if not legs and stops:  # lenient: a flight with only one end stated is still a flight
        only = stops[0]
        arriving = only.kind == "arr"
        legs.append(
            Leg(carrier, number, "" if arriving else only.port, only.port if arriving else "",
                None if arriving else only.time, only.time if arriving else None)
        )  # fmt: skip
    return legs


def _port(text: str) -> str:
    """An IATA code; a UN/LOCODE (country and place, "NZAKL") gives its place."""
    code = _code(text.split(":")[0] if ":" in text else text)
    return code[2:5] if len(code) == 5 and code.isalpha() else code[:5]


def _number(text: str) -> int | None:
    digits = re.sub(r"[^0-9]", "", text)
    return int(digits[:6]) if digits else None


def _mea(draft: _TravellerDraft, seg: Seg) -> None:
    parts = [p for p in seg.composite(2) if p.strip()] or [seg.get(1)]
    value = parts[-1] if parts else ""
    if seg.get(0) == "CT":
        draft.bags = _number(value)
    elif seg.get(0) == "WT":
        try:
            draft.weight = float(value)
        except ValueError:
            draft.weight = None


def _close_document(draft: _TravellerDraft) -> None:
    doc, draft.doc = draft.doc, None
    if doc is None:
        return
    number = _code(str(doc["number"]))
    if not number:
        return  # an empty DOC group (seen in real traffic): nothing to keep
    if not _DOCUMENT.match(number):
        draft.problems.append(f"{draft.doc_label}: document number malformed")
        return
    issuer = _code(str(doc.get("issuer", "")))
    if issuer and not _CODE3.match(issuer):
        draft.problems.append(f"{draft.doc_label}: document issuer malformed")
        issuer = ""
    draft.documents.append(
        TravelDocument(
            _code(str(doc["type"]))[:2],
            number,
            issuer,
            doc.get("expiry"),  # type: ignore[arg-type]
            doc.get("issued"),  # type: ignore[arg-type]
        )
    )


def _finish(draft: _TravellerDraft) -> ApiTraveller:
    _close_document(draft)
    problems = list(draft.problems)
    if not draft.surname:
        problems.append(f"{draft.label}: surname missing")
    if not draft.documents:
        problems.append(f"{draft.label}: no travel document")
    if draft.birth is None:
        problems.append(f"{draft.label}: birth date missing or invalid")
    return ApiTraveller(
        role=draft.role,
        in_transit=draft.in_transit,
        surname=draft.surname[:MAX_NAME],
        given_names=draft.given[:MAX_NAME],
        sex=draft.sex,
        birth_date=draft.birth,
        nationality=draft.nationality,
        residence=draft.residence,
        embarkation=draft.embarkation,
        debarkation=draft.debarkation,
        documents=tuple(draft.documents),
        reservation=draft.reservation,
        passenger_reference=draft.reference,
        seat=draft.seat,
        bags=draft.bags,
        bag_weight_kg=draft.weight,
        crew_function=draft.crew_function,
        problems=tuple(dict.fromkeys(problems)),
    )


def _traveller_segment(draft: _TravellerDraft, seg: Seg, today: dt.date) -> None:
    tag, q = seg.tag, seg.get(0)
    if draft.doc is not None and tag in ("DTM", "LOC") and q in ("36", "182", "91"):
        if q == "36":
            draft.doc["expiry"] = parse_date(seg.get(0, 1))
        elif q == "182":
            draft.doc["issued"] = parse_date(seg.get(0, 1))
        else:
            draft.doc["issuer"] = seg.get(1)
        return
    if tag == "DOC":
        _close_document(draft)
        draft.doc = {"type": seg.get(0), "number": seg.get(1)}
        draft.doc_label = seg.label
    elif tag == "ATT" and q == "2":
        sex = _code(seg.get(2))
        if sex and sex not in _SEX:
            draft.problems.append(f"{seg.label}: sex not M, F, U or X")
        draft.sex = sex if sex in _SEX else None
    elif tag == "DTM" and q == "329":
        draft.birth = parse_birth_date(seg.get(0, 1), today)
        if draft.birth is None or draft.birth > today:
            draft.problems.append(f"{seg.label}: birth date invalid")
            draft.birth = None
    elif tag == "LOC":
        place = _code(seg.get(1))[:5] or None
        slot = {"178": "embarkation", "179": "debarkation", "174": "residence"}.get(q)
        if slot:
            setattr(draft, slot, place)
    elif tag == "NAT":
        nationality = _code(seg.get(1))
        if nationality and not _CODE3.match(nationality):
            draft.problems.append(f"{seg.label}: nationality malformed")
        draft.nationality = nationality if _CODE3.match(nationality) else None
    elif tag == "RFF":
        kind, value = seg.get(0), seg.get(0, 1)[:35] or None
        slot = {"AVF": "reservation", "ABO": "reference", "SEA": "seat"}.get(kind)
        if slot:
            setattr(draft, slot, value)
    elif tag == "MEA":
        _mea(draft, seg)
    elif tag == "EMP":
        draft.crew_function = seg.get(1)[:8] or None


def _pdt(seg: Seg, today: dt.date) -> ApiTraveller:
    """``PDT+P/NUMBER:EXPIRY:ISSUER+SURNAME:GIVEN:MIDDLE:BIRTH:SEX+PAX|CREW+FROM:TO``."""
    kind, _, number = seg.get(0).partition("/")
    role = "crew" if seg.get(2).upper() == "CREW" else "passenger"
    draft = _TravellerDraft(role, False, seg.label)
    draft.surname = " ".join(seg.get(1).upper().split())
    draft.given = " ".join(f"{seg.get(1, 1)} {seg.get(1, 2)}".upper().split())
    draft.birth = parse_birth_date(seg.get(1, 3), today)
    if seg.get(1, 3) and draft.birth is None:
        draft.problems.append(f"{seg.label}: birth date invalid")
    sex = _code(seg.get(1, 4))
    draft.sex = sex if sex in _SEX else None
    draft.embarkation = _port(seg.get(3, 0)) or None
    draft.debarkation = _port(seg.get(3, 1)) or None
    draft.doc = {"type": kind, "number": number, "issuer": _iso3(seg.get(0, 2)),
                 "expiry": parse_date(seg.get(0, 1))}  # fmt: skip
    draft.doc_label = seg.label
    return _finish(draft)


# fmt: off
_ALPHA2 = {
    "US": "USA", "GB": "GBR", "NZ": "NZL", "IE": "IRL", "CA": "CAN", "AU": "AUS", "TT": "TTO",
    "JM": "JAM", "BB": "BRB", "GY": "GUY", "LC": "LCA", "GD": "GRD", "VC": "VCT", "DM": "DMA",
    "KN": "KNA", "AG": "ATG", "BS": "BHS", "BZ": "BLZ", "SR": "SUR", "HT": "HTI", "FR": "FRA",
    "DE": "DEU", "NL": "NLD", "ES": "ESP",
}
# fmt: on


def _iso3(code: str) -> str:
    """Legacy messages give two-letter issuers; the three-letter code when known."""
    code = _code(code)
    return _ALPHA2.get(code, code) if len(code) == 2 else code


def parse_paxlst(message: EdifactMessage, *, today: dt.date | None = None) -> PaxlstMessage:
    """The PAXLST ``message``; :class:`EdifactError` when it has no flight at all."""
    today = today or dt.datetime.now(dt.UTC).date()
    list_code, function, reporting, transaction = "745", "original", "", ""
    declared: int | None = None
    legs: list[Leg] = []
    travellers: list[ApiTraveller] = []
    warnings: list[str] = []
    flight: tuple[str, str] | None = None
    stops: list[_Stop] = []
    draft: _TravellerDraft | None = None

    def close_flight() -> None:
        nonlocal flight, stops
        if flight is not None:
            legs.extend(_legs(flight[0], flight[1], stops))
        flight, stops = None, []

    for seg in message.segments[1:]:
        tag, q = seg.tag, seg.get(0)
        if tag == "BGM":
            list_code = q or "745"
            ident = _code(seg.get(1))
            function = _FUNCTIONS.get(ident, "closeout" if ident.startswith("CL") else "original")
        elif tag == "NAD" and (q in PASSENGER_ROLES or q in CREW_ROLES):
            close_flight()
            if draft is not None:
                travellers.append(_finish(draft))
            crew = q in CREW_ROLES
            draft = _TravellerDraft(
                "crew" if crew else "passenger",
                (CREW_ROLES if crew else PASSENGER_ROLES)[q],
                seg.label,
            )
            draft.surname = " ".join(seg.get(3).upper().split())
            given = [seg.get(3, i) for i in range(1, len(seg.composite(3)))]
            draft.given = " ".join(" ".join(given).upper().split())
        elif draft is not None and tag not in ("CNT", "UNT", "TDT"):
            _traveller_segment(draft, seg, today)
        elif tag == "NAD" and q == "MS":
            reporting = seg.get(3)[:70]
        elif tag == "RFF" and q == "TN":
            transaction = seg.get(0, 1)[:35]
        elif tag == "TDT":
            close_flight()
            flight = _flight(seg)
        elif tag == "LOC" and flight is not None:
            kind = _STOP_KINDS.get(q.lstrip("0") or q, "")
            stops.append(_Stop(_port(seg.get(1)), kind))
        elif tag == "DTM" and flight is not None and stops and q in ("189", "232"):
            stops[-1].time = parse_datetime(seg.get(0, 1), seg.get(0, 2))
            stops[-1].kind = stops[-1].kind or ("dep" if q == "189" else "arr")
        elif tag == "DTM" and flight is not None and stops and q in ("136", "132"):
            stops[-1].time = parse_datetime(seg.get(1) + seg.get(2)[:4])  # legacy US layout
        elif tag == "PDT":  # legacy US CEDIPAX: one segment per traveller
            close_flight()
            travellers.append(_pdt(seg, today))
        elif tag == "CNT" and q in ("41", "42"):
            declared = _number(seg.get(0, 1))
        if tag in ("CNT", "UNT") and draft is not None:
            travellers.append(_finish(draft))
            draft = None
    close_flight()
    if draft is not None:
        travellers.append(_finish(draft))
    if not legs:
        raise EdifactError("no flight leg (TDT with LOC/DTM)", message.header.label)
    if declared is not None and declared != len(travellers):
        warnings.append(f"CNT says {declared}, {len(travellers)} travellers found")
    crew_list = list_code in CREW_LISTS or (
        bool(travellers) and all(t.role == "crew" for t in travellers)
    )
    return PaxlstMessage(
        reference=message.reference[:35],
        version=message.version[:8],
        list_type="crew" if crew_list else "passenger",
        function=function,
        legs=tuple(legs),
        travellers=tuple(travellers),
        reporting_party=reporting,
        transaction_reference=transaction,
        declared_count=declared,
        warnings=tuple(warnings),
    )
