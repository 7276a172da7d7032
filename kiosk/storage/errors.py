"""Typed errors of local storage (all :class:`models.errors.StorageError`)."""

from __future__ import annotations

from models.errors import StorageError


class StorageKeyError(StorageError):
    """A storage or signing key is missing, malformed or unusable."""

    code = "storage_key_invalid"


class KeyFilePermissionError(StorageKeyError):
    """A key file can be read by other users than its owner (it must be mode 0600)."""

    code = "key_file_permissions"


class DecryptionError(StorageError):
    """An encrypted blob could not be decrypted: wrong key, wrong transaction, or altered."""

    code = "storage_decrypt_failed"


class DuplicateTransactionError(StorageError):
    """A transaction with this id has already been recorded."""

    code = "transaction_exists"


class DatabaseUnavailableError(StorageError):
    """The database could not be opened, migrated or written."""

    code = "database_unavailable"


class StorageFullError(DatabaseUnavailableError):
    """The disk (or the database's size limit) is full: nothing more can be recorded."""

    code = "storage_full"


class StorageCorruptError(DatabaseUnavailableError):
    """The database file is damaged (a corrupt page, not a database, emptied): restore it."""

    code = "storage_corrupt"
