"""The watched drop folder: how airlines' messages reach a hub's gateway as files.

Every regular file in the folder (not hidden, not still being written: its size must be
the same on two looks) is ingested, then moved to ``done/`` or, when nothing in it could
be read, to ``quarantine/`` (the quarantine table keeps it too, with segment and reason).
A file that fails for another reason (the database is down) stays where it is and is
tried again on the next pass."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from server.vetting.service import IngestReport, VettingService

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 10 * 1024 * 1024


def _move(path: Path, folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    n = 1
    while target.exists():
        target = folder / f"{path.stem}.{n}{path.suffix}"
        n += 1
    path.replace(target)


class DropFolder:
    def __init__(self, service: VettingService, folder: Path, interval_s: float) -> None:
        self.service = service
        self.folder = folder
        self.interval_s = interval_s
        self._sizes: dict[Path, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0

    def scan_once(self) -> IngestReport:
        """Ingest the files that are complete; the combined report."""
        total = IngestReport()
        self.folder.mkdir(parents=True, exist_ok=True)
        seen: dict[Path, int] = {}
        for path in sorted(self.folder.iterdir()):
            if not path.is_file() or path.name.startswith("."):
                continue
            size = path.stat().st_size
            seen[path] = size
            if self._sizes.get(path) != size:
                continue  # new or still growing: look again next pass
            try:
                data = path.read_bytes()[: MAX_FILE_BYTES + 1]
                report = self.service.ingest(
                    data, source=path.name, channel="folder", actor="drop-folder"
                )
            except (OSError, SQLAlchemyError) as exc:
                log.warning("drop folder: %s not ingested (%s)", path.name, exc.__class__.__name__)
                continue
            total.add(report)
            stored = report.messages > 0 or report.duplicates > 0
            _move(path, self.folder / ("done" if stored else "quarantine"))
            seen.pop(path, None)
        self._sizes = seen
        self.passes += 1
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.scan_once()
            except OSError as exc:
                log.error("drop folder unreadable: %s", exc.__class__.__name__)

    def start(self) -> DropFolder:
        self._thread = threading.Thread(target=self._run, name="vetting-drop-folder", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
