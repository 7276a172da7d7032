"""Synthetic PAXLST and PNRGOV messages for tests, the demo and the benchmark.

:class:`GeneratedTraveller` records describe the people; :func:`paxlst` and :func:`pnrgov`
write them as EDIFACT with pydifact's serializer, in either directory (D02B or D05B),
single or multi-leg, passengers or crew. Names come from a small fixed vocabulary mixed by
a seeded random generator: the same seed gives the same messages."""

from __future__ import annotations

import datetime as dt
import random
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydifact.segments import Segment
from pydifact.serializer import Serializer

from server.vetting.pnrgov import MONTH_NAMES

SURNAMES = (
    "BAPTISTE", "CHARLES", "JOSEPH", "WILLIAMS", "PIERRE", "HENRY", "THOMAS", "GEORGE",
    "ALEXANDER", "FRANCIS", "MOHAMMED", "SINGH", "RAMPERSAD", "PERSAUD", "DOUGLAS", "BROWN",
    "CAMPBELL", "RICHARDS", "JOHN", "LEWIS", "ROBINSON", "MARTIN", "NURSE", "GRANT", "BAILEY",
)  # fmt: skip
GIVEN = (
    "MARIE", "JEAN", "ANNA", "DAVID", "KEISHA", "ANDRE", "RAVI", "PRIYA", "MARCUS", "SHELLY",
    "TREVOR", "NADIA", "KEVIN", "ALICIA", "OMAR", "JUNE", "CARLOS", "LEON", "RHONDA", "SEAN",
)  # fmt: skip
STATES = ("TTO", "JAM", "BRB", "GUY", "LCA", "GRD", "VCT", "DMA", "KNA", "ATG", "USA", "GBR")


@dataclass(frozen=True)
class GeneratedTraveller:
    surname: str
    given_names: str
    birth_date: dt.date
    sex: str
    nationality: str
    document_number: str
    issuer: str
    expiry: dt.date
    reservation: str
    role: str = "passenger"
    seat: str = ""
    residence: str | None = None


@dataclass(frozen=True)
class GeneratedFlight:
    carrier: str
    number: str
    stops: tuple[str, ...]  # ORIGIN, [TRANSIT...], DESTINATION
    departure: dt.datetime
    travellers: tuple[GeneratedTraveller, ...] = field(default_factory=tuple)
    block_minutes: int = 150

    @property
    def designator(self) -> str:
        return f"{self.carrier}{self.number}"


def random_travellers(
    count: int,
    rng: random.Random,
    *,
    role: str = "passenger",
    party_size: int = 3,
    prefix: str = "",
) -> list[GeneratedTraveller]:
    out: list[GeneratedTraveller] = []
    locator = ""
    for i in range(count):
        if i % party_size == 0:
            locator = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 55))
        issuer = rng.choice(STATES)
        out.append(
            GeneratedTraveller(
                surname=rng.choice(SURNAMES),
                given_names=f"{rng.choice(GIVEN)} {rng.choice(GIVEN)}"
                if i % 4
                else rng.choice(GIVEN),
                birth_date=birth,
                sex=rng.choice("MF"),
                nationality=issuer,
                document_number=f"{prefix}{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{rng.randrange(10**7):07d}",
                issuer=issuer,
                expiry=dt.date(2030, 1, 1) + dt.timedelta(days=rng.randrange(0, 3000)),
                reservation="" if role == "crew" else locator,
                role=role,
                seat=f"{rng.randrange(1, 40)}{rng.choice('ABCDEF')}",
                residence=issuer,
            )
        )
    return out


def _unb(
    sender: str, recipient: str, prepared: dt.datetime, reference: str, *tail: str | list[str]
) -> Segment:
    when = [prepared.strftime("%y%m%d"), prepared.strftime("%H%M")]
    return Segment("UNB", ["UNOA", "4"], sender, recipient, when, reference, *tail)


def _dtm(moment: dt.datetime) -> str:
    return moment.strftime("%y%m%d%H%M")


