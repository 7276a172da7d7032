"""Writing a calibrated face threshold into a kiosk configuration file (TOML).

The file is edited, not regenerated: the ``threshold`` line of its ``[face]`` table is
replaced (or added, with the table if need be) and a comment above it says where the value
came from; every other line stays as it was. The result must still parse and validate as a
kiosk configuration, or nothing is written.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_TABLE = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*threshold\s*=")
_COMMENT = "# face.threshold calibrated by kiosk face calibrate"


def write_threshold(path: Path, threshold: float, calibration: dict[str, Any]) -> None:
    """Set ``face.threshold`` in ``path`` (created when absent) to ``threshold``."""
    from kiosk.config import load_config
    from models.errors import ConfigError

    original = path.read_text(encoding="utf-8") if path.exists() else ""
    text = set_face_threshold(original, threshold, _describe(calibration))
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not a TOML file ({exc})") from exc
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    try:
        load_config(temporary)
    except ConfigError as exc:
        temporary.unlink()
        raise ValueError(f"the result would not be a valid configuration: {exc}") from exc
    os.replace(temporary, path)


def _describe(calibration: dict[str, Any]) -> str:
    day = datetime.now(UTC).date().isoformat()
    pairs = calibration.get("pairs", {})
    return (
        f"{_COMMENT} on {day}: FMR target {calibration.get('fmr_target')}, "
        f"{calibration.get('identities')} identities, {pairs.get('genuine')} genuine and "
        f"{pairs.get('impostor')} impostor pairs, FNMR there {calibration.get('fnmr')}"
    )


def set_face_threshold(text: str, threshold: float, comment: str) -> str:
    lines = text.splitlines()
    table = None
    start = end = None
    for number, line in enumerate(lines):
        found = _TABLE.match(line)
        if found:
            if table == "face":
                end = number
                break
            table = found.group(1).strip()
            if table == "face":
                start = number
    if start is None:
        tail = ["", "[face]", comment, f"threshold = {threshold}"]
        return "\n".join([*lines, *tail]).lstrip("\n") + "\n"
    stop = end if end is not None else len(lines)
    body = [
        line
        for line in lines[start + 1 : stop]
        if not _KEY.match(line) and not line.startswith(_COMMENT)
    ]
    section = [lines[start], comment, f"threshold = {threshold}", *body]
    return "\n".join([*lines[:start], *section, *lines[stop:]]) + "\n"
