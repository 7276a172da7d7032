"""The diagnostics bundle: one zip a technician can send to support, with no personal data.

Contents: ``manifest.json`` (when, which kiosk, versions), ``config.json`` (the effective
configuration, secrets masked and simulated documents' MRZ texts removed), ``devices.json``,
``selftests.json``, ``health.json`` and ``log.txt`` (recent log lines). Log records carry no
personal data by design; as a second line of defence any MRZ-like run of characters is
redacted, and so is every value under a key that names personal data.
"""

from __future__ import annotations

import json
import logging
import platform
import re
import zipfile
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from kiosk.config import KioskConfig, masked_dump
from kiosk.diagnostics.devices import DeviceReport
from kiosk.diagnostics.log_buffer import LogLine
from kiosk.diagnostics.selftests import SelfTestResult
from models.base import utc_now

log = logging.getLogger(__name__)

DISTRIBUTIONS = (
    "open-egate-kiosk",
    "PySide6-Essentials",
    "pyscard",
    "opencv-python-headless",
    "SQLAlchemy",
    "cryptography",
    "face-recognition",
)
# Configuration keys whose values are (or may be) personal data: dropped from the bundle.
PERSONAL_CONFIG_KEYS = frozenset({"documents"})
# A run of MRZ characters as long as an MRZ field group (document number, dates, names...).
MRZ_LIKE = re.compile(r"[A-Z0-9<]{20,}")
REDACTED = "[redacted]"


def versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "platform": platform.platform(terse=True)}
    for name in DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def safe_config(config: KioskConfig) -> dict[str, Any]:
    """The masked configuration without values that may hold personal data."""
    cleaned = _drop_personal(masked_dump(config))
    assert isinstance(cleaned, dict)
    return cleaned


def _drop_personal(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {
            key: (
                f"{REDACTED} ({len(value)} items)"
                if key in PERSONAL_CONFIG_KEYS and isinstance(value, list)
                else REDACTED
                if key in PERSONAL_CONFIG_KEYS
                else _drop_personal(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_drop_personal(item) for item in node]
    return node


def redact_text(text: str) -> str:
    return MRZ_LIKE.sub(REDACTED, text)


def build_bundle(
    path: Path,
    *,
    config: KioskConfig,
    devices: Iterable[DeviceReport] = (),
    selftests: Iterable[SelfTestResult] = (),
    log_lines: Iterable[LogLine] = (),
    health: Mapping[str, Any] | None = None,
) -> Path:
    """Write the bundle to ``path`` (a .zip) and return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest = {
        "created_at": utc_now().isoformat(),
        "kiosk_id": config.kiosk_id,
        "site": config.site,
        "versions": versions(),
        "files": ["config.json", "devices.json", "selftests.json", "health.json", "log.txt"],
    }
    lines = [redact_text(line.format()) for line in log_lines]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _json(archive, "manifest.json", manifest)
        _json(archive, "config.json", safe_config(config))
        _json(archive, "devices.json", [d.as_dict() for d in devices])
        _json(archive, "selftests.json", [r.as_dict() for r in selftests])
        _json(archive, "health.json", dict(health or {}))
        archive.writestr("log.txt", "\n".join(lines) + ("\n" if lines else ""))
    log.info("diagnostics bundle written (%d log lines)", len(lines))
    return path


def _json(archive: zipfile.ZipFile, name: str, data: Any) -> None:
    text = json.dumps(data, indent=2, sort_keys=True, default=str)
    archive.writestr(name, redact_text(text))