def paxlst(
    flight: GeneratedFlight,
    *,
    reference: str,
    version: str = "05B",
    sender: str = "CARRIER",
    recipient: str = "CARICOMAPI",
    function: str = "",
    iapi: bool = False,
    crew: bool | None = None,
    break_lines: bool = False,
) -> str:
    """A PAXLST interchange for ``flight``: one TDT group per leg (multi-leg when the flight
    has transit stops); ``iapi`` asks for a CUSRES answer (UNB acknowledgement request)."""
    crew = all(t.role == "crew" for t in flight.travellers) if crew is None else crew
    prepared = flight.departure - dt.timedelta(hours=1)
    unb_tail: list[str | list[str]] = ["", "", "", "1"] if iapi else []
    segments = [
        _unb(sender, recipient, prepared, reference, *unb_tail),
        Segment(
            "UNG",
            "PAXLST",
            sender,
            recipient,
            [prepared.strftime("%y%m%d"), prepared.strftime("%H%M")],
            "1",
            "UN",
            ["D", version],
        ),  # fmt: skip
        Segment(
            "UNH",
            "1",
            ["PAXLST", "D", version, "UN", "IATA"],
            f"{flight.designator}/{flight.departure:%y%m%d}",
        ),
        Segment("BGM", "250" if crew else "745", *([function] if function else [])),
    ]
    if version >= "05B":
        segments.append(Segment("RFF", ["TN", f"{reference}X", "", "", "1"]))
    segments += [
        Segment("NAD", "MS", "", "", "OPERATIONS CONTROL"),
        Segment("COM", ["18685550100", "TE"]),
    ]
    leg_start = flight.departure
    for origin, destination in zip(flight.stops, flight.stops[1:], strict=False):
        arrival = leg_start + dt.timedelta(minutes=flight.block_minutes)
        segments += [
            Segment("TDT", "20", flight.designator, "", "", flight.carrier),
            Segment("LOC", "125", origin),
            Segment("DTM", ["189", _dtm(leg_start), "201"]),
            Segment("LOC", "87", destination),
            Segment("DTM", ["232", _dtm(arrival), "201"]),
        ]
        leg_start = arrival + dt.timedelta(minutes=60)
    for t in flight.travellers:
        names = [t.surname, *t.given_names.split(" ", 1)]
        segments += [
            Segment(
                "NAD",
                "FM" if t.role == "crew" else "FL",
                "",
                "",
                names,
                "1 MAIN STREET",
                "PORT OF SPAIN",
                "",
                "",
                t.residence or "",
            ),  # fmt: skip
            Segment("ATT", "2", "", t.sex),
            Segment("DTM", ["329", t.birth_date.strftime("%y%m%d")]),
        ]
        if t.role == "crew":
            segments.append(Segment("EMP", "1", ["CR1", "110", "111"]))
        segments += [
            Segment("LOC", "178", flight.stops[0]),
            Segment("LOC", "179", flight.stops[-1]),
        ]
        if t.residence:
            segments.append(Segment("LOC", "174", t.residence))
        segments.append(Segment("NAT", "2", t.nationality))
        if t.reservation:
            segments.append(Segment("RFF", ["AVF", t.reservation]))
        if t.seat:
            segments.append(Segment("RFF", ["SEA", t.seat]))
        segments += [
            Segment("DOC", ["P", "110", "111"], t.document_number),
            Segment("DTM", ["36", t.expiry.strftime("%y%m%d")]),
            Segment("LOC", "91", t.issuer),
        ]
    segments.append(Segment("CNT", ["41" if crew else "42", str(len(flight.travellers))]))
    count = sum(1 for s in segments if s.tag not in ("UNB", "UNG")) + 1
    segments += [
        Segment("UNT", str(count), "1"),
        Segment("UNE", "1", "1"),
        Segment("UNZ", "1", reference),
    ]
    return Serializer().serialize(segments, with_una_header=True, break_lines=break_lines)


def _docs_date(day: dt.date) -> str:
    return f"{day.day:02d}{MONTH_NAMES[day.month - 1]}{day.year % 100:02d}"


def _pnr_date(moment: dt.datetime) -> list[str]:
    return [moment.strftime("%d%m%y"), moment.strftime("%H%M")]


