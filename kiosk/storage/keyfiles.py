"""Secret key files: created with mode 0600 (atomically, never overwritten), and refused when
their permissions let the group or other users read them."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from kiosk.storage.errors import KeyFilePermissionError, StorageKeyError

MAX_KEY_FILE_BYTES = 16 * 1024


def read_private_file(path: Path) -> bytes:
    """The contents of ``path``, after checking it is a regular file only its owner can use."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError as exc:
        raise StorageKeyError(f"key file {path} does not exist") from exc
    except OSError as exc:
        raise StorageKeyError(f"key file {path} cannot be opened ({exc.strerror})") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise StorageKeyError(f"key file {path} is not a regular file")
        if info.st_mode & 0o077:
            raise KeyFilePermissionError(
                f"key file {path} has mode {stat.S_IMODE(info.st_mode):04o}; "
                "it must not be accessible by group or others (chmod 600)"
            )
        if info.st_size > MAX_KEY_FILE_BYTES:
            raise StorageKeyError(f"key file {path} is too large to be a key")
        return os.read(fd, MAX_KEY_FILE_BYTES + 1)
    finally:
        os.close(fd)


def create_private_file(path: Path, data: bytes) -> bool:
    """Write ``data`` to a new file with mode 0600; False if the file already exists.

    The data goes to a private temporary file first, which is then hard-linked into place, so a
    concurrent reader never sees a half-written key and an existing key is never replaced.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(temporary, path)
    except FileExistsError:
        return False
    except OSError as exc:
        raise StorageKeyError(f"key file {path} cannot be created ({exc.strerror})") from exc
    finally:
        temporary.unlink(missing_ok=True)
    return True
