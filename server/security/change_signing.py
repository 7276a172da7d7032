"""The server's signing keys: Ed25519, each in a 0600 file created on first use. The
change-signing key (``change_signing_key``, default ``<data_dir>/change-signing.pem``) signs
approved configuration and trust versions (:mod:`server.change_approval`); the list-signing
key (``list_signing_key``, default ``<data_dir>/list-signing.pem``) signs each version of
the screening lists as it is written (:func:`server.api.lists.sign_version`). Kiosks pin
both public keys.
An agency that keeps it on a separate signing host replaces this class, not its callers."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.audit.signing import key_id, load_signing_key


class ChangeSigner:
    """The change-signing key (Ed25519, a 0600 file created on first use)."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.key_id = key_id(key.public_key())

    @classmethod
    def open(cls, path: Path) -> ChangeSigner:
        return cls(load_signing_key(path))

    @classmethod
    def generate(cls) -> ChangeSigner:
        """A key held in memory only (benchmarks)."""
        return cls(Ed25519PrivateKey.generate())

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    @property
    def public_key_pem(self) -> str:
        return (
            self._key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )

    def sign(self, message: bytes) -> str:
        return self._key.sign(message).hex()
