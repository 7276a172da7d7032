"""Checking the server's signatures on lost/stolen, watchlist and manifest deltas before
anything of them is applied.

The server signs each version of these lists as it is written (an administrator's upload, a
vetted manifest published) with its list-signing key; the signature covers the list's name,
the version and, scope by scope, the digest of the version's changes (scope ``""``: what
every kiosk receives; scope ``PORT``: that port's vetted manifest entries; see
:mod:`models.list_signature`). A page carries the signature of every version it covers,
those with none of this kiosk's changes too. This kiosk verifies them in order with the
keys it pins (``central.list_signing_public_keys``) and applies the versions up to the first
that fails: one unsigned, signed by another key, whose digest does not match the changes
received (a change added, altered or dropped on the way or in the server's database), or
replayed from another list, version or port. The list stays at the last good version, so
nothing is skipped; the refusal is reported to the server once."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.audit.signing import key_id
from kiosk.sync.signed_delta import pinned_key
from models.list_signature import empty_digest, list_message, scope_digests

log = logging.getLogger(__name__)

MAX_PAGE_VERSIONS = 5000  # the server's largest page (server/api/lists.py MAX_PAGE)
_HEX = frozenset("0123456789abcdef")


@dataclass
class CheckedPage:
    """The changes of the versions that verified, the version they reach, and the first
    version refused (``{"version", "key", "reason"}``), if any."""

    changes: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0
    refused: dict[str, Any] | None = None


def pinned_list_keys(paths: Sequence[Path]) -> dict[str, Ed25519PublicKey]:
    keys = (pinned_key(path) for path in paths)
    return {key_id(key): key for key in keys if key is not None}


def _why_not(
    name: str,
    version: int,
    changes: list[dict[str, Any]],
    signature: Any,
    keys: dict[str, Ed25519PublicKey],
    port: str,
) -> str | None:
    if not keys:
        return "no list-signing key is pinned (central.list_signing_public_keys)"
    if not isinstance(signature, dict):
        return "unsigned"
    key = keys.get(str(signature.get("key_id")))
    if key is None:
        return f"signed by key {str(signature.get('key_id'))[:16]}, not a pinned key"
    envelope = signature.get("envelope")
    scopes = envelope.get("scopes") if isinstance(envelope, dict) else None
    if not isinstance(scopes, dict) or not all(
        isinstance(s, str) and isinstance(d, str) for s, d in scopes.items()
    ):
        return "no signed digests"
    text = str(signature.get("signature", ""))
    try:
        if len(text) != 128 or not set(text) <= _HEX:
            raise ValueError("not an Ed25519 signature")
        key.verify(bytes.fromhex(text), list_message(name, version, scopes))
    except (InvalidSignature, ValueError):
        return "the signature does not verify"
    received = scope_digests(name, changes)
    mine = {"", port} if port else {""}
    if set(received) - mine:
        return "changes for another port"
    for scope in mine:
        if received.get(scope, empty_digest()) != scopes.get(scope, empty_digest()):
            return "the changes received do not match the signed digest"
    return None


def check_page(
    name: str,
    since: int,
    delta: dict[str, Any],
    keys: dict[str, Ed25519PublicKey],
    *,
    port: str = "",
) -> CheckedPage:
    """The verified part of a page of list ``name`` pulled after version ``since``."""
    reached = max(int(delta.get("version", since)), since)
    result = CheckedPage(version=since)
    by_version: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for change in delta.get("changes") or []:
        by_version[int(change.get("version", 0))].append(change)
    signatures: dict[int, Any] = {}
    for item in delta.get("signatures") or []:
        if isinstance(item, dict) and isinstance(item.get("version"), int):
            signatures.setdefault(item["version"], item)
    reason: str | None = None
    if any(not since < version <= reached for version in by_version):
        reason, first = "changes outside the versions of the page", since + 1
    elif reached - since > MAX_PAGE_VERSIONS:
        reason, first = "the page covers too many versions", since + 1
    else:
        first = since + 1
        for version in range(since + 1, reached + 1):
            reason = _why_not(
                name, version, by_version.get(version, []), signatures.get(version), keys, port
            )
            if reason is not None:
                first = version
                break
            result.changes.extend(by_version.get(version, []))
            result.version = version
    if reason is not None:
        result.refused = {"version": first, "key": f"{name} v{first}", "reason": reason}
        log.warning("%s version %d refused: %s", name, first, reason)
    return result
