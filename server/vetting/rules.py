"""User-defined risk rules: conditions on a traveller's API and PNR fields and on facts
derived from them. A rule matches when all its conditions hold; an expired or disabled rule
is not applied. Facts a traveller lacks (no PNR, say) never satisfy a condition."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
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

    @cached_property
    def tests(self) -> tuple[tuple[str, Test], ...]:
        """The conditions compiled once: (fact, test of its value)."""
        return tuple((c.fact, compile_condition(c)) for c in self.conditions)


def route(legs: tuple[Leg, ...] | list[Leg]) -> str:
    if not legs:
        return ""
    return "-".join([legs[0].origin, *(leg.destination for leg in legs)])


Test = Callable[[Any], bool]
_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


def _never(_fact: Any) -> bool:
    return False


def _scalar_test(condition: Condition) -> Test:
    """The test of one (not list) fact value, with the condition's value prepared once."""
    op, value = condition.op, condition.value
    if condition.fact in NUMERIC:
        compare = _NUMERIC_OPS.get(op)
        try:
            limit = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return _never
        if compare is None:
            return _never

        def numeric(fact: Any) -> bool:
            try:
                return compare(float(fact), limit)
            except (TypeError, ValueError):
                return False

        return numeric
    if condition.fact in BOOLEAN:
        wanted = value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes")
        if op == "eq":
            return lambda fact: bool(fact) == wanted
        return lambda fact: bool(fact) != wanted
    options = [str(v).upper() for v in value] if isinstance(value, list) else [str(value).upper()]
    first, chosen = options[0], frozenset(options)
    tests: dict[str, Test] = {
        "eq": lambda fact: str(fact).upper() == first,
        "ne": lambda fact: str(fact).upper() != first,
        "in": lambda fact: str(fact).upper() in chosen,
        "not_in": lambda fact: str(fact).upper() not in chosen,
        "contains": lambda fact: any(option in str(fact).upper() for option in options),
    }
    return tests.get(op, _never)


def compile_condition(condition: Condition) -> Test:
    """A condition as a test of the fact's value: a missing fact never holds; a list fact
    (several forms of payment) holds when any item does (for ``ne``/``not_in``: every item)."""
    scalar = _scalar_test(condition)
    every = condition.op in ("ne", "not_in")

    def test(fact: Any) -> bool:
        if fact is None:
            return False
        if isinstance(fact, (list, tuple)):
            held = (item is not None and scalar(item) for item in fact)
            return all(held) if every else any(held)
        return scalar(fact)

    return test


def matches(rule: Rule, facts: dict[str, Any]) -> list[str]:
    """The facts that agreed when every condition of ``rule`` holds; [] otherwise."""
    for name, test in rule.tests:
        if not test(facts.get(name)):
            return []
    return list(dict.fromkeys(c.fact for c in rule.conditions))


def age_on(birth: dt.date | None, day: dt.date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
