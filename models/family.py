"""The family check that ties the members of one family transaction together.

Each member's record carries a check named ``family`` whose message names the family and the
member's place in it ("family <id>: member 2 of 3"). The kiosk writes it
(``kiosk.session.family_decided``); the kiosk's booth and the central server read it back to
show a family's referrals as one. Pure: no database, no network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FAMILY_CHECK = "family"
MAX_FAMILY = 32
_MESSAGE = re.compile(r"^family ([A-Za-z0-9._:-]{1,120}): member (\d{1,2}) of (\d{1,2})$")


@dataclass(frozen=True)
class FamilyTag:
    """A member's place in a family transaction."""

    family_id: str
    position: int  # 1-based, in reading order
    size: int


def family_message(family_id: str, position: int, size: int) -> str:
    return f"family {family_id}: member {position} of {size}"


def parse_family(message: str | None) -> FamilyTag | None:
    """The tag in a family check's message; None for anything else (a bad or foreign text
    is no family: the referral is shown on its own)."""
    if not message or len(message) > 200:
        return None
    found = _MESSAGE.match(message)
    if found is None:
        return None
    position, size = int(found.group(2)), int(found.group(3))
    if not 1 <= position <= size <= MAX_FAMILY or size < 2:
        return None
    return FamilyTag(found.group(1), position, size)


def family_of_checks(checks: object) -> FamilyTag | None:
    """The tag of a record's checks as stored (dicts with ``name`` and ``message``)."""
    if not isinstance(checks, list):
        return None
    for check in checks:
        if isinstance(check, dict) and check.get("name") == FAMILY_CHECK:
            message = check.get("message")
            return parse_family(message if isinstance(message, str) else None)
    return None
