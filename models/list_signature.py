"""The signed digest of one version of a screening list (pure: no I/O).

Lost/stolen documents, watchlist entries and manifests are signed by the server when a
version is written (an administrator's upload, a vetted manifest published), with its
list-signing key; kiosks pin the public key. A kiosk of one port receives only part of a
manifest version (the vetted entries of its own port), so what is signed is, per *scope*,
the SHA-256 of that scope's changes in order: scope ``""`` for the changes every kiosk
receives, scope ``PORT`` for the vetted manifest entries of that port. A kiosk rebuilds the
digests of the scopes it receives and checks them against the signed ones, so a change
added, altered, dropped or moved to another list, version or port does not verify."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

PURPOSE = "open-egate list version v1"  # domain separation from the change envelopes
VETTED_PREFIX = "vetted:"  # vetted manifest keys: vetted:PORT:FLIGHT:DATE:ISSUER:NUMBER
SCREENING_LISTS = frozenset({"lost_stolen", "watchlist", "manifest"})


def scope_of(list_name: str, key: str) -> str:
    """``""`` for a change every kiosk receives; the port of a vetted manifest entry."""
    if list_name != "manifest" or not key.startswith(VETTED_PREFIX):
        return ""
    return key[len(VETTED_PREFIX) :].partition(":")[0]


def _canonical(change: Mapping[str, Any]) -> str:
    document = {"op": change.get("op"), "key": change.get("key"), "data": change.get("data")}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def scope_digests(list_name: str, changes: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """``{scope: sha256 hex}`` of ``changes`` (one version's, in order), scope by scope."""
    hashes: dict[str, Any] = {}
    for change in changes:
        scope = scope_of(list_name, str(change.get("key", "")))
        digest = hashes.setdefault(scope, hashlib.sha256())
        digest.update(_canonical(change).encode("ascii"))
        digest.update(b"\n")
    return {scope: digest.hexdigest() for scope, digest in hashes.items()}


def empty_digest() -> str:
    return hashlib.sha256().hexdigest()


def list_message(list_name: str, version: int, scopes: Mapping[str, str]) -> bytes:
    """The bytes signed for ``version`` of ``list_name``."""
    document = {
        "purpose": PURPOSE,
        "list": list_name,
        "version": int(version),
        "scopes": {str(scope): str(digest) for scope, digest in scopes.items()},
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return text.encode("ascii")
