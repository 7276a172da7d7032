"""What an audit entry is, how it is hashed, and what it may contain.

An entry's hash is SHA-256 over the canonical JSON (keys sorted, no spaces, UTF-8) of
``seq, time, actor, action, subject_ids, details, prev_hash``; the first entry's
``prev_hash`` is 64 zeros. ``details`` is plain JSON without personal data: keys that name
personal data are refused, numbers must be integers (floats do not survive every JSON store
byte for byte), strings and the whole entry are bounded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from models.errors import StorageError

GENESIS_HASH = "0" * 64
MAX_DETAILS_BYTES = 8192
MAX_STRING = 500
MAX_SUBJECTS = 16
_TOKEN_MAX = 64

PERSONAL_KEYS = frozenset(
    {
        "name",
        "names",
        "surname",
        "given_name",
        "given_names",
        "full_name",
        "document_number",
        "passport_number",
        "mrz",
        "mrz_lines",
        "birth_date",
        "date_of_birth",
        "dob",
        "image",
        "photo",
        "portrait",
        "face_image",
        "template",
        "dg1",
        "dg2",
        "apdu",
    }
)


class AuditEntryError(StorageError):
    """An audit entry was refused (personal data, bad type, too large)."""

    code = "audit_entry_invalid"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    time: datetime
    actor: str
    action: str
    subject_ids: tuple[str, ...]
    details: Mapping[str, Any]
    prev_hash: str
    hash: str


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    seq: int,
    time: datetime,
    actor: str,
    action: str,
    subject_ids: Sequence[str],
    details: Mapping[str, Any],
    prev_hash: str,
) -> str:
    body = {
        "seq": seq,
        "time": format_time(time),
        "actor": actor,
        "action": action,
        "subject_ids": list(subject_ids),
        "details": dict(details),
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()


def check_token(label: str, value: str) -> None:
    if not isinstance(value, str) or not 0 < len(value) <= _TOKEN_MAX:
        raise AuditEntryError(f"audit {label} must be a string of 1..{_TOKEN_MAX} characters")


def check_subjects(subject_ids: Sequence[str]) -> tuple[str, ...]:
    if isinstance(subject_ids, str) or len(subject_ids) > MAX_SUBJECTS:
        raise AuditEntryError(f"audit subject ids must be a list of at most {MAX_SUBJECTS}")
    for subject in subject_ids:
        check_token("subject id", subject)
    return tuple(subject_ids)


def check_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """A plain-JSON copy of ``details``; ``AuditEntryError`` if it may hold personal data."""
    if not isinstance(details, Mapping):
        raise AuditEntryError("audit details must be a mapping")
    plain = _plain(details, "details")
    if len(canonical_json(plain)) > MAX_DETAILS_BYTES:
        raise AuditEntryError(f"audit details larger than {MAX_DETAILS_BYTES} bytes")
    assert isinstance(plain, dict)
    return plain


def _plain(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise AuditEntryError(f"audit {where}: string longer than {MAX_STRING}")
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise AuditEntryError(f"audit {where}: keys must be strings")
            if key.lower() in PERSONAL_KEYS:
                raise AuditEntryError(f"audit {where}: key {key!r} would hold personal data")
            out[key] = _plain(item, f"{where}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, f"{where}[]") for item in value]
    raise AuditEntryError(
        f"audit {where}: {type(value).__name__} is not allowed (use str, int, bool, list, dict)"
    )
