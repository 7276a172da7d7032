"""Checking the signatures of configuration and trust-list deltas before anything of them is
applied.

The server signs each approved version of the ``config`` and ``trust`` lists (two
administrators: one proposes, another approves) with its change-signing key; the delta
carries, per version, the envelope (who proposed, who approved, when) and the signature
(see :mod:`models.change_envelope`). This kiosk verifies each version with the public key
it pins (``central.signing_public_key``): a version with no signature, a signature that does
not verify, another key, or no pinned key at all is refused whole, logged, and listed for
the technician; the versions that verify are applied."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.audit.signing import key_id, load_public_key
from models.change_envelope import envelope_message
from models.errors import KioskError

log = logging.getLogger(__name__)


@dataclass
class VerifiedChanges:
    changes: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)


def pinned_key(path: Path | None) -> Ed25519PublicKey | None:
    if path is None:
        return None
    try:
        return load_public_key(path)
    except KioskError as exc:
        log.error("the pinned change-signing key is unusable: %s", exc)
        return None


def _why_not(
    name: str,
    version: int,
    changes: list[dict[str, Any]],
    signature: dict[str, Any] | None,
    key: Ed25519PublicKey | None,
) -> str | None:
    if key is None:
        return "no change-signing key is pinned (central.signing_public_key)"
    if not isinstance(signature, dict):
        return "unsigned"
    envelope = signature.get("envelope")
    if not isinstance(envelope, dict):
        return "no envelope"
    if signature.get("key_id") != key_id(key):
        return f"signed by key {str(signature.get('key_id'))[:16]}, not the pinned key"
    if envelope.get("proposed_by") == envelope.get("approved_by"):
        return "approved by its proposer"
    try:
        key.verify(
            bytes.fromhex(str(signature.get("signature", ""))),
            envelope_message(name, version, changes, envelope),
        )
    except (InvalidSignature, ValueError):
        return "the signature does not verify"
    return None


def verify_delta(name: str, delta: dict[str, Any], key: Ed25519PublicKey | None) -> VerifiedChanges:
    """The changes of ``delta`` whose version is signed by ``key``; the refused versions."""
    by_version: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for change in delta.get("changes") or []:
        by_version[int(change.get("version", 0))].append(change)
    signatures: dict[int, dict[str, Any]] = {}
    for item in delta.get("signatures") or []:
        if isinstance(item, dict) and isinstance(item.get("version"), int):
            signatures[item["version"]] = item
    result = VerifiedChanges()
    for version in sorted(by_version):
        changes = by_version[version]
        reason = _why_not(name, version, changes, signatures.get(version), key)
        if reason is None:
            result.changes.extend(changes)
            continue
        result.refused.append({"version": version, "key": f"{name} v{version}", "reason": reason})
        log.warning("%s version %d refused: %s", name, version, reason)
    return result
