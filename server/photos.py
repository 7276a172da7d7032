"""Referral photos on the server: sealed at rest, kept only until the referral is resolved
plus ``photo_retention_hours``, then deleted.

Each image is encrypted with AES-256-GCM under the server's photo key (``<data_dir>/photos.key``,
mode 0600, created on first use), a fresh nonce per image and the kiosk id, transaction id and
kind as associated data, so an image copied to another referral does not decrypt. They travel
from the kiosk over mutual TLS and to the booth over TLS with an officer's token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from models.base import utc_now
from models.records import ReferralStatus
from models.server_tables import ReferralPhotoRow, ReferralQueueRow
from server.security.ca import write_private_file

log = logging.getLogger(__name__)

KINDS = ("chip_portrait", "live_frame")
MAX_IMAGE_BYTES = 1_500_000
MAX_PIXELS = 20_000_000


class PhotoError(ValueError):
    """An image a kiosk sent is not one the booth can show."""


def load_or_create_photo_key(path: Path) -> bytes:
    if path.exists():
        key = path.read_bytes()
        if len(key) == 32:
            return key
        raise PhotoError(f"{path} is not a 32-byte key")
    key = os.urandom(32)
    write_private_file(path, key)
    return key


def decode_image(text: str) -> bytes:
    """The bytes of a base64 image, checked to be a JPEG, PNG or JPEG 2000 Pillow can open."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PhotoError("the image is not valid base64") from exc
    if not data or len(data) > MAX_IMAGE_BYTES:
        raise PhotoError("the image is empty or too large")
    from PIL import Image, UnidentifiedImageError

    try:
        # only the three plugins are tried: no other parser ever sees the bytes
        with Image.open(io.BytesIO(data), formats=["JPEG", "PNG", "JPEG2000"]) as image:
            if image.format not in ("JPEG", "PNG", "JPEG2000"):
                raise PhotoError(f"images of format {image.format} are not accepted")
            if image.width * image.height > MAX_PIXELS:
                raise PhotoError("the image has too many pixels")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise PhotoError("the image cannot be decoded") from exc
    return data


@dataclass(frozen=True)
class PhotoVault:
    key: bytes

    @property
    def key_id(self) -> str:
        return hmac.new(self.key, b"server photo key id", hashlib.sha256).hexdigest()[:16]

    def _aad(self, kiosk_id: str, transaction_id: str, kind: str) -> bytes:
        return f"{kiosk_id}|{transaction_id}|{kind}".encode()

    def seal(
        self, kiosk_id: str, transaction_id: str, kind: str, data: bytes
    ) -> tuple[bytes, bytes]:
        nonce = os.urandom(12)
        aad = self._aad(kiosk_id, transaction_id, kind)
        return nonce, AESGCM(self.key).encrypt(nonce, data, aad)

    def open(self, row: ReferralPhotoRow) -> bytes | None:
        if row.key_id != self.key_id:
            log.warning("photo of %s sealed under another key", row.transaction_id)
            return None
        try:
            return AESGCM(self.key).decrypt(
                row.nonce, row.ciphertext, self._aad(row.kiosk_id, row.transaction_id, row.kind)
            )
        except InvalidTag:
            log.warning("photo of %s does not authenticate", row.transaction_id)
            return None

    def store(
        self, session: Session, transaction_id: str, kiosk_id: str, kind: str, data: bytes
    ) -> bool:
        """Store one image unless the referral already has it; True when stored now."""
        if session.get(ReferralPhotoRow, (kiosk_id, transaction_id, kind)) is not None:
            return False
        nonce, sealed = self.seal(kiosk_id, transaction_id, kind, data)
        session.add(
            ReferralPhotoRow(
                kiosk_id=kiosk_id,
                transaction_id=transaction_id,
                kind=kind,
                key_id=self.key_id,
                nonce=nonce,
                ciphertext=sealed,
                received_at=utc_now(),
            )
        )
        return True

    def load(self, session: Session, kiosk_id: str, transaction_id: str) -> dict[str, bytes]:
        rows = session.scalars(
            select(ReferralPhotoRow).where(
                ReferralPhotoRow.kiosk_id == kiosk_id,
                ReferralPhotoRow.transaction_id == transaction_id,
            )
        )
        found = {}
        for row in rows:
            data = self.open(row)
            if data is not None:
                found[row.kind] = data
        return found


def purge_photos(session: Session, retention_hours: float, now: datetime | None = None) -> int:
    """Delete the photos of referrals resolved longer than the retention ago, and photos
    that never got a referral within the retention; the number of images deleted."""
    moment = now or utc_now()
    cutoff = moment - timedelta(hours=retention_hours)
    resolved = (
        ReferralQueueRow.status == ReferralStatus.RESOLVED.value,
        ReferralQueueRow.resolved_at < cutoff,
    )
    of_photo = (
        ReferralQueueRow.kiosk_id == ReferralPhotoRow.kiosk_id,
        ReferralQueueRow.transaction_id == ReferralPhotoRow.transaction_id,
    )
    gone = session.execute(
        delete(ReferralPhotoRow).where(
            exists().where(*of_photo, *resolved)
            | (~exists().where(*of_photo) & (ReferralPhotoRow.received_at < cutoff))
        )
    )
    session.execute(
        update(ReferralQueueRow)
        .where(*resolved)
        .where(ReferralQueueRow.photos_purged_at.is_(None))
        .values(photos_purged_at=moment)
    )
    count = int(getattr(gone, "rowcount", 0) or 0)
    if count:
        log.info("photo purge: %d images deleted", count)
    return count
