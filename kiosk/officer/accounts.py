"""Officer accounts of a standalone kiosk: user names with argon2id password hashes, kept in a
JSON file (``<data_dir>/officers.json``, mode 0600). A kiosk connected to the central server
uses the server's accounts instead (``kiosk.officer.remote``)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kiosk.officer.referrals import LoginFailedError, OfficerError, OfficerSession

_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("nobody's password")
_USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_FILE_BYTES = 1_000_000


class OfficerAccounts:
    def __init__(self, hashes: dict[str, str] | None = None, path: Path | None = None) -> None:
        self._hashes = dict(hashes or {})
        self.path = path

    @classmethod
    def load(cls, path: Path) -> OfficerAccounts:
        """The accounts in ``path``; none when the file does not exist."""
        if not path.exists():
            return cls(path=path)
        if path.stat().st_size > MAX_FILE_BYTES:
            raise OfficerError(f"{path.name} is too large")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise OfficerError(f"{path.name} cannot be read") from exc
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise OfficerError(f"{path.name} must map user names to password hashes")
        return cls(data, path)

    def add(self, username: str, password: str) -> None:
        if not _USERNAME.match(username):
            raise OfficerError("a user name is 1..64 of [A-Za-z0-9._-]")
        if len(password) < 8:
            raise OfficerError("a password has at least 8 characters")
        self._hashes[username] = _HASHER.hash(password)
        if self.path is not None:
            self._save(self.path)

    def _save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self._hashes, handle, indent=1, sort_keys=True)

    def __contains__(self, username: object) -> bool:
        return username in self._hashes

    def verify(self, username: str, password: str) -> OfficerSession:
        """The session of ``username``; :class:`LoginFailedError` (same for both failures)."""
        stored = self._hashes.get(username)
        try:
            ok = _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok:
            raise LoginFailedError("login failed")
        return OfficerSession(officer_id=username)
