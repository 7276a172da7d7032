"""The trust anchors of Passive Authentication, read from the kiosk's trust store and reloaded
when the store changes.

Whatever ``kiosk trust import`` or a synced trust delta put into the store is what the next
traveller is verified against, without a restart: :meth:`StoreAnchors.current` compares a
cheap signature of the store (row counts and highest ids of the certificate and CRL tables)
with the one it loaded and reloads only when it differs.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from kiosk.icao.auth.anchors import TrustAnchors
from kiosk.storage.database import Database
from kiosk.trust.store import StoreSignature, TrustStore, store_signature

log = logging.getLogger(__name__)

Signature = StoreSignature


class StoreAnchors:
    """Thread-safe cache of the store's trust anchors."""

    def __init__(self, database: Database) -> None:
        self.store = TrustStore(database)
        self._database = database
        self._lock = threading.Lock()
        self._signature: Signature | None = None
        self._anchors = TrustAnchors((), (), (), ())
        self.loaded_at: datetime | None = None

    def signature(self) -> Signature:
        return store_signature(self._database)

    def current(self) -> TrustAnchors:
        """The anchors as the store holds them now (reloaded when the store changed)."""
        signature = self.signature()
        with self._lock:
            if signature != self._signature:
                self._anchors = self.store.anchors()
                self._signature = signature
                self.loaded_at = datetime.now(UTC)
                log.info(
                    "trust anchors loaded: %d CSCA, %d link, %d CRL",
                    len(self._anchors.cscas),
                    len(self._anchors.links),
                    len(self._anchors.crls),
                )
            return self._anchors
