"""Importing trust files into the store, with progress and a summary for the technician."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.icao.auth.anchors import CertificateParseError, country_of, load_certificate
from kiosk.trust.errors import TrustFileError
from kiosk.trust.files import trust_items
from kiosk.trust.master_list import parse_master_list
from kiosk.trust.records import CSCA, LINK, certificate_kind
from kiosk.trust.store import ADDED, DUPLICATE, TrustStore

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


@dataclass
class ImportSummary:
    added: int = 0
    duplicates: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    master_lists: list[dict[str, object]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "added": self.added,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "master_lists": self.master_lists,
        }


def _quiet(_message: str) -> None:
    return None


def countryless_ca(der: bytes) -> str | None:
    """A reason to refuse a CSCA or link certificate without C= (it would be a root for no
    country at best, every country at worst), else None."""
    cert = load_certificate(der)
    if certificate_kind(cert) in (CSCA, LINK) and country_of(cert.subject) is None:
        return "CSCA certificate without a country (C=) refused"
    return None


def import_files(
    paths: list[Path], store: TrustStore, progress: Progress = _quiet
) -> ImportSummary:
    summary = ImportSummary()
    for path in paths:
        progress(f"reading {path.name}")
        try:
            data = path.read_bytes()
        except OSError as exc:
            summary.rejected.append(
                {"file": str(path), "reason": f"unreadable ({exc.__class__.__name__})"}
            )
            continue
        import_data(path.name, data, store, summary, progress)
    log.info(
        "trust import: %d added, %d duplicates, %d rejected",
        summary.added,
        summary.duplicates,
        len(summary.rejected),
    )
    return summary


def import_data(
    name: str,
    data: bytes,
    store: TrustStore,
    summary: ImportSummary,
    progress: Progress = _quiet,
) -> None:
    """Import one file's content (certificate, CRL, master list, LDIF; DER or PEM) called
    ``name`` in the summary; what was added, duplicate or rejected goes into ``summary``."""
    try:
        items = trust_items(data)
    except TrustFileError as exc:
        summary.rejected.append({"file": name, "reason": str(exc)})
        return
    certificates: list[tuple[bytes, str]] = []
    crls: list[bytes] = []
    for index, item in enumerate(items):
        where = name if len(items) == 1 else f"{name}#{index + 1}"
        try:
            if item.kind == "master_list":
                listed = parse_master_list(item.der, store.pinned)
                summary.master_lists.append(
                    {
                        "file": where,
                        "certificates": len(listed.certificates),
                        "signer_verified": listed.signer_verified,
                        "signer": listed.signer_status,
                    }
                )
                progress(
                    f"{where}: master list of {len(listed.certificates)} certificates, "
                    f"signer {listed.signer_status}"
                )
                if not listed.signer_verified:
                    summary.rejected.append(
                        {
                            "file": where,
                            "reason": "master list signer not pinned or not verified "
                            f"({listed.signer_status}); nothing imported",
                        }
                    )
                    continue
                certificates += [(der, f"ML {name}") for der in listed.certificates]
                if listed.signer_certificate is not None:
                    certificates.append((listed.signer_certificate, f"ML signer {name}"))
            elif item.kind == "crl":
                crls.append(item.der)
            else:
                refused = countryless_ca(item.der)
                if refused:
                    summary.rejected.append({"file": where, "reason": refused})
                    continue
                certificates.append((item.der, name))
        except (TrustFileError, CertificateParseError) as exc:
            summary.rejected.append({"file": where, "reason": str(exc)})
    try:
        added, duplicates = store.add_certificates(certificates)
    except CertificateParseError as exc:
        summary.rejected.append({"file": name, "reason": str(exc)})
        return
    summary.added += added
    summary.duplicates += duplicates
    for der in crls:
        try:
            outcome = store.add_crl(der, name)
        except CertificateParseError as exc:
            outcome = str(exc)
        if outcome == ADDED:
            summary.added += 1
        elif outcome == DUPLICATE:
            summary.duplicates += 1
        else:
            summary.rejected.append({"file": name, "reason": outcome})
    progress(f"{name}: {added} added, {duplicates} duplicates")
