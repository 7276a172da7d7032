"""Pulling versioned list deltas from the server and applying them locally.

Lost/stolen documents, watchlist entries and manifest entries are written to the kiosk's
screening tables in the transaction that records the version reached (``list_versions``),
so an interrupted pull resumes where it stopped; only the versions whose list signature
verifies with a pinned key are (``kiosk/sync/list_signatures.py``): the list stops before
the first that does not, and the refusal is reported to the server once. Trust-list
changes go to the trust store and configuration changes to the central configuration file
(``kiosk/sync/trust_delta.py``, ``kiosk/sync/central_config.py``) before the version is
recorded: applying them again after an interruption changes nothing."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kiosk.config import KioskConfig
from kiosk.screening.normalise import normalise_code, normalise_document_number
from kiosk.storage import outbox
from kiosk.storage.database import Database
from kiosk.sync.central_config import apply_config_changes
from kiosk.sync.client import ServerClient
from kiosk.sync.errors import ListApplyError, ServerUnreachableError
from kiosk.sync.list_signatures import check_page, pinned_list_keys
from kiosk.sync.manifest_delta import apply_manifest_change
from kiosk.sync.signed_delta import pinned_key, verify_delta
from kiosk.sync.trust_delta import apply_trust_changes
from kiosk.trust.pinning import pinned_anchors
from models.base import utc_now
from models.errors import KioskError
from models.tables import ListVersionRow, LostStolenDocumentRow, OutboxMessageRow, WatchlistEntryRow

log = logging.getLogger(__name__)

LIST_NAMES = ("lost_stolen", "watchlist", "manifest", "trust", "config")
MAX_PAGES = 1000

Applier = Callable[[Session, int, dict[str, Any]], None]
# applies a page of changes outside the database: (the page's changes, the whole delta); the
# versions it refused, as outbox payloads for the server (kind REFUSAL_KIND)
PageApplier = Callable[[list[dict[str, Any]], dict[str, Any]], list[dict[str, Any]]]
# checks a page pulled after a version: (the changes to apply, the version they reach, the
# refusals to report, as outbox payloads); a refusal ends the pull of the list
PageChecker = Callable[
    [int, dict[str, Any]], tuple[list[dict[str, Any]], int, list[dict[str, Any]]]
]
REFUSAL_KIND = "refused_change"


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def _apply_lost_stolen(session: Session, version: int, change: dict[str, Any]) -> None:
    """Key ``ISSUER:NUMBER``; data: document_number, issuer, doc_type, status, reported_on.
    Stored normalised, as :class:`kiosk.screening.store.ScreeningStore` expects."""
    issuer, _, number = str(change["key"]).partition(":")
    issuer, number = normalise_code(issuer)[:3], normalise_document_number(number)[:20]
    session.execute(
        delete(LostStolenDocumentRow).where(
            LostStolenDocumentRow.issuer == issuer,
            LostStolenDocumentRow.document_number == number,
        )
    )
    data = change.get("data")
    if change["op"] == "upsert" and isinstance(data, dict):
        session.add(
            LostStolenDocumentRow(
                document_number=number,
                issuer=issuer,
                doc_type=(str(data["doc_type"])[:2] if data.get("doc_type") else None),
                status=str(data.get("status", "stolen"))[:16],
                reported_on=_date(data.get("reported_on")),
                list_version=version,
            )
        )


def _apply_watchlist(session: Session, version: int, change: dict[str, Any]) -> None:
    """Key: the entry's external id; data: surname, given_names, birth_date, nationality."""
    key = str(change["key"])[:64]
    session.execute(delete(WatchlistEntryRow).where(WatchlistEntryRow.external_id == key))
    data = change.get("data")
    if change["op"] == "upsert" and isinstance(data, dict):
        session.add(
            WatchlistEntryRow(
                external_id=key,
                surname=str(data.get("surname", ""))[:120],
                given_names=str(data.get("given_names", ""))[:120],
                birth_date=_date(data.get("birth_date")),
                nationality=(str(data["nationality"])[:3] if data.get("nationality") else None),
                category=str(data.get("category", "alert"))[:32],
                list_version=version,
            )
        )


APPLIERS: dict[str, Applier] = {
    "lost_stolen": _apply_lost_stolen,
    "watchlist": _apply_watchlist,
    "manifest": apply_manifest_change,
}


def local_versions(database: Database) -> dict[str, int]:
    with database.read() as session:
        rows = session.query(ListVersionRow).all()
        return {row.name: row.version for row in rows}


