"""Two people for every change of configuration or trust, and a signature the kiosks pin.

One administrator proposes (``POST /v1/admin/changes``); a second administrator, never the
proposer, approves it. Only then is the change appended as the next version of its list,
with an Ed25519 signature over the version's envelope (:mod:`models.change_envelope`) made
with the server's change-signing key. Kiosks verify that signature with the public key they
pin (``kiosk central.signing_public_key``) and refuse anything unsigned or signed otherwise,
so neither one stolen administrator password nor a row written into the database reaches a
gate. Every proposal, approval and refusal alerts the supervisors."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from models.base import utc_now
from models.change_envelope import SIGNED_LISTS, envelope_message
from models.errors import KioskError
from models.server_tables import ChangeRequestRow, ListSignatureRow, ServerAuditEventRow
from server.alerts import raise_alert
from server.api.lists import append_version
from server.database import ServerDatabase
from server.security.change_signing import ChangeSigner

log = logging.getLogger(__name__)

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


class ChangeRefusedError(KioskError):
    code = "server_change_refused"
    user_message = "The change was refused."

    def __init__(self, message: str, status_code: int = 409) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class ChangeRequest:
    id: int
    list_name: str
    status: str
    proposed_by: str
    reason: str
    changes: int
    decided_by: str | None
    version: int | None


def _request(row: ChangeRequestRow) -> ChangeRequest:
    return ChangeRequest(
        id=row.id,
        list_name=row.list_name,
        status=row.status,
        proposed_by=row.proposed_by,
        reason=row.reason,
        changes=len(row.changes),
        decided_by=row.decided_by,
        version=row.version,
    )


def propose(
    database: ServerDatabase,
    list_name: str,
    changes: list[dict[str, Any]],
    *,
    reason: str,
    actor: str,
) -> ChangeRequest:
    if list_name not in SIGNED_LISTS:
        raise ChangeRefusedError(f"list {list_name} is not a signed list", 422)
    now = utc_now()
    with database.session() as session:
        row = ChangeRequestRow(
            list_name=list_name,
            changes=changes,
            reason=reason,
            status=PENDING,
            proposed_by=actor,
            proposed_at=now,
        )
        session.add(row)
        session.flush()
        details = {"request": row.id, "changes": len(changes), "keys": _keys(changes)}
        raise_alert(session, f"{list_name}.proposed", actor=actor, subject=str(row.id),
                    details=details)  # fmt: skip
        _audit(session, actor, "change.propose", row.id, details)
        return _request(row)


def _keys(changes: list[dict[str, Any]]) -> list[str]:
    return sorted({str(change.get("key"))[:64] for change in changes})[:20]


def _audit(session: Any, actor: str, action: str, request: int, details: dict[str, Any]) -> None:
    session.add(
        ServerAuditEventRow(
            actor=actor, action=action, subject=str(request), details=details, time=utc_now()
        )
    )


def _pending(session: Any, request_id: int) -> ChangeRequestRow:
    """The pending request ``request_id``, locked; 404 or 409 otherwise."""
    row: ChangeRequestRow | None = session.get(ChangeRequestRow, request_id, with_for_update=True)
    if row is None:
        raise ChangeRefusedError(f"no change request {request_id}", 404)
    if row.status != PENDING:
        raise ChangeRefusedError(f"change request {request_id} is {row.status}")
    return row


def approve(
    database: ServerDatabase, signer: ChangeSigner, request_id: int, *, actor: str
) -> ChangeRequest:
    """Append the request's changes as a signed version; refused for the proposer."""
    with database.session() as session:
        row = _pending(session, request_id)
        if row.proposed_by != actor:
            return _approve(session, signer, row, actor)
        list_name = row.list_name
    # the refusal in a transaction of its own, so that it is kept
    with database.session() as session:
        raise_alert(session, f"{list_name}.self_approval_refused", actor=actor,
                    subject=str(request_id), details={"request": request_id})  # fmt: skip
        _audit(session, actor, "change.self_approval_refused", request_id, {})
    raise ChangeRefusedError("a change must be approved by another administrator", 403)


def _approve(
    session: Any, signer: ChangeSigner, row: ChangeRequestRow, actor: str
) -> ChangeRequest:
    now = utc_now()
    changes = [dict(change) for change in row.changes]
    version = append_version(session, row.list_name, changes, row.proposed_by)
    envelope = {
        "proposed_by": row.proposed_by,
        "approved_by": actor,
        "approved_at": now.isoformat(),
        "request": row.id,
    }
    message = envelope_message(row.list_name, version, changes, envelope)
    session.add(
        ListSignatureRow(
            list_name=row.list_name,
            version=version,
            envelope=envelope,
            key_id=signer.key_id,
            signature=signer.sign(message),
        )
    )
    row.status, row.decided_by, row.decided_at, row.version = APPROVED, actor, now, version
    details = {"request": row.id, "version": version, "proposed_by": row.proposed_by,
               "keys": _keys(changes)}  # fmt: skip
    raise_alert(session, f"{row.list_name}.approved", actor=actor, subject=str(row.id),
                details=details)  # fmt: skip
    _audit(session, actor, "change.approve", row.id, details)
    log.info("change request %d approved: %s version %d", row.id, row.list_name, version)
    return _request(row)


def reject(database: ServerDatabase, request_id: int, *, actor: str) -> ChangeRequest:
    with database.session() as session:
        row = _pending(session, request_id)
        row.status, row.decided_by, row.decided_at = REJECTED, actor, utc_now()
        raise_alert(session, f"{row.list_name}.rejected", actor=actor, subject=str(row.id),
                    details={"request": row.id})  # fmt: skip
        _audit(session, actor, "change.reject", row.id, {})
        return _request(row)


def pending(database: ServerDatabase) -> list[ChangeRequest]:
    with database.sessions() as session:
        rows = session.scalars(
            select(ChangeRequestRow)
            .where(ChangeRequestRow.status == PENDING)
            .order_by(ChangeRequestRow.id)
        ).all()
        return [_request(row) for row in rows]
