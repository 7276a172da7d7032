"""The sync loop: relay the outbox, pull resolutions and list deltas, send a heartbeat;
then wait ``interval_s`` (or the backoff after a failure). Runs on a ``kiosk-sync`` thread
that :meth:`SyncService.close` stops."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk import __version__
from kiosk.config import KioskConfig
from kiosk.storage import outbox
from kiosk.storage.crypto_store import BlobCipher
from kiosk.storage.database import Database
from kiosk.storage.recorder import PHOTOS_MESSAGE
from kiosk.sync import contact
from kiosk.sync.backoff import Backoff
from kiosk.sync.client import ServerClient
from kiosk.sync.errors import SyncError
from kiosk.sync.lists import pull_all
from kiosk.sync.photos import BATCH as PHOTO_BATCH
from kiosk.sync.photos import photo_payloads
from kiosk.sync.relay import OutboxRelay, RelayReport
from kiosk.sync.resolutions import pull_resolutions
from kiosk.trust.coverage import HeartbeatCoverage
from models.base import utc_now

log = logging.getLogger(__name__)


@dataclass
class CycleReport:
    relay: RelayReport
    resolutions: int = 0
    list_changes: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.relay.errors


StatusSource = Callable[[], tuple[str, dict[str, str]]]
TrustSource = Callable[[], dict[str, Any]]


class SyncService:
    def __init__(
        self,
        config: KioskConfig,
        database: Database,
        client: ServerClient,
        *,
        status: StatusSource | None = None,
        cipher: BlobCipher | None = None,
        trust: TrustSource | None = None,
    ) -> None:
        """``cipher``: the storage key's cipher, to send referral photos (without it, photo
        messages go without their images). ``trust``: the trust coverage the heartbeat
        carries; by default that of the policy's issuers in this kiosk's trust store."""
        self.config = config
        self.database = database
        self.client = client
        self.status = status
        self.trust: TrustSource = trust or HeartbeatCoverage(
            database, list(config.policy.eligible_issuers)
        )
        self.backoff = Backoff(config.sync.backoff_base_s, config.sync.backoff_cap_s)
        photos = (lambda items: photo_payloads(database, cipher, items), PHOTO_BATCH)
        self.relay = OutboxRelay(
            database,
            client,
            batch_size=config.sync.batch_size,
            backoff=self.backoff,
            expanders={PHOTOS_MESSAGE: photos},
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0

    def run_once(self) -> CycleReport:
        """One full cycle; never raises a sync error (it is reported)."""
        report = CycleReport(relay=self.relay.drain())
        try:
            report.resolutions = pull_resolutions(self.database, self.client)
            report.list_changes = sum(pull_all(self.database, self.client, self.config).values())
            # versions the pull refused were queued for the server: tell it in this cycle
            self._add(report.relay, self.relay.drain())
            self._heartbeat()
            contact.record(self.database, ok=True)
        except SyncError as exc:
            report.error = str(exc)
            contact.record(self.database, ok=False, error=str(exc))
            log.warning("sync cycle failed: %s", exc.code)
        return report

    @staticmethod
    def _add(total: RelayReport, more: RelayReport) -> None:
        total.sent += more.sent
        total.duplicates += more.duplicates
        total.failed += more.failed
        total.errors += more.errors

    def _heartbeat(self) -> None:
        with self.database.read() as session:
            backlog = outbox.backlog(session)
        status, devices = self.status() if self.status is not None else ("ok", {})
        body: dict[str, Any] = {
            "sent_at": utc_now().isoformat(),
            "status": status,
            "backlog": backlog,
            "software_version": __version__,
            "devices": devices,
        }
        try:
            body["trust"] = self.trust()  # the fleet view flags states this kiosk refers
        except Exception as exc:  # a heartbeat without coverage is still a heartbeat
            log.warning("trust coverage not computed: %s", type(exc).__name__)
        self.client.heartbeat(body)

    def _loop(self) -> None:
        while not self._stop.is_set():
            report = self.run_once()
            self._failures = 0 if report.ok else self._failures + 1
            wait = (
                self.config.sync.interval_s
                if self._failures == 0
                else self.backoff.delay(self._failures)
            )
            self._stop.wait(wait)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="kiosk-sync", daemon=True)
        self._thread.start()

    def close(self, timeout_s: float = 15.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def __enter__(self) -> SyncService:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