def pull_list(
    database: Database,
    client: ServerClient,
    name: str,
    *,
    apply_page: PageApplier | None = None,
    check: PageChecker | None = None,
) -> int:
    """Bring list ``name`` up to the server's version; the number of changes applied.
    ``apply_page`` applies a page of changes outside the database (before its version is
    recorded); otherwise the list's row applier does, in the version's transaction.
    ``check`` keeps the part of a page that may be applied (its signatures)."""
    applier = APPLIERS.get(name)
    applied = 0
    for _ in range(MAX_PAGES):
        since = local_versions(database).get(name, 0)
        delta = client.list_delta(name, since)
        if not isinstance(delta, dict) or not isinstance(delta.get("changes"), list):
            raise ServerUnreachableError(f"list {name}: unexpected answer")
        changes: list[dict[str, Any]] = delta["changes"]
        refused: list[dict[str, Any]] = []
        try:
            version = int(delta.get("version", since))
            if check is not None:
                changes, version, refused = check(since, delta)
            refusals = apply_page(changes, delta) if apply_page is not None and changes else []
            with database.write() as session:
                for change in changes:
                    if applier is not None:
                        applier(session, int(change["version"]), change)
                # the server hears of every refused version, once: queued with the version
                # reached, relayed like a decision (kiosk/sync/relay.py)
                for refusal in refusals:
                    outbox.enqueue(session, REFUSAL_KIND, refusal)
                _enqueue_once(session, refused)
                row = session.get(ListVersionRow, name)
                if row is None:
                    row = ListVersionRow(name=name, version=0, entries=0)
                    session.add(row)
                row.version = max(version, since)
                row.entries = (row.entries or 0) + len(changes)
                row.updated_at = utc_now()
        except (KioskError, SQLAlchemyError, OSError, KeyError, TypeError, ValueError) as exc:
            raise ListApplyError(
                f"list {name}: changes after version {since} not applied ({exc.__class__.__name__})"
            ) from exc
        applied += len(changes)
        if refused or not delta.get("more"):
            break
    if applied:
        log.info("list %s: %d changes applied", name, applied)
    return applied


def _enqueue_once(session: Session, refusals: list[dict[str, Any]]) -> None:
    """Queue each refusal unless the same one (list, version, reason) was queued before: a
    refused version is pulled again every cycle until the server serves one that verifies."""
    for refusal in refusals:
        what = f"{refusal['list_name']}:{refusal['version']}:{refusal['reason']}"
        subject = hashlib.sha256(what.encode("utf-8")).hexdigest()[:64]
        known = session.scalar(
            select(OutboxMessageRow.id).where(
                OutboxMessageRow.kind == REFUSAL_KIND, OutboxMessageRow.subject_id == subject
            )
        )
        if known is None:
            outbox.enqueue(session, REFUSAL_KIND, refusal, subject_id=subject)


def refusal_reports(
    kiosk_id: str, name: str, refused: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The server's ``/v1/kiosk/refusals`` items for versions of list ``name`` refused here
    (``{"version", "key", "reason"}`` each); the id makes a resend a no-op."""
    now = utc_now().isoformat()
    return [
        {
            "refusal_id": uuid.uuid4().hex,
            "kiosk_id": kiosk_id,
            "list_name": name,
            "version": max(0, int(item.get("version", 0) or 0)),
            "key": str(item.get("key", ""))[:128],
            "reason": str(item.get("reason", "refused"))[:500] or "refused",
            "refused_at": now,
        }
        for item in refused
    ]


def pull_all(database: Database, client: ServerClient, config: KioskConfig) -> dict[str, int]:
    """Every list; configuration and trust changes only as far as their signatures verify
    with the pinned key (:mod:`kiosk.sync.signed_delta`)."""
    key = pinned_key(config.central.signing_public_key)
    pinned = pinned_anchors(config.trust_pinning)

    def trust(_changes: list[dict[str, Any]], delta: dict[str, Any]) -> list[dict[str, Any]]:
        verified = verify_delta("trust", delta, key)
        applied = apply_trust_changes(database, verified.changes, pinned)
        # the versions whose signature failed, and content of signed ones the trust store
        # refused (a master list outside the pinned anchors, a CRL that does not verify)
        refused = verified.refused + applied.refused
        return refusal_reports(config.kiosk_id, "trust", refused)

    def central(_changes: list[dict[str, Any]], delta: dict[str, Any]) -> list[dict[str, Any]]:
        verified = verify_delta("config", delta, key)
        report = apply_config_changes(config, verified.changes, refused=verified.refused)
        # both the versions whose signature failed and the values beyond local bounds
        return refusal_reports(config.kiosk_id, "config", report.rejected)

    list_keys = pinned_list_keys(config.central.list_signing_public_keys)
    port = config.sync.port or ""

    def screening(name: str) -> PageChecker:
        def check(since: int, delta: dict[str, Any]) -> tuple[Any, int, list[dict[str, Any]]]:
            page = check_page(
                name, since, delta, list_keys, port=port if name == "manifest" else ""
            )
            refused = [page.refused] if page.refused is not None else []
            return page.changes, page.version, refusal_reports(config.kiosk_id, name, refused)

        return check

    page_appliers: dict[str, PageApplier] = {"trust": trust, "config": central}
    return {
        name: pull_list(
            database,
            client,
            name,
            apply_page=page_appliers.get(name),
            check=screening(name) if name in APPLIERS else None,
        )
        for name in LIST_NAMES
    }
