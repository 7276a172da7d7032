"""Applying the server's configuration changes: the central configuration file.

A change's key is a section the server may set (:data:`kiosk.config.CENTRAL_FIELDS`:
``policy``, ``screening``, part of ``face``); an upsert's ``data`` holds some of its fields,
merged into what the server set before; a delete gives the section back to the kiosk's own
file. Each change is checked with the section's pydantic model over the kiosk's current
values and against the bounds this kiosk sets locally (``central``: a face threshold
ceiling, liveness never off); a change that fails (an unknown field, a field the server may
not set, a wrong type or range, out of the local bounds, or a version whose signature did
not verify, see :mod:`kiosk.sync.signed_delta`) is skipped and listed under ``rejected`` in
the file, so a technician sees it in ``kiosk sync status``. The file is written atomically
(mode 0600) and read by :func:`kiosk.config.load_config` when the kiosk next starts."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from kiosk.config import CENTRAL_CONFIG_FILE, CENTRAL_FIELDS, KioskConfig, central_sections
from models.base import utc_now
from models.errors import ConfigError

log = logging.getLogger(__name__)

MAX_REJECTED = 20


@dataclass
class CentralConfigReport:
    applied: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    changed_sections: set[str] = field(default_factory=set)


def _out_of_bounds(config: KioskConfig, section: str, values: dict[str, Any]) -> str | None:
    """Why ``values`` fall outside the bounds this kiosk sets locally (``central``)."""
    bounds = config.central
    if section == "face":
        if values.get("liveness_required") is False:
            return "face.liveness_required: liveness cannot be turned off centrally"
        threshold = values.get("threshold")
        if isinstance(threshold, int | float) and threshold > bounds.face_threshold_max:
            return (
                f"face.threshold {threshold} is above this kiosk's ceiling "
                f"{bounds.face_threshold_max} (central.face_threshold_max)"
            )
        attempts = values.get("max_attempts")
        if isinstance(attempts, int) and attempts > bounds.face_max_attempts_max:
            return f"face.max_attempts {attempts} is above {bounds.face_max_attempts_max}"
    if section == "screening":
        threshold = values.get("watchlist_threshold")
        if isinstance(threshold, int | float) and threshold > bounds.watchlist_threshold_max:
            return (
                f"screening.watchlist_threshold {threshold} is above this kiosk's ceiling "
                f"{bounds.watchlist_threshold_max}"
            )
    return None


def _check(config: KioskConfig, section: str, values: dict[str, Any]) -> str | None:
    """Why ``values`` cannot be the central part of ``section``; None when they can."""
    allowed = CENTRAL_FIELDS.get(section, frozenset())
    if section not in CENTRAL_FIELDS:
        return f"section {section} may not be set centrally"
    refused = [key for key in values if allowed is not None and key not in allowed]
    if refused:
        return f"{section}.{refused[0]} may not be set centrally"
    bounded = _out_of_bounds(config, section, values)
    if bounded is not None:
        return bounded
    current: BaseModel = getattr(config, section)
    try:
        type(current).model_validate({**current.model_dump(), **values})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(root)"
        return f"{section}.{where}: {first['msg']}"
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def _write(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".central-config-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(document, file, indent=2, sort_keys=True)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def apply_config_changes(
    config: KioskConfig,
    changes: list[dict[str, Any]],
    *,
    refused: list[dict[str, Any]] | None = None,
) -> CentralConfigReport:
    """Apply ``changes`` (in version order) to the central configuration file of ``config``;
    ``refused``: versions refused before (bad signature), listed with the rejected ones."""
    path = config.data_dir / CENTRAL_CONFIG_FILE
    report = CentralConfigReport(rejected=list(refused or []))
    if not changes and not report.rejected:
        return report
    try:
        sections = central_sections(config.data_dir)
    except ConfigError as exc:
        log.error("central configuration file unusable, rewritten from the server: %s", exc)
        sections = {}
    document = _read(path)
    for change in changes:
        section = str(change.get("key", ""))
        version = int(change.get("version", 0))
        if change.get("op") == "delete":
            if sections.pop(section, None) is not None:
                report.changed_sections.add(section)
            report.applied += 1
            continue
        values = change.get("data")
        merged = {**sections.get(section, {}), **values} if isinstance(values, dict) else {}
        reason = _check(config, section, merged) if merged else "data must be a table"
        if reason is not None:
            report.rejected.append({"version": version, "key": section[:64], "reason": reason})
            continue
        sections[section] = merged
        report.changed_sections.add(section)
        report.applied += 1
    rejected = list(document.get("rejected") or []) + report.rejected
    _write(
        path,
        {
            "version": max(
                [int(change.get("version", 0)) for change in changes]
                + [int(item.get("version", 0)) for item in report.rejected]
            ),
            "updated_at": utc_now().isoformat(),
            "sections": sections,
            "rejected": rejected[-MAX_REJECTED:],
        },
    )
    for item in report.rejected:
        log.warning("central configuration v%s refused: %s", item["version"], item["reason"])
    log.info(
        "central configuration: %d changes applied (%s), effective at the next start",
        report.applied,
        ", ".join(sorted(report.changed_sections)) or "no section changed",
    )
    return report


def central_config_status(data_dir: Path) -> dict[str, Any]:
    """What ``kiosk sync status`` shows of the central configuration file."""
    document = _read(data_dir / CENTRAL_CONFIG_FILE)
    sections = document.get("sections")
    return {
        "version": document.get("version"),
        "sections": sorted(sections) if isinstance(sections, dict) else [],
        "rejected": list(document.get("rejected") or []),
    }
