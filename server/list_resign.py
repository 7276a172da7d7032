"""Signing the stored versions of the screening lists again: once at the upgrade that
introduced list signatures (versions written before it carry none) and after the
list-signing key is rotated (``kiosk server sign-lists``).

What is signed is what the database holds at that moment, so an unsigned version is signed
only when the operator asks (``--unsigned``, after checking the lists), and a version signed
with the previous key is signed again only if that signature still verifies over the stored
changes (``--previous-key``): a row written into the database since is never blessed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from kiosk.audit.signing import key_id
from models.base import utc_now
from models.list_signature import SCREENING_LISTS, list_message, scope_digests
from models.server_tables import (
    ListChangeRow,
    ListSignatureRow,
    ListVersionServerRow,
    ServerAuditEventRow,
)
from server.api.lists import sign_version
from server.database import ServerDatabase
from server.security.change_signing import ChangeSigner

log = logging.getLogger(__name__)

ACTOR = "sign-lists"


@dataclass
class ResignReport:
    signed: int = 0  # unsigned versions signed (--unsigned)
    resigned: int = 0  # versions moved from the previous key to the current one
    current: int = 0  # already signed with the current key
    left: list[str] = field(default_factory=list)  # "list vN: why", still not verifiable


def _verifies(
    key: Ed25519PublicKey, row: ListSignatureRow, name: str, version: int, changes: list[Any]
) -> bool:
    """``row`` is a signature by ``key`` over exactly the stored ``changes``."""
    scopes = (row.envelope or {}).get("scopes")
    if not isinstance(scopes, dict) or scopes != scope_digests(name, changes):
        return False
    try:
        key.verify(bytes.fromhex(row.signature), list_message(name, version, scopes))
    except (InvalidSignature, ValueError):
        return False
    return True


def sign_stored_versions(
    database: ServerDatabase,
    signer: ChangeSigner,
    *,
    unsigned: bool = False,
    previous: Ed25519PublicKey | None = None,
) -> ResignReport:
    report = ResignReport()
    previous_id = key_id(previous) if previous is not None else None
    for name in sorted(SCREENING_LISTS):
        with database.session() as session:
            latest = session.scalar(
                select(ListVersionServerRow.version).where(ListVersionServerRow.name == name)
            )
            for version in range(1, int(latest or 0) + 1):
                row = session.get(ListSignatureRow, (name, version))
                rows = session.scalars(
                    select(ListChangeRow)
                    .where(ListChangeRow.list_name == name, ListChangeRow.version == version)
                    .order_by(ListChangeRow.id)
                ).all()
                changes = [{"op": r.op, "key": r.key, "data": r.data} for r in rows]
                if row is not None and row.key_id == signer.key_id:
                    report.current += 1
                elif row is None and unsigned:
                    sign_version(session, signer, name, version, changes, ACTOR)
                    report.signed += 1
                elif row is None:
                    report.left.append(f"{name} v{version}: unsigned (--unsigned signs it)")
                elif previous is None or row.key_id != previous_id:
                    report.left.append(f"{name} v{version}: signed by key {row.key_id}")
                elif not _verifies(previous, row, name, version, changes):
                    report.left.append(f"{name} v{version}: its signature does not verify")
                else:
                    # the old signature covered these very changes: carry it to the new key
                    sign_version(session, signer, name, version, changes, ACTOR)
                    report.resigned += 1
            session.add(
                ServerAuditEventRow(
                    actor=ACTOR,
                    action="list.sign",
                    subject=name,
                    details={
                        "signed": report.signed,
                        "resigned": report.resigned,
                        "left": len(report.left),
                    },  # fmt: skip
                    time=utc_now(),
                )
            )
    if report.left:
        log.warning("sign-lists: %d versions left unverifiable", len(report.left))
    return report
