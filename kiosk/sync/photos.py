"""A referral's photos for the server: the outbox message names the transaction only; the
chip photo and the best live frame are read from the encrypted blob store when the message is
sent (over mutual TLS), so no image ever sits in the outbox in the clear."""

from __future__ import annotations

import base64
import logging
from typing import Any

from sqlalchemy import select

from kiosk.storage.crypto_store import BlobCipher, load_blob
from kiosk.storage.database import Database
from models.errors import StorageError
from models.records import BlobKind
from models.tables import BiometricBlobRow

log = logging.getLogger(__name__)

FIELDS = {BlobKind.CHIP_PORTRAIT.value: "chip_portrait", BlobKind.FACE_IMAGE.value: "live_frame"}
BATCH = 4  # photos are large: at most this many referrals per request


def photo_payloads(
    database: Database, cipher: BlobCipher | None, payloads: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The request items for photo messages: each image base64, or absent when it was purged
    or cannot be decrypted (the message is then sent without it and not retried)."""
    items = []
    with database.read() as session:
        for payload in payloads:
            transaction_id = str(payload["transaction_id"])
            item: dict[str, Any] = {
                "transaction_id": transaction_id,
                "kiosk_id": str(payload["kiosk_id"]),
            }
            rows = session.scalars(
                select(BiometricBlobRow).where(
                    BiometricBlobRow.transaction_id == transaction_id,
                    BiometricBlobRow.kind.in_(list(FIELDS)),
                )
            )
            for row in rows:
                if cipher is None:
                    break
                try:
                    data = load_blob(cipher, row)
                except StorageError:
                    log.warning("a photo of %s does not decrypt: not sent", transaction_id)
                    continue
                item[FIELDS[row.kind]] = base64.b64encode(data).decode("ascii")
            items.append(item)
    return items
