"""GIVEN a traveller on the real kiosk over simulated devices WHEN they take the passport away,
somebody follows them in, the gate faults or nobody walks in THEN the transaction ends the way
a border agency expects: no door opens without a decision, a failed passage is a referral of
its own (never an accepted passage), and the doors follow the two-door order."""

from __future__ import annotations

from sqlalchemy import select

from hardware.gate import GateCommand
from kiosk.demo.disturbances import mantrap_violations
from kiosk.demo.scenarios import scenario
from kiosk.demo.world import DemoWorld
from kiosk.storage.database import connect_database
from models.tables import DecisionRow, ReferralRow, TransactionRow


def _passage_referral(world: DemoWorld, reason: str) -> tuple[str, list[str], str | None]:
    """The newest '-passage' transaction's decision, reasons and referral status."""
    database = connect_database(world.config)
    try:
        with database.read() as session:
            row = session.execute(
                select(TransactionRow.id, DecisionRow.decision, DecisionRow.reasons)
                .join(DecisionRow, DecisionRow.transaction_id == TransactionRow.id)
                .where(TransactionRow.id.like("%-passage"))
                .order_by(TransactionRow.decided_at.desc())
            ).first()
            assert row is not None, "no passage referral recorded"
            referral = session.get(ReferralRow, row.id)
            assert reason in row.reasons
            return row.decision, list(row.reasons), referral.status if referral else None
    finally:
        database.close()


def test_the_exit_opens_only_after_the_entry_closed_behind_the_traveller(
    world: DemoWorld,
) -> None:
    result = world.run(scenario("mantrap"))
    assert result.as_expected, result.as_dict()
    assert result.outcome == "accepted" and result.door_problems == ()


def test_taking_the_passport_away_before_the_decision_opens_no_door(world: DemoWorld) -> None:
    result = world.run(scenario("passport-removed"))
    assert result.as_expected, result.as_dict()
    assert result.decision is None and result.outcome == "passport_removed"
    assert "gate" not in result.timings_ms


def test_a_second_person_in_the_gate_is_a_tailgating_referral(world: DemoWorld) -> None:
    result = world.run(scenario("tailgating"))
    assert result.as_expected, result.as_dict()
    assert result.outcome == "tailgating" and result.reasons == ("tailgating",)
    assert _passage_referral(world, "tailgating") == ("refer", ["tailgating"], "open")


def test_a_gate_fault_during_the_passage_is_recorded_as_a_fault(world: DemoWorld) -> None:
    result = world.run(scenario("gate-fault"))
    assert result.as_expected, result.as_dict()
    assert result.outcome == "gate_fault"
    assert _passage_referral(world, "system_malfunction")[0] == "refer"


def test_a_traveller_who_never_walks_in_is_a_passage_timeout(world: DemoWorld) -> None:
    result = world.run(scenario("passage-timeout"))
    assert result.as_expected, result.as_dict()
    assert result.outcome == "passage_timeout"
    assert _passage_referral(world, "passage_timeout") == ("refer", ["passage_timeout"], "open")


def test_the_door_order_check_finds_every_breach() -> None:
    good = [
        GateCommand.CLOSE_ALL,
        GateCommand.OPEN_ENTRY,
        GateCommand.CLOSE_ENTRY,
        GateCommand.OPEN_EXIT,
        GateCommand.CLOSE_EXIT,
    ]
    assert mantrap_violations(good) == []
    both = [GateCommand.OPEN_ENTRY, GateCommand.OPEN_EXIT, GateCommand.CLOSE_ALL]
    assert mantrap_violations(both) == ["#1: exit opened before the entry closed"]
    assert mantrap_violations([GateCommand.OPEN_EXIT]) == ["a door was left open"]
