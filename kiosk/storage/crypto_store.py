"""Biometric data encrypted at rest, and keyed tokens of document numbers.

Face images and templates are sealed with AES-256-GCM: a fresh random 96-bit nonce per blob,
the transaction id as associated data (a blob copied to another transaction does not
decrypt), and the id of the key stored beside it (so a wrong key is told apart from altered
data). The key comes from ``KIOSK_STORAGE__KEY`` (base64) or from a key file that only its
owner may read (default ``<data_dir>/storage.key``, created by ``kiosk db init-keys``).

Document numbers are never stored: :meth:`BlobCipher.document_token` gives an HMAC-SHA-256 of
issuer and number under a key derived from the storage key (HKDF), enough to find the same
document again on this kiosk and useless to anyone without the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session

from kiosk.config import KioskConfig
from kiosk.storage.errors import DecryptionError, StorageKeyError
from kiosk.storage.keyfiles import read_private_file
from models.errors import StorageError
from models.records import BlobKind
from models.tables import BiometricBlobRow

KEY_BYTES = 32
NONCE_BYTES = 12
MAX_BLOB_BYTES = 32 * 1024 * 1024


def decode_key(material: bytes) -> bytes:
    """A 32-byte key from its base64 text (surrounding whitespace allowed)."""
    text = material.strip()
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise StorageKeyError("the storage key is not valid base64") from exc
    if len(key) != KEY_BYTES:
        raise StorageKeyError(f"the storage key must be {KEY_BYTES} bytes, not {len(key)}")
    return key


def generate_key() -> bytes:
    """A new random storage key, base64 text as it is written to a key file."""
    return base64.b64encode(os.urandom(KEY_BYTES)) + b"\n"


def load_storage_key(config: KioskConfig) -> bytes:
    """The storage key: from the environment/config value, else from the key file.

    The key file must exist (``kiosk db init-keys`` creates it; see kiosk/storage/key_setup.py):
    a missing one is ``StorageKeyError`` naming it, never replaced by a new key. A key file
    readable by group or others raises ``KeyFilePermissionError``.
    """
    if config.storage.key is not None:
        return decode_key(config.storage.key.get_secret_value().encode("ascii", "replace"))
    return decode_key(read_private_file(config.storage_key_file))


@dataclass(frozen=True, slots=True)
class SealedBlob:
    key_id: str
    nonce: bytes
    ciphertext: bytes


class BlobCipher:
    """AES-256-GCM with the transaction id as associated data."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise StorageKeyError(f"the storage key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)
        self.key_id = hmac.new(key, b"kiosk storage key id", hashlib.sha256).hexdigest()[:16]
        self._token_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"kiosk document token"
        ).derive(key)

    def encrypt(self, plaintext: bytes, transaction_id: str) -> SealedBlob:
        if len(plaintext) > MAX_BLOB_BYTES:
            raise StorageError(f"blob of {len(plaintext)} bytes is too large to store")
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, transaction_id.encode("utf-8"))
        return SealedBlob(self.key_id, nonce, sealed)

    def decrypt(self, blob: SealedBlob, transaction_id: str) -> bytes:
        if blob.key_id != self.key_id:
            raise DecryptionError("the blob was encrypted with another storage key")
        if len(blob.nonce) != NONCE_BYTES:
            raise DecryptionError("the blob's nonce has a bad length")
        try:
            return self._aead.decrypt(blob.nonce, blob.ciphertext, transaction_id.encode("utf-8"))
        except InvalidTag as exc:
            raise DecryptionError(
                "the blob does not authenticate (altered, or another transaction's)"
            ) from exc

    def document_token(self, issuer: str, document_number: str) -> str:
        """A keyed token (64 hex) of a document number, for de-duplication without the number."""
        normal = document_number.upper().replace("<", "").replace(" ", "")
        message = f"{issuer.upper()}|{normal}".encode()
        return hmac.new(self._token_key, message, hashlib.sha256).hexdigest()


def store_blob(
    session: Session, cipher: BlobCipher, transaction_id: str, kind: BlobKind, data: bytes
) -> BiometricBlobRow:
    """Encrypt ``data`` and add it to ``session`` (committed with the caller's transaction)."""
    sealed = cipher.encrypt(data, transaction_id)
    row = BiometricBlobRow(
        transaction_id=transaction_id,
        kind=kind.value,
        key_id=sealed.key_id,
        nonce=sealed.nonce,
        ciphertext=sealed.ciphertext,
    )
    session.add(row)
    return row


def load_blob(cipher: BlobCipher, row: BiometricBlobRow) -> bytes:
    """The plaintext of a stored blob; ``DecryptionError`` if it does not authenticate."""
    return cipher.decrypt(SealedBlob(row.key_id, row.nonce, row.ciphertext), row.transaction_id)
