"""Personal data on the server is purged after ``retention_hours``: names and birth dates of
referrals and the document summaries of decisions; recent ones and everything else stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kiosk.storage.recorder import decision_payload
from models.server_tables import ReceivedDecisionRow, ReferralQueueRow
from server.retention import purge

pytestmark = pytest.mark.postgres


def test_names_birth_dates_and_document_summaries_are_purged(
    server_setup, device_client, decided
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN referred decisions 40 days old and 1 hour old (retention 30 days)
    device = server_setup.device
    old = [decided(i, device, now=datetime.now(UTC) - timedelta(days=40)) for i in (0, 3)]
    new = [decided(i, device) for i in (6, 9)]
    for record in old + new:
        answer = device_client.post(
            "/v1/kiosk/decisions", json={"items": [decision_payload(record)]}
        )
        assert answer.status_code == 200, answer.text
    # WHEN the purge runs
    report = purge(server_setup.state.database, server_setup.config.retention_hours)
    # THEN the old ones lost names, birth dates and document summaries; the new ones did not
    assert (report.referrals, report.documents) == (2, 2)
    old_ids = {r.transaction_id for r in old}
    with server_setup.state.database.sessions() as session:
        referrals = session.scalars(
            select(ReferralQueueRow).where(ReferralQueueRow.kiosk_id == device)
        ).all()
        decisions = session.scalars(
            select(ReceivedDecisionRow).where(ReceivedDecisionRow.kiosk_id == device)
        ).all()
    for row in referrals:
        purged = row.transaction_id in old_ids
        assert (row.surname is None, row.given_names is None, row.birth_date is None) == (
            (purged,) * 3
        )
        assert row.reasons  # what statistics need stays
    for decision in decisions:
        assert (decision.document is None) == (decision.transaction_id in old_ids)
        assert decision.checks and decision.decision == "refer"
    # AND a second purge finds nothing more; a resend of a purged decision is a duplicate
    assert purge(server_setup.state.database, server_setup.config.retention_hours).referrals == 0
    resent = device_client.post("/v1/kiosk/decisions", json={"items": [decision_payload(old[0])]})
    assert resent.status_code == 200 and resent.json()["duplicates"] == 1
