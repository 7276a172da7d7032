"""User-defined risk rules: conditions on a traveller's API and PNR fields and on facts
derived from them. A rule matches when all its conditions hold; an expired or disabled rule
is not applied. Facts a traveller lacks (no PNR, say) never satisfy a condition."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from server.vetting.records import Leg

FactName = Literal[
    "route",  # "ORIGIN-...-DESTINATION" of the flight's legs
    "origin",
    "destination",
    "embarkation",
    "debarkation",
    "carrier",
    "flight",
    "role",  # passenger | crew
    "nationality",
    "residence",
    "sex",
    "age",  # whole years on the day of departure
    "document_type",
    "document_issuer",
    "booking_to_departure_hours",
    "ticketing_to_departure_hours",
    "one_way",
    "payment",  # the booking's forms of payment (CC, CA, MS, ...)
    "agency",
    "bags",
    "companions",  # other travellers in the booking
    "companion_hit",  # another traveller of the booking has a list hit
    "has_pnr",
]
Operator = Literal["eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "contains"]
NUMERIC = {
    "age",
    "booking_to_departure_hours",
    "ticketing_to_departure_hours",
    "bags",
    "companions",
}
BOOLEAN = {"one_way", "companion_hit", "has_pnr"}


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fact: FactName
    op: Operator
    value: str | float | bool | list[str]

    @field_validator("value")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        if isinstance(value, list) and len(value) > 200:
            raise ValueError("at most 200 values")
        if isinstance(value, str) and len(value) > 200:
            raise ValueError("at most 200 characters")
        return value


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=80)
    reason: str = Field(min_length=1, max_length=300)
    conditions: list[Condition] = Field(min_length=1, max_length=20)
    expires_at: dt.datetime
    enabled: bool = True

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    owner: str
    reason: str
    conditions: tuple[Condition, ...]
    expires_at: dt.datetime
    enabled: bool = True

    def active(self, now: dt.datetime) -> bool:
        return self.enabled and self.expires_at > now


def route(legs: tuple[Leg, ...] | list[Leg]) -> str:
    if not legs:
        return ""
    return "-".join([legs[0].origin, *(leg.destination for leg in legs)])


def _holds(condition: Condition, fact: Any) -> bool:
    if fact is None:
        return False
    op, value = condition.op, condition.value
    if isinstance(fact, (list, tuple)):  # e.g. several forms of payment: any of them
        return (
            any(_holds(condition, item) for item in fact)
            if op not in ("ne", "not_in")
            else all(_holds(condition, item) for item in fact)
        )
    if condition.fact in NUMERIC:
        try:
            number, limit = float(fact), float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
        return {
            "eq": number == limit,
            "ne": number != limit,
            "lt": number < limit,
            "le": number <= limit,
            "gt": number > limit,
            "ge": number >= limit,
        }.get(op, False)
    if condition.fact in BOOLEAN:
        wanted = value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes")
        return (bool(fact) == wanted) if op == "eq" else (bool(fact) != wanted)
    text = str(fact).upper()
    options = [str(v).upper() for v in value] if isinstance(value, list) else [str(value).upper()]
    return {
        "eq": text == options[0],
        "ne": text != options[0],
        "in": text in options,
        "not_in": text not in options,
        "contains": any(option in text for option in options),
    }.get(op, False)


def matches(rule: Rule, facts: dict[str, Any]) -> list[str]:
    """The facts that agreed when every condition of ``rule`` holds; [] otherwise."""
    agreeing: list[str] = []
    for condition in rule.conditions:
        if not _holds(condition, facts.get(condition.fact)):
            return []
        agreeing.append(condition.fact)
    return list(dict.fromkeys(agreeing))


def age_on(birth: dt.date | None, day: dt.date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
