"""Officer resolutions coming back from the server: applied to the kiosk's referral rows,
then acknowledged (an unacknowledged resolution is simply fetched again)."""

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
    with database.write() as session:
        for item in items:
            row = session.get(ReferralRow, str(item["transaction_id"]))
            if row is None or row.status != ReferralStatus.OPEN.value:
                continue
            row.status = ReferralStatus.RESOLVED.value
            row.outcome = str(item["outcome"])[:32]
            row.note = str(item.get("note", ""))
            row.officer_id = str(item.get("officer", ""))[:64]
            row.resolved_at = datetime.fromisoformat(str(item["resolved_at"]))
    client.ack_resolutions([str(item["transaction_id"]) for item in items])
    log.info("%d referral resolutions received", len(items))
    return len(items)
