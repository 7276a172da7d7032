"""GIVEN the demo's family scenarios on simulated devices WHEN the real kiosk (the composition
root, the real pipeline and policy) reads each member's passport and face one after another
THEN the family reaches its decision as one: accepted through one passage of the gate for
all of them, or one family referral whose members are each recorded, with their checks and
a referral the officer finds, and a decision message queued for the server."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from kiosk.demo.scenarios import scenario
from kiosk.demo.world import DemoWorld
from kiosk.storage.database import connect_database
from models.tables import OutboxMessageRow, TransactionRow

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Row:
    id: str
    decision: str
    reasons: list[str]
    checks: dict[str, tuple[str, str | None]]  # name -> (status, message)
    referred_surname: str | None
    referred: bool


def _family_rows(world: DemoWorld, suffix: str) -> list[Row]:
    """The recorded members whose id ends with ``suffix``, newest first."""
    database = connect_database(world.config)
    try:
        with database.read() as session:
            rows = session.scalars(
                select(TransactionRow)
                .where(TransactionRow.id.like(f"%{suffix}"))
                .order_by(TransactionRow.created_at.desc())
            ).all()
            return [
                Row(
                    row.id,
                    row.decision.decision,
                    list(row.decision.reasons),
                    {c.name: (c.status, c.message) for c in row.checks},
                    row.referral.surname if row.referral else None,
                    row.referral is not None,
                )
                for row in rows
            ]
    finally:
        database.close()


def test_one_impostor_sends_the_whole_family_to_the_officer(world: DemoWorld) -> None:
    result = world.run(scenario("family-impostor"))
    assert result.decision == "refer" and not result.door_problems
    first = _family_rows(world, "-m1")[0]
    family_id = first.id[: -len("-m1")]
    second = _family_rows(world, "-m2")[0]
    assert second.id == f"{family_id}-m2"
    for position, row in enumerate((first, second), 1):
        # every member is one referral the officer finds, with their own checks ...
        assert row.referred and row.referred_surname
        assert row.checks["family"][1] == f"family {family_id}: member {position} of 2"
        assert set(row.checks) >= {"sod_signature", "face_match", "liveness"}
    assert first.reasons == ["family_referral"]
    assert "biometric_mismatch" in second.reasons
    assert second.checks["face_match"][0] == "failed"
    # ... and each decision is queued for the server like a single traveller's
    database = connect_database(world.config)
    try:
        with database.read() as session:
            subjects = set(
                session.scalars(
                    select(OutboxMessageRow.subject_id).where(OutboxMessageRow.kind == "decision")
                )
            )
    finally:
        database.close()
    assert {first.id, second.id} <= subjects


def test_an_accepted_family_passes_through_one_opening_of_each_door(world: DemoWorld) -> None:
    result = world.run(scenario("family-accepted"))
    assert result.as_expected, result.as_dict()
    rows = [_family_rows(world, f"-m{k}")[0] for k in (1, 2)]
    assert all(row.decision == "accept" and not row.referred for row in rows)
    assert rows[0].id[:-3] == rows[1].id[:-3]