@dataclass(frozen=True)
class GeneratedBooking:
    locator: str
    travellers: tuple[GeneratedTraveller, ...]
    created: dt.datetime
    ticketed: dt.datetime | None
    payment: str = "CC"  # CC credit card, CA cash, MS miscellaneous
    one_way: bool = False
    agency: str = "52519950"
    phone: str = "+1 868 555 0199"
    email: str = "traveller@example.org"
    bags: int = 1


def pnrgov(
    flight: GeneratedFlight,
    bookings: Sequence[GeneratedBooking],
    *,
    reference: str,
    sender: str = "CARRIER",
    recipient: str = "CARICOMPNR",
) -> str:
    prepared = flight.departure - dt.timedelta(hours=24)
    origin, destination = flight.stops[0], flight.stops[-1]
    segments = [
        _unb(sender, recipient, prepared, reference),
        Segment(
            "UNH",
            "1",
            ["PNRGOV", "11", "1", "IA"],
            f"{flight.designator}/{flight.departure:%d%m%y}",
        ),
        Segment("MSG", ["", "22"]),
        Segment("ORG", [flight.carrier, origin], "OPS"),
        Segment(
            "TVL", _pnr_date(flight.departure), origin, destination, flight.carrier, flight.number
        ),
        Segment("EQN", str(len(bookings))),
    ]
    for booking in bookings:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydifact warns of an empty segment: SRC is one
            segments.append(Segment("SRC"))
        segments += [
            Segment("RCI", [flight.carrier, booking.locator, "", *_pnr_date(booking.created)]),
            Segment(
                "DAT",
                ["700", *_pnr_date(booking.created)],
                *([["710", *_pnr_date(booking.ticketed)]] if booking.ticketed else []),
            ),  # fmt: skip
            Segment("ORG", [flight.carrier, origin], [booking.agency, origin]),
            Segment(
                "ADD",
                "",
                ["702", "1 MAIN STREET", "PORT OF SPAIN", "", "", "TT", "", booking.phone],
            ),
            Segment("EBD", ["USD", "0.00"], [str(booking.bags), "", "N"]),
        ]
        for i, t in enumerate(booking.travellers, 1):
            names = t.given_names.replace(" ", "/")
            docs = (
                f"/P/{t.issuer}/{t.document_number}/{t.nationality}/{_docs_date(t.birth_date)}/"
                f"{t.sex}/{_docs_date(t.expiry)}/{t.surname}/{names}"
            )
            segments += [
                Segment("TIF", t.surname, [t.given_names, "A", str(i)]),
                Segment("SSR", ["DOCS", "HK", "1", flight.carrier, "", "", "", "", docs]),
                Segment("TKT", [f"0062{zlib.crc32(t.document_number.encode()):010d}", "T", "1"]),
                Segment("FOP", [booking.payment, "", "", "VI", "XXXXXXXXXXXX1186", "0230"]),
                Segment("IFT", ["4", "43"], t.surname, booking.email),
            ]
        segments += [
            Segment(
                "TVL",
                _pnr_date(flight.departure),
                origin,
                destination,
                flight.carrier,
                [flight.number, "Y"],
            ),
            Segment(
                "SSR",
                [
                    "SEAT",
                    "HK",
                    str(len(booking.travellers)),
                    flight.carrier,
                    "",
                    "",
                    origin,
                    destination,
                ],
                *[[t.seat, "", str(i)] for i, t in enumerate(booking.travellers, 1) if t.seat],
            ),  # fmt: skip
        ]
        if not booking.one_way:
            back = flight.departure + dt.timedelta(days=7)
            segments.append(
                Segment(
                    "TVL",
                    _pnr_date(back),
                    destination,
                    origin,
                    flight.carrier,
                    [str(int(flight.number) + 1), "Y"],
                )
            )
    count = sum(1 for s in segments if s.tag != "UNB") + 1
    segments += [Segment("UNT", str(count), "1"), Segment("UNZ", "1", reference)]
    return Serializer().serialize(segments, with_una_header=True)
