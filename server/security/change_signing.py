"""The server's change-signing key: Ed25519, in a 0600 file created on first use
(``change_signing_key``, default ``<data_dir>/change-signing.pem``). It signs approved
configuration and trust versions (:mod:`server.change_approval`); kiosks pin its public key.
An agency that keeps it on a separate signing host replaces this class, not its callers."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.audit.signing import key_id, load_signing_key


class ChangeSigner:
    """The change-signing key (Ed25519, a 0600 file created on first use)."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.key_id = key_id(key.public_key())

    @classmethod
    def open(cls, path: Path) -> ChangeSigner:
        return cls(load_signing_key(path))

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
