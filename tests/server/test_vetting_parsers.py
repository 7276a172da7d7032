"""PAXLST and PNRGOV parsing: the hand-written messages after the WCO/IATA/ICAO examples,
the generator's messages in both directories, leniency on syntax, strictness on identity,
and fuzzing (only typed errors)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.vetting.edifact import EdifactError, Seg, interchange, segments
from server.vetting.generator import (
    GeneratedBooking,
    GeneratedFlight,
    paxlst,
    pnrgov,
    random_travellers,
)
from server.vetting.paxlst import parse_paxlst
from server.vetting.pnrgov import parse_pnrgov
from server.vetting.records import PaxlstMessage

DATA = Path(__file__).resolve().parents[1] / "data" / "vetting"
KEY = b"k" * 32
TYPES = ("PAXLST", "PNRGOV")


def _api(name: str) -> PaxlstMessage:
    parsed = interchange((DATA / name).read_bytes(), TYPES)
    return parse_paxlst(parsed.messages[0], today=dt.date(2026, 12, 1))


def test_d02b_passengers_with_every_identity_field() -> None:
    # GIVEN a D02B passenger list of one leg, with an escaped apostrophe and a visa
    message = _api("paxlst_d02b_single_leg.edi")
    # THEN the flight, both passengers and their fields are read
    assert message.version == "D02B" and message.list_type == "passenger"
    (leg,) = message.legs
    assert (leg.flight, leg.origin, leg.destination) == ("CA455", "MIA", "POS")
    assert leg.departure == dt.datetime(2026, 12, 2, 10, 30, tzinfo=dt.UTC)
    first, second = message.travellers
    assert (first.surname, first.given_names, first.sex) == ("O'CONNOR", "SIOBHAN MARY", "F")
    assert first.birth_date == dt.date(1985, 3, 15) and first.nationality == "TTO"
    assert (first.embarkation, first.debarkation, first.residence) == ("MIA", "POS", "TTO")
    assert first.reservation == "QX7LMN" and first.passenger_reference == "0001"
    assert first.document is not None and first.document.number == "TA1234567"
    assert first.document.expiry == dt.date(2030, 12, 31) and first.problems == ()
    # a passport is the travel document even when a visa follows; CCYYMMDD dates work too
    assert second.document is not None and second.document.number == "G0098765"
    assert [d.doc_type for d in second.documents] == ["P", "V"]
    assert second.birth_date == dt.date(1979, 1, 2) and second.seat == "12C"


def test_d05b_multi_leg_messy_real_world_layout() -> None:
    # GIVEN leading blanks and line breaks, a lower-case tag, LOC 92 routing in two TDT
    # groups, a document without a type, an empty DOC group, bags, an in-transit passenger
    message = _api("paxlst_d05b_multileg_messy.edi")
    assert [(leg.origin, leg.destination) for leg in message.legs] == [
        ("ANU", "SKB"),
        ("SKB", "BGI"),
    ]
    assert message.transaction_reference == "LW2031R"
    first, second = message.travellers
    assert first.surname == "DE LA CRUZ" and first.bags == 2 and first.bag_weight_kg == 31.5
    assert first.document is not None and first.document.doc_type == ""
    assert len(first.documents) == 1  # the empty DOC group is skipped
    assert second.in_transit and second.role == "passenger" and second.debarkation == "SKB"
    assert second.birth_date == dt.date(2001, 11, 30)  # two-digit year never in the future


def test_crew_list_change_and_iapi_request() -> None:
    crew = _api("paxlst_d05b_crew.edi")
    assert crew.list_type == "crew" and {t.role for t in crew.travellers} == {"crew"}
    assert crew.travellers[0].crew_function == "CR1"
    assert _api("paxlst_d05b_change.edi").function == "change"
    parsed = interchange((DATA / "paxlst_d05b_iapi.edi").read_bytes(), TYPES)
    assert parsed.acknowledgement_requested and parsed.control_reference == "CA0000020"


def test_identity_fields_are_strict_and_named_by_segment_never_by_value() -> None:
    bad, good = _api("paxlst_bad_identity.edi").travellers
    problems = " | ".join(bad.problems)
    for expected in ("surname missing", "sex not M", "birth date invalid", "nationality",
                     "document number malformed"):  # fmt: skip
        assert expected in problems
    assert bad.birth_date is None and bad.sex is None and bad.nationality is None
    assert "AB-12/34" not in problems  # the bad value itself is never repeated
    assert good.problems == ()


@pytest.mark.parametrize(
    ("name", "segment", "reason"),
    [
        ("bad_truncated.edi", "4 NAD", "no terminator"),
        ("bad_not_paxlst.edi", "2 UNH", "ORDERS is not"),
    ],
)
def test_unreadable_messages_name_the_segment_and_reason(
    name: str, segment: str, reason: str
) -> None:
    with pytest.raises(EdifactError) as caught:
        parsed = interchange((DATA / name).read_bytes(), TYPES)
        parse_paxlst(parsed.messages[0])
    assert caught.value.segment == segment and reason in caught.value.reason


def test_pnrgov_core_of_the_reservation_with_contacts_only_hashed() -> None:
    parsed = interchange((DATA / "pnrgov_two_bookings.edi").read_bytes(), TYPES)
    message = parse_pnrgov(parsed.messages[0], KEY, today=dt.date(2026, 12, 1))
    assert message.flight is not None and message.flight.flight == "CA455"
    first, second = message.records
    assert (first.locator, first.carrier, first.agency) == ("QX7LMN", "CA", "99887766")
    assert first.created == dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    assert first.ticketed == dt.datetime(2026, 12, 1, 9, 15, tzinfo=dt.UTC)
    assert first.payment_types == ("CA",) and first.one_way
    assert [t.surname for t in first.travellers] == ["O'CONNOR", "RAMPERSAD"]
    assert first.travellers[1].document is not None
    assert first.travellers[1].document.number == "G0098765"
    assert first.travellers[0].seats == ("11A",) and first.travellers[1].seats == ("12C",)
    # contact data: hashes and masks only, never the clear text
    text = repr(first)
    assert "5550177" not in text and "siobhan@" not in text.lower()
    assert first.contact_hashes and all(len(h) == 32 for h in first.contact_hashes)
    assert not second.one_way and second.payment_types == ("CC",)


def _flight(
    seed: int, *, stops: tuple[str, ...] = ("JFK", "POS"), crew: int = 0
) -> GeneratedFlight:
    rng = random.Random(seed)
    people = random_travellers(12, rng) + random_travellers(crew, rng, role="crew")
    return GeneratedFlight(
        "BW", "600", stops, dt.datetime(2026, 12, 2, 14, tzinfo=dt.UTC), tuple(people)
    )


@pytest.mark.parametrize("version", ["02B", "05B"])
def test_generated_messages_round_trip(version: str) -> None:
    flight = _flight(1, stops=("YYZ", "ANU", "POS"))
    text = paxlst(flight, reference="G1", version=version, break_lines=True)
    message = parse_paxlst(interchange(text, TYPES).messages[0])
    assert message.version == f"D{version}" and len(message.legs) == 2
    assert [(t.surname, t.document.number if t.document else "") for t in message.travellers] == [
        (t.surname, t.document_number) for t in flight.travellers
    ]
    assert all(not t.problems for t in message.travellers)
    booking = GeneratedBooking(
        flight.travellers[0].reservation,
        flight.travellers[:3],
        dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
        None,
    )
    pnr = parse_pnrgov(
        interchange(pnrgov(flight, [booking], reference="P1"), TYPES).messages[0], KEY
    )
    (record,) = pnr.records
    assert record.locator == booking.locator and len(record.travellers) == 3
    assert record.travellers[0].document is not None
    assert record.travellers[0].document.number == flight.travellers[0].document_number


VALID = paxlst(_flight(2, crew=2), reference="F1")


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.text(alphabet="UNHBGMTDLOCFAPX+:'?* \n0123456789", max_size=400),
        st.tuples(st.integers(0, len(VALID)), st.integers(0, 40), st.text(max_size=6)).map(
            lambda t: VALID[: t[0]] + t[2] + VALID[t[0] + t[1] :]
        ),
    )
)
def test_fuzzed_input_gives_a_message_or_a_typed_error(data: bytes | str) -> None:
    try:
        parsed = interchange(data, TYPES)
        for message in parsed.messages:
            if message.type == "PAXLST":
                parse_paxlst(message)
            else:
                parse_pnrgov(message, KEY)
    except EdifactError as exc:
        assert exc.reason and exc.code == "edifact_invalid"


def _normal(segs: list[Seg]) -> list[tuple[str, tuple[tuple[str, ...], ...]]]:
    """Trailing empty components dropped (pydifact drops them, a split keeps them)."""
    out = []
    for seg in segs:
        elements = []
        for element in seg.elements:
            parts = list(element)
            while len(parts) > 1 and parts[-1] == "":
                parts.pop()
            elements.append(tuple(parts))
        out.append((seg.tag, tuple(elements)))
    return out


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.edi")))
def test_the_fast_splitter_agrees_with_pydifact_on_every_sample(name: str) -> None:
    text = (DATA / name).read_text(encoding="utf-8").strip()
    try:
        fast = segments(text)
    except EdifactError:
        # stricter than pydifact, which silently drops an unterminated last segment
        assert name.startswith("bad_")
        return
    assert _normal(fast) == _normal(segments(text, engine="pydifact"))


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    cut=st.integers(0, len(VALID)),
    drop=st.integers(0, 12),
    insert=st.text(alphabet="+:'?* AB9\n", max_size=5),
)
def test_the_fast_splitter_agrees_with_pydifact_on_mutations(
    cut: int, drop: int, insert: str
) -> None:
    text = (VALID[:cut] + insert + VALID[cut + drop :]).strip()
    try:
        reference = segments(text, engine="pydifact")
    except EdifactError:
        return  # pydifact refuses it; the fast splitter may refuse or read it
    try:
        fast = segments(text)
    except EdifactError as exc:  # stricter than pydifact (a tail dropped, a composite tag)
        assert exc.reason
        return
    assert _normal(fast) == _normal(reference)


def test_the_legacy_us_cedipax_layout_is_read_too() -> None:
    # GIVEN the pre-UN US layout: PDT segments, LOC 005/PT/008 with UN/LOCODEs, DTM 136/132
    message = _api("paxlst_legacy_us_cedipax.edi")
    assert [(leg.origin, leg.destination) for leg in message.legs] == [
        ("MIA", "UVF"),
        ("UVF", "POS"),
    ]
    assert message.legs[0].departure == dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
    first, second, crew = message.travellers
    assert (first.surname, first.birth_date, first.sex) == ("MOHAMMED", dt.date(1980, 2, 14), "F")
    assert first.document is not None and first.document.issuer == "TTO"
    assert second.given_names == "O'NEIL P" and second.debarkation == "UVF"
    assert crew.role == "crew" and all(not t.problems for t in message.travellers)
