"""Versioned lists (lost/stolen, watchlist, manifests, trust lists, configuration): each
upload by an administrator makes the next version; kiosks pull the changes after theirs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models.base import utc_now
from models.change_envelope import SIGNED_LISTS
from models.list_signature import SCREENING_LISTS, VETTED_PREFIX, list_message, scope_digests
from models.server_tables import (
    ListChangeRow,
    ListSignatureRow,
    ListVersionServerRow,
    ServerAuditEventRow,
)
from server.api.schemas import (
    ListChangeOut,
    ListDelta,
    ListName,
    ListUpload,
    ListVersionOut,
    VersionSignatureOut,
)
from server.ingest import insert_new
from server.security.change_signing import ChangeSigner
from server.state import ServerState

DEFAULT_PAGE = 1000
MAX_PAGE = 5000


def current_version(state: ServerState, name: ListName) -> ListVersionOut:
    with state.database.sessions() as session:
        version = session.scalar(
            select(ListVersionServerRow.version).where(ListVersionServerRow.name == name.value)
        )
        count = session.scalar(
            select(func.count())
            .select_from(ListChangeRow)
            .where(ListChangeRow.list_name == name.value)
        )
    return ListVersionOut(name=name, version=int(version or 0), changes=int(count or 0))


def _port_filter(name: ListName, port: str | None) -> list[Any]:
    """Vetted manifest entries (``vetted:PORT:...``) go only to the kiosks of their port: a
    kiosk that names no port gets none (travellers' data is not spread to every gate)."""
    if name is not ListName.MANIFEST:
        return []
    if not port:
        return [ListChangeRow.key.not_like(f"{VETTED_PREFIX}%")]
    return [
        or_(
            ListChangeRow.key.not_like(f"{VETTED_PREFIX}%"),
            ListChangeRow.key.like(f"{VETTED_PREFIX}{port}:%"),
        )
    ]


def delta(
    state: ServerState, name: ListName, since: int, limit: int, *, port: str | None = None
) -> ListDelta:
    """The changes after ``since``, a page of at most ``limit`` changes and ``limit``
    versions; for a screening list, the signature of every version the page covers (a
    version with none of this kiosk's changes too: the kiosk checks that it lost nothing)."""
    only = _port_filter(name, port)
    with state.database.sessions() as session:
        latest = int(
            session.scalar(
                select(ListVersionServerRow.version).where(ListVersionServerRow.name == name.value)
            )
            or 0
        )
        until = min(latest, since + limit)
        rows = session.scalars(
            select(ListChangeRow)
            .where(
                ListChangeRow.list_name == name.value,
                ListChangeRow.version > since,
                ListChangeRow.version <= until,
                *only,
            )
            .order_by(ListChangeRow.version, ListChangeRow.id)
            .limit(limit + 1)
        ).all()
        more = len(rows) > limit
        if more:
            # A page ends on a whole version, or a kiosk would skip the rest of one; a
            # version bigger than a page (uploads are bounded) is sent whole.
            cut = rows[limit].version
            rows = [row for row in rows if row.version < cut] or list(
                session.scalars(
                    select(ListChangeRow)
                    .where(
                        ListChangeRow.list_name == name.value, ListChangeRow.version == cut, *only
                    )
                    .order_by(ListChangeRow.id)
                ).all()
            )
        version = rows[-1].version if more else until
        if name.value in SIGNED_LISTS:
            signed = select(ListSignatureRow).where(
                ListSignatureRow.list_name == name.value,
                ListSignatureRow.version.in_({row.version for row in rows}),
            )
        else:
            signed = select(ListSignatureRow).where(
                ListSignatureRow.list_name == name.value,
                ListSignatureRow.version > since,
                ListSignatureRow.version <= version,
            )
        wanted = bool(rows) or name.value not in SIGNED_LISTS
        signatures = (
            session.scalars(signed.order_by(ListSignatureRow.version)).all() if wanted else []
        )
    changes = [
        ListChangeOut(version=row.version, op=row.op, key=row.key, data=row.data) for row in rows
    ]
    return ListDelta(
        name=name,
        since=since,
        version=max(version, since),
        more=more or version < latest,
        changes=changes,
        signatures=[
            VersionSignatureOut(
                version=row.version,
                envelope=dict(row.envelope),
                key_id=row.key_id,
                signature=row.signature,
            )
            for row in signatures
        ],
    )


def upload(state: ServerState, name: ListName, body: ListUpload, actor: str) -> ListVersionOut:
    """Append ``body`` as the next version of list ``name``."""
    changes = [change.model_dump() for change in body.changes]
    with state.database.session() as session:
        append_version(session, name.value, changes, actor, signer=state.list_signer)
    return current_version(state, name)


def sign_version(
    session: Session,
    signer: ChangeSigner,
    name: str,
    version: int,
    changes: list[dict[str, Any]],
    actor: str,
    scopes: dict[str, str] | None = None,
) -> None:
    """Sign ``version`` of screening list ``name`` as written (``changes``, in order) with
    the list-signing key (:mod:`models.list_signature`); kiosks apply nothing unsigned.
    ``scopes``: ``scope_digests(name, changes)`` computed already (they do not depend on
    the version: a writer holding the version's lock computes them before taking it)."""
    if scopes is None:
        scopes = scope_digests(name, changes)
    session.merge(
        ListSignatureRow(
            list_name=name,
            version=version,
            # the digests are signed; who and when are for the record
            envelope={"scopes": scopes, "signed_by": actor, "signed_at": utc_now().isoformat()},
            key_id=signer.key_id,
            signature=signer.sign(list_message(name, version, scopes)),
        )
    )


def append_version(
    session: Session,
    name: str,
    changes: list[dict[str, Any]],
    actor: str,
    *,
    signer: ChangeSigner | None = None,
) -> int:
    """Append ``changes`` as the next version of list ``name`` (in ``session``); the version.
    A screening list's version is signed with ``signer`` (required for them); configuration
    and trust versions are signed by their second administrator (server/change_approval.py)."""
    if name in SCREENING_LISTS and signer is None:
        raise ValueError(f"list {name} is signed when written: no list-signing key given")
    now = utc_now()
    insert_new(
        session,
        ListVersionServerRow.__table__,  # type: ignore[arg-type]
        [{"name": name, "version": 0, "updated_at": now}],
        ["name"],
        "name",
    )
    row = session.execute(
        select(ListVersionServerRow).where(ListVersionServerRow.name == name).with_for_update()
    ).scalar_one()
    row.version += 1
    row.updated_at = now
    version = row.version
    session.add_all(
        ListChangeRow(
            list_name=name,
            version=version,
            op=change["op"],
            key=change["key"],
            data=change.get("data"),
            uploaded_by=actor,
            created_at=now,
        )
        for change in changes
    )
    session.add(
        ServerAuditEventRow(
            actor=actor,
            action="list.upload",
            subject=name,
            details={"version": version, "changes": len(changes)},
            time=now,
        )
    )
    if name in SCREENING_LISTS and signer is not None:
        sign_version(session, signer, name, version, changes, actor)
    return version
