"""Applying the server's trust-list changes to the kiosk's trust store.

An upsert's ``data`` is ``{"content_b64": ...}``: the base64 of one trust file as
``kiosk trust import`` reads it (CSCA or link certificate, CRL, CMS master list, ICAO PKD
LDIF; DER or PEM), imported the same way (master list signer checked, CRL signature checked
against its CSCA, duplicates by fingerprint). A delete's key is the SHA-256 fingerprint (64
hex digits) of a certificate or CRL to withdraw. Importing is idempotent, so a page that is
applied again after an interruption changes nothing."""

from __future__ import annotations

import base64
import binascii
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete

from kiosk.storage.database import Database
from kiosk.trust.importer import ImportSummary, import_data
from kiosk.trust.pinning import PinnedAnchors
from kiosk.trust.store import TrustStore
from models.tables.trust import TrustCertificateRow, TrustCrlRow

log = logging.getLogger(__name__)

MAX_CONTENT_BYTES = 16 * 1024 * 1024
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class TrustDeltaReport:
    summary: ImportSummary = field(default_factory=ImportSummary)
    withdrawn: int = 0
    # the rejected content as refusals to report ({"version", "key", "reason"}): a master
    # list outside the pinned anchors, a CRL whose signature fails, a file not understood
    refused: list[dict[str, Any]] = field(default_factory=list)


def _content(change: dict[str, Any]) -> bytes | str:
    """The decoded file of an upsert, or why it cannot be used."""
    data = change.get("data")
    encoded = data.get("content_b64") if isinstance(data, dict) else None
    if not isinstance(encoded, str) or not encoded:
        return "no content_b64"
    if len(encoded) > MAX_CONTENT_BYTES * 4 // 3 + 4:
        return "content too large"
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return "content_b64 is not base64"


def _withdraw(database: Database, fingerprint: str) -> int:
    with database.write() as session:
        certs = session.execute(
            delete(TrustCertificateRow).where(TrustCertificateRow.fingerprint_sha256 == fingerprint)
        )
        crls = session.execute(
            delete(TrustCrlRow).where(TrustCrlRow.fingerprint_sha256 == fingerprint)
        )
    return int(getattr(certs, "rowcount", 0) or 0) + int(getattr(crls, "rowcount", 0) or 0)


def _version(change: dict[str, Any]) -> int:
    version = change.get("version")
    return version if isinstance(version, int) and version >= 0 else 0


def _apply_one(
    database: Database,
    store: TrustStore,
    change: dict[str, Any],
    where: str,
    report: TrustDeltaReport,
) -> None:
    if change.get("op") == "delete":
        key = str(change.get("key", "")).lower()
        if _FINGERPRINT.match(key):
            report.withdrawn += _withdraw(database, key)
        else:
            report.summary.rejected.append({"file": where, "reason": "not a fingerprint"})
        return
    content = _content(change)
    if isinstance(content, str):
        report.summary.rejected.append({"file": where, "reason": content})
        return
    import_data(where, content, store, report.summary)


def apply_trust_changes(
    database: Database, changes: list[dict[str, Any]], pinned: PinnedAnchors | None = None
) -> TrustDeltaReport:
    """Apply synced trust changes; a master list among them is held to the same rule as an
    imported one: accepted only under the kiosk's own pinned anchors (``pinned``)."""
    report = TrustDeltaReport()
    store = TrustStore(database, pinned)
    for change in changes:
        where = f"trust v{change.get('version')} {str(change.get('key'))[:64]}"
        before = len(report.summary.rejected)
        _apply_one(database, store, change, where, report)
        for item in report.summary.rejected[before:]:  # which version and entry it was
            report.refused.append(
                {
                    "version": _version(change),
                    "key": str(change.get("key", ""))[:128],
                    "reason": f"trust content rejected: {item.get('reason', '')}",
                }  # fmt: skip
            )
    summary = report.summary
    if summary.rejected:
        log.warning(
            "trust delta: %d rejected: %s",
            len(summary.rejected),
            "; ".join(f"{r['file']}: {r['reason']}" for r in summary.rejected[:5]),
        )
    log.info(
        "trust delta: %d added, %d duplicates, %d withdrawn",
        summary.added,
        summary.duplicates,
        report.withdrawn,
    )
    return report
