"""GIVEN a scenario on simulated devices WHEN the real kiosk runs the transaction THEN it
reaches the scenario's decision and reasons, records it with its outbox row, and the gate
opens only for an accepted traveller."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kiosk.demo.scenarios import all_scenarios, scenario
from kiosk.demo.world import DemoWorld
from kiosk.storage.database import connect_database
from models.tables import OutboxMessageRow, TransactionRow


def test_every_decision_is_recorded_once_with_its_outbox_row(world: DemoWorld) -> None:
    world.run(scenario("genuine-traveller"))
    database = connect_database(world.config)
    try:
        with database.read() as session:
            transactions = session.scalar(select(func.count()).select_from(TransactionRow))
            decisions = session.scalar(
                select(func.count())
                .select_from(OutboxMessageRow)
                .where(OutboxMessageRow.kind == "decision")
            )
    finally:
        database.close()
    assert transactions and transactions == decisions


# every scenario of `make demo` once (the family ones included: tests/demo/test_demo_family.py
# checks what a family leaves recorded)
@pytest.mark.slow
@pytest.mark.parametrize("item", all_scenarios(), ids=lambda s: s.name)
def test_every_scenario_of_the_demo(world: DemoWorld, item: object) -> None:
    result = world.run(item)  # type: ignore[arg-type]
    assert result.as_expected, result.as_dict()
