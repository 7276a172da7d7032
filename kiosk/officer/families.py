"""A family's referrals as one line of the booth's queue, one view and one decision.

The members of a family transaction each have their own referral (``<family>-m1``, ...), tied
together by their ``family`` check (:class:`models.family.FamilyTag`). The booth shows them as
one queue line (:func:`queue_lines`) named by a :class:`FamilyKey`; opening it claims every
member, and one decision resolves every member's referral, one resolution per member in
reading order, each audited by the source (:func:`resolve_family`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kiosk.officer.referrals import (
    OfficerError,
    OfficerSession,
    ReferralClaimedError,
    ReferralClosedError,
    ReferralKey,
    ReferralSource,
    ReferralSummary,
    Resolution,
)
from models.errors import KioskError
from models.records import ReferralOutcome


@dataclass(frozen=True)
class FamilyKey:
    """What names a family's line: its kiosk and family id. ``members`` are the referrals
    of the family the queue holds, in reading order (not part of the identity)."""

    kiosk_id: str
    family_id: str
    size: int = field(default=0, compare=False)
    members: tuple[ReferralKey, ...] = field(default=(), compare=False)


LineKey = ReferralKey | FamilyKey


@dataclass(frozen=True)
class QueueLine:
    """One line of the queue: a referral on its own, or the members of one family."""

    key: LineKey
    members: tuple[ReferralSummary, ...]

    @property
    def first(self) -> ReferralSummary:
        return self.members[0]

    @property
    def hit(self) -> bool:
        return any(m.hit for m in self.members)

    @property
    def reasons(self) -> tuple[str, ...]:
        """Every member's reasons once, in reading order."""
        return tuple(dict.fromkeys(r for m in self.members for r in m.reasons))

    @property
    def is_family(self) -> bool:
        return isinstance(self.key, FamilyKey)


def queue_lines(items: Sequence[ReferralSummary]) -> list[QueueLine]:
    """The queue's lines in the order of ``items`` (hits first, newest first): a family's
    members join the line of the first of them, ordered by their place in the family."""
    order: list[tuple[str, str] | ReferralKey] = []
    families: dict[tuple[str, str], list[ReferralSummary]] = {}
    singles: dict[ReferralKey, ReferralSummary] = {}
    for item in items:
        if item.family is None:
            order.append(item.key)
            singles[item.key] = item
            continue
        group = (item.kiosk_id, item.family.family_id)
        if group not in families:
            families[group] = []
            order.append(group)
        families[group].append(item)
    lines = []
    for entry in order:
        if isinstance(entry, ReferralKey):
            lines.append(QueueLine(entry, (singles[entry],)))
            continue
        members = sorted(families[entry], key=lambda m: m.family.position if m.family else 0)
        size = max(m.family.size if m.family else 0 for m in members)
        key = FamilyKey(entry[0], entry[1], size, tuple(m.key for m in members))
        lines.append(QueueLine(key, tuple(members)))
    return lines


def member_keys(key: LineKey) -> tuple[ReferralKey, ...]:
    return key.members if isinstance(key, FamilyKey) else (key,)


def covers(key: LineKey | None, referral: ReferralKey) -> bool:
    """Whether the line ``key`` holds ``referral``."""
    return key is not None and referral in member_keys(key)


@dataclass(frozen=True)
class FamilyResolution:
    """What one decision did to each member: their resolutions, the members another booth
    had already resolved, and the first error that stopped the rest."""

    resolutions: tuple[tuple[ReferralKey, Resolution], ...]
    already_closed: tuple[ReferralKey, ...] = ()
    error: OfficerError | None = None
    waiting: tuple[ReferralKey, ...] = ()  # left open while an admission awaits approval

    @property
    def needs_approval(self) -> tuple[ReferralKey, ...]:
        return tuple(k for k, r in self.resolutions if r.needs_approval)


def resolve_family(
    source: ReferralSource,
    session: OfficerSession,
    key: LineKey,
    outcome: ReferralOutcome,
    note: str,
) -> FamilyResolution:
    """Resolve every member with the same outcome and note, in the order of ``key.members``
    (blocking: run off the GUI thread). A member already resolved is skipped; another error
    stops the members after it (they stay open in the queue) and is returned, not raised.
    An admission that must wait for a second officer (four eyes) stops there too: the other
    members are not admitted before it is approved (put such members first)."""
    done: list[tuple[ReferralKey, Resolution]] = []
    closed: list[ReferralKey] = []
    members = member_keys(key)
    for index, member in enumerate(members):
        try:
            resolution = source.resolve(
                session, member.transaction_id, outcome, note, kiosk_id=member.kiosk_id
            )
        except ReferralClosedError:
            closed.append(member)
            continue
        except OfficerError as exc:
            return FamilyResolution(tuple(done), tuple(closed), exc)
        done.append((member, resolution))
        if resolution.needs_approval:
            return FamilyResolution(tuple(done), tuple(closed), waiting=members[index + 1 :])
    return FamilyResolution(tuple(done), tuple(closed))


def hits_first(key: LineKey, hits: set[ReferralKey]) -> LineKey:
    """The family's members with the hits (whose admission a second officer approves) first."""
    if not isinstance(key, FamilyKey):
        return key
    ordered = sorted(key.members, key=lambda m: m not in hits)
    return FamilyKey(key.kiosk_id, key.family_id, key.size, tuple(ordered))


def release_line(source: ReferralSource, session: OfficerSession, key: LineKey) -> None:
    """Give back every member of the line (blocking)."""
    for member in member_keys(key):
        source.release(session, member.transaction_id, kiosk_id=member.kiosk_id)


def claim_line(source: ReferralSource, session: OfficerSession, key: LineKey) -> str | None:
    """Take every member of the line (blocking); None when all are taken, or why not: a
    member held by another officer gives back the members taken before it."""
    taken: list[ReferralKey] = []
    for member in member_keys(key):
        try:
            source.claim(session, member.transaction_id, kiosk_id=member.kiosk_id)
        except ReferralClaimedError as exc:
            for done in taken:
                source.release(session, done.transaction_id, kiosk_id=done.kiosk_id)
            return str(exc)
        except KioskError:
            continue  # awaiting approval, say: the view shows why
        taken.append(member)
    return None
