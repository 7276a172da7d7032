"""The signed envelope of a configuration or trust-list version (pure: no I/O).

The server signs, with Ed25519, the canonical JSON of one approved version: the list's name,
the version, every change in order (op, key, data), who proposed it and who approved it, and
when. Kiosks rebuild the same bytes from the delta they received and verify them with the
public key they pin; a change that is not covered by a valid signature is never applied."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

SIGNED_LISTS = frozenset({"config", "trust"})


def envelope_message(
    list_name: str,
    version: int,
    changes: Sequence[Mapping[str, Any]],
    envelope: Mapping[str, Any],
) -> bytes:
    """The bytes signed for ``version`` of ``list_name``; ``envelope`` carries proposed_by,
    approved_by, approved_at and request (the change request's id)."""
    document = {
        "list": list_name,
        "version": int(version),
        "changes": [
            {"op": change.get("op"), "key": change.get("key"), "data": change.get("data")}
            for change in changes
        ],
        "proposed_by": envelope.get("proposed_by"),
        "approved_by": envelope.get("approved_by"),
        "approved_at": envelope.get("approved_at"),
        "request": envelope.get("request"),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return text.encode("ascii")
