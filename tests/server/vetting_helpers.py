"""Shared helpers of the vetting tests: a flight of generated travellers, regional list
uploads through the administrators' path, the vetting service of a test server."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from server.api import lists
from server.api.schemas import ListChangeIn, ListName, ListUpload
from server.state import ServerState
from server.vetting import analyst
from server.vetting.config import VettingConfig
from server.vetting.generator import GeneratedFlight, GeneratedTraveller, random_travellers
from server.vetting.rules import Condition, RuleIn
from server.vetting.service import VettingService

KEY = b"c" * 32


def departure_tomorrow() -> dt.datetime:
    day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, 14, 0, tzinfo=dt.UTC)


def flight(
    seed: int,
    count: int = 8,
    *,
    number: str = "600",
    stops: tuple[str, ...] = ("JFK", "POS"),
    people: list[GeneratedTraveller] | None = None,
    party_size: int = 3,
) -> GeneratedFlight:
    travellers = (
        people
        if people is not None
        else random_travellers(count, random.Random(seed), party_size=party_size)
    )
    # unique documents per test run (the PostgreSQL schema lives for the whole session)
    # and names of their own: the lists of earlier tests must not match these travellers
    tag = f"{seed:02d}{random.randrange(10**4):04d}"
    letters = "".join(random.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(4))
    travellers = [
        replace(
            t,
            document_number=f"{t.document_number[:1]}{tag}{i:02d}",
            surname=f"{t.surname}{letters}{'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[i % 26]}",
        )
        for i, t in enumerate(travellers)
    ]
    return GeneratedFlight("BW", number, stops, departure_tomorrow(), tuple(travellers))


def upload(state: ServerState, name: ListName, changes: list[dict[str, Any]]) -> None:
    lists.upload(state, name, ListUpload(changes=[ListChangeIn(**c) for c in changes]), "admin")


def stolen(traveller: GeneratedTraveller) -> dict[str, Any]:
    """The lost/stolen change listing the traveller's passport."""
    return {
        "op": "upsert",
        "key": f"{traveller.issuer}:{traveller.document_number}",
        "data": {"doc_type": "P"},
    }


def payment_rule(session: Session, name: str, payment: str = "CA") -> int:
    """An analyst's rule, for 30 days, on a booking's form of payment; its id."""
    return analyst.save_rule(
        session,
        RuleIn(
            name=name,
            reason="pattern",
            conditions=[Condition(fact="payment", op="in", value=[payment])],
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
        ),
        "analyst-1",
    )


def watch(traveller: GeneratedTraveller, key: str, **data: Any) -> dict[str, Any]:
    return {
        "op": "upsert",
        "key": key,
        "data": {
            "surname": traveller.surname,
            "given_names": traveller.given_names,
            "birth_date": traveller.birth_date.isoformat(),
            "nationality": traveller.nationality,
            **data,
        },
    }


def service_of(state: ServerState, **config: Any) -> VettingService:
    return VettingService(state.database, VettingConfig(**config), KEY, state.list_signer)
