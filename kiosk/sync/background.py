"""The kiosk's background sync: the outbox relay and the list pulls on their own thread.

:class:`kiosk.app.KioskRuntime` starts it when ``sync.server_url`` is configured and stops it
with the kiosk. Without a server URL there is nothing to start: the kiosk works offline and
its outbox waits (``kiosk sync run`` can relay it later).
"""

from __future__ import annotations

import logging

from kiosk.config import KioskConfig
from kiosk.storage.crypto_store import BlobCipher
from kiosk.storage.database import Database
from kiosk.sync.client import ServerClient
from kiosk.sync.service import StatusSource, SyncService

log = logging.getLogger(__name__)


class BackgroundSync:
    """A :class:`SyncService` and its HTTP client, opened and closed together."""

    def __init__(
        self,
        config: KioskConfig,
        database: Database,
        status: StatusSource | None = None,
        cipher: BlobCipher | None = None,
    ) -> None:
        self.client = ServerClient(config.sync)
        self.service = SyncService(config, database, self.client, status=status, cipher=cipher)

    def start(self) -> None:
        self.service.start()
        log.info("sync started")

    def close(self) -> None:
        try:
            self.service.close()
        finally:
            self.client.close()
        log.info("sync stopped")


def start_background_sync(
    config: KioskConfig,
    database: Database,
    status: StatusSource | None = None,
    cipher: BlobCipher | None = None,
) -> BackgroundSync | None:
    """The running background sync, or None when no server is configured. ``status`` gives
    the heartbeat's status word and device lines (kiosk/status_report.py); ``cipher`` lets
    referral photos go with their images."""
    if not config.sync.server_url:
        return None
    sync = BackgroundSync(config, database, status, cipher)
    sync.start()
    return sync
