"""``kiosk server api import FILE... [--json]``: ingest API/PNR messages from files into
the server's database, exactly as the endpoint and the drop folder do. One line per file,
then (with ``--json``) one JSON object as the last line:
``{"messages", "passengers", "crew", "flights", "quarantined": [{"file", "segment",
"reason"}]}``. Exit 0 when every file was stored (or was already), 1 when something was
quarantined."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from server.config import ServerConfig
from server.database import open_server_database
from server.security.change_signing import ChangeSigner
from server.security.tokens import load_or_create_secret
from server.vetting.service import IngestReport, VettingService

MAX_FILE_BYTES = 10 * 1024 * 1024


def import_files(config: ServerConfig, files: list[Path], *, as_json: bool, actor: str) -> int:
    database = open_server_database(config)
    config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = load_or_create_secret(config.data_dir / "vetting-contact.key")
    signer = ChangeSigner.open(config.list_signing_key_file)
    service = VettingService(database, config.vetting, key, signer)
    total = IngestReport()
    try:
        for path in files:
            try:
                with path.open("rb") as handle:
                    data = handle.read(MAX_FILE_BYTES + 1)
            except OSError as exc:
                total.quarantined.append(
                    {
                        "file": str(path),
                        "segment": "-",
                        "reason": f"cannot be read ({exc.strerror})",
                    }
                )
                print(f"{path}: cannot be read", file=sys.stderr)
                continue
            report = service.ingest(data, source=str(path), channel="cli", actor=actor)
            total.add(report)
            print(_line(path, report), file=sys.stderr if as_json else sys.stdout)
    finally:
        database.close()
    summary: dict[str, Any] = total.summary()
    if as_json:
        print(json.dumps(summary))
    else:
        print(
            f"{summary['messages']} messages, {summary['passengers']} passengers, "
            f"{summary['crew']} crew, {summary['flights']} flights, "
            f"{len(summary['quarantined'])} quarantined"
        )
    return 1 if total.quarantined else 0


def _line(path: Path, report: IngestReport) -> str:
    if report.duplicates:
        return f"{path}: already received (interchange {report.interchange_id})"
    if report.quarantined and not report.messages:
        first = report.quarantined[0]
        return f"{path}: quarantined at segment {first['segment']}: {first['reason']}"
    return (
        f"{path}: {report.messages} messages, {report.passengers} passengers, "
        f"{report.crew} crew, {report.reservations} reservations"
    )
