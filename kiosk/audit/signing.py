"""The kiosk's Ed25519 key that signs audit checkpoints.

The private key lives in a PEM file of mode 0600, created by ``kiosk db init-keys`` (never at
start-up over existing data: see kiosk/storage/key_setup.py); a key file that the group or
others can read is refused. Checkpoints name their key by ``key_id`` (the first 16 hex
digits of the SHA-256 of the raw public key), so keys can be rotated and verified offline.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.storage.errors import StorageKeyError
from kiosk.storage.keyfiles import create_private_file, read_private_file


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def write_new_signing_key(path: Path) -> bool:
    """Generate a key into ``path`` (mode 0600) unless a file is there; True if created."""
    if path.exists():
        return False
    fresh = Ed25519PrivateKey.generate()
    pem = fresh.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return create_private_file(path, pem)


def load_signing_key(path: Path, *, create: bool = True) -> Ed25519PrivateKey:
    """The private key in ``path``; generated (mode 0600) if missing and ``create``, else a
    missing file is :class:`StorageKeyError` naming it. The kiosk's own audit key is opened
    with ``create=False`` (:func:`kiosk.audit.open_audit_log`): only ``kiosk db init-keys``
    creates it."""
    if create:
        write_new_signing_key(path)
    data = read_private_file(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise StorageKeyError(f"audit key file {path} does not hold a PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise StorageKeyError(f"audit key file {path} does not hold an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (public key, or the private key file itself)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StorageKeyError(f"public key file {path} cannot be read ({exc.strerror})") from exc
    if b"PRIVATE KEY" in data:
        return load_signing_key(path, create=False).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise StorageKeyError(f"{path} does not hold a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise StorageKeyError(f"{path} does not hold an Ed25519 public key")
    return key


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
