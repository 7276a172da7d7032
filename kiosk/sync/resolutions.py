"""Officer resolutions coming back from the server: applied to the kiosk's referral rows,
then acknowledged. Only what the kiosk applied (or had applied already) is acknowledged: a
resolution of a referral this kiosk does not have stays on the server, pending, and is
fetched again (nothing is lost); an unacknowledged resolution is simply fetched again."""

from __future__ import annotations

import logging
from datetime import datetime

from kiosk.storage.database import Database
from kiosk.sync.client import ServerClient
from models.records import ReferralStatus
from models.tables import ReferralRow

log = logging.getLogger(__name__)


def pull_resolutions(database: Database, client: ServerClient) -> int:
    answer = client.resolutions()
    items = answer.get("items", []) if isinstance(answer, dict) else []
    if not items:
        return 0
    applied: list[str] = []
    unknown = 0
    with database.write() as session:
        for item in items:
            transaction_id = str(item["transaction_id"])
            row = session.get(ReferralRow, transaction_id)
            if row is None:
                unknown += 1
                continue
            applied.append(transaction_id)
            if row.status != ReferralStatus.OPEN.value:
                continue  # applied before (an acknowledgement was lost)
            row.status = ReferralStatus.RESOLVED.value
            row.outcome = str(item["outcome"])[:32]
            row.note = str(item.get("note", ""))
            row.officer_id = str(item.get("officer", ""))[:64]
            row.resolved_at = datetime.fromisoformat(str(item["resolved_at"]))
    if applied:
        client.ack_resolutions(applied)
    if unknown:
        log.warning("%d resolutions for referrals this kiosk does not have: kept pending", unknown)
    log.info("%d referral resolutions received", len(applied))
    return len(applied)
