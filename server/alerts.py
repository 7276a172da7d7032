"""Alerts for the supervisors: every proposed, approved or refused change of configuration
or trust, and attacks the server noticed. Kept in ``server_alerts`` (``GET /v1/alerts``) and
announced on the ``alerts`` notification channel for live screens."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from models.base import utc_now
from models.server_tables import AlertRow
from server.notify import publish

log = logging.getLogger(__name__)

CHANNEL = "alerts"


def raise_alert(
    session: Session, kind: str, *, actor: str, subject: str | None, details: dict[str, Any]
) -> AlertRow:
    """Record an alert in ``session`` (committed with the change it reports)."""
    row = AlertRow(
        kind=kind[:48], subject=subject, actor=actor[:64], details=details, created_at=utc_now()
    )
    session.add(row)
    session.flush()
    publish(session, CHANNEL, {"id": row.id, "kind": row.kind, "subject": subject})
    log.warning("alert %s by %s (%s)", kind, actor, subject or "-")
    return row
