"""The records and the interface of the officer booth's data access.

A :class:`ReferralSource` lets an officer log in, list the open referrals, look at one
(photos, checks, document data, screening hits) and resolve it with a required note. Every
look and every resolution is audited by the implementation. The records here hold personal
data for the officer's screen only: they are never logged.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from models.errors import KioskError
from models.family import FamilyTag
from models.records import ListedPerson, ReferralOutcome

MAX_NOTE_CHARS = 2000
SCREENING_SOURCES: dict[str, str] = {
    "watchlist": "Watchlist",
    "lost_stolen": "Lost and stolen documents",
    "lost_or_stolen": "Lost and stolen documents",
    "manifest": "Advance passenger information",
    "vetting": "Pre-arrival vetting",
}
FACE_CHECKS = ("face_match", "face", "biometric_match")
HIT_REASONS = frozenset({"watchlist_hit", "lost_or_stolen"})
PHOTO_REASONS = frozenset({"biometric_mismatch", "liveness_failed"})
FOUR_EYES_REASONS = HIT_REASONS
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)")


class OfficerError(KioskError):
    """The officer booth could not do what was asked."""

    code = "officer_error"
    user_message = "The request could not be completed."


class LoginFailedError(OfficerError):
    code = "officer_login_failed"
    user_message = "Unknown user name or wrong password."


class ReferralNotFoundError(OfficerError):
    code = "referral_not_found"
    user_message = "This referral no longer exists."


class ReferralAmbiguousError(OfficerError):
    """The transaction id alone names referrals of several kiosks (the server's 409)."""

    code = "referral_ambiguous"
    user_message = "Several gates used this transaction number: choose the referral in the queue."


class ReferralClosedError(OfficerError):
    code = "referral_closed"
    user_message = "This referral has already been resolved."


class NoteRequiredError(OfficerError):
    code = "referral_note_required"
    user_message = "A note is required."


class SessionExpiredError(OfficerError):
    code = "officer_session_expired"
    user_message = "Your session has expired. Sign out and sign in again."


class ReferralClaimedError(OfficerError):
    code = "referral_claimed"
    user_message = "Another officer has taken this referral."


class PhotosNotShownError(OfficerError):
    code = "referral_photos_not_shown"
    user_message = "Look at the photos before admitting this traveller."


class ApprovalRefusedError(OfficerError):
    code = "referral_approval_refused"
    user_message = "The admission needs a second officer's approval (not your own)."


class SourceUnavailableError(OfficerError):
    code = "referral_source_unavailable"
    user_message = "The referral service cannot be reached."


@dataclass(frozen=True)
class OfficerSession:
    officer_id: str
    token: str = field(default="", repr=False)
    role: str = "officer"


@dataclass(frozen=True)
class ReferralKey:
    """What names a referral: transaction ids are unique per kiosk, not per site."""

    kiosk_id: str
    transaction_id: str


@dataclass(frozen=True)
class ReferralSummary:
    """One line of the queue."""

    transaction_id: str
    kiosk_id: str
    created_at: datetime
    reasons: tuple[str, ...]
    surname: str | None = field(default=None, repr=False)
    given_names: str | None = field(default=None, repr=False)
    birth_date: date | None = field(default=None, repr=False)
    status: str = "open"
    hit: bool = False  # watchlist or lost/stolen: shown first, with an alarm
    document_number: str | None = field(default=None, repr=False)  # masked on the queue
    listed: tuple[ListedPerson, ...] = field(default=(), repr=False)
    claimed_by: str | None = None
    pending_by: str | None = None  # the officer whose admission awaits approval
    pending_at: datetime | None = None  # since when (it expires: approval_timeout_s)
    outcome: str | None = None
    officer: str | None = None
    approved_by: str | None = None
    resolved_at: datetime | None = None
    site: str | None = None
    family: FamilyTag | None = None  # a member of a family transaction (its family check)

    @property
    def key(self) -> ReferralKey:
        return ReferralKey(self.kiosk_id, self.transaction_id)

    @property
    def display_name(self) -> str:
        if not self.surname and not self.given_names:
            return "(name not available)"
        return f"{(self.surname or '').upper()}, {self.given_names or ''}".strip(", ")


@dataclass(frozen=True)
class CheckLine:
    name: str
    status: str
    reason: str | None = None
    message: str = ""


@dataclass(frozen=True)
class ScreeningHit:
    source: str
    status: str
    detail: str


@dataclass(frozen=True)
class ReferralDetail:
    """Everything the officer sees about one referral."""

    summary: ReferralSummary
    checks: tuple[CheckLine, ...] = ()
    document: dict[str, str] = field(default_factory=dict, repr=False)
    face_score: float | None = None
    face_threshold: float | None = None
    chip_portrait: bytes | None = field(default=None, repr=False)
    live_capture: bytes | None = field(default=None, repr=False)
    screening_hits: tuple[ScreeningHit, ...] = ()
    complete: bool = True  # False when the source has only the summary, without checks
    images_note: str | None = None  # why there are no photos (not received yet, purged)
    document_number: str | None = field(default=None, repr=False)  # in full (audited view)

    @property
    def needs_photos(self) -> bool:
        """A face referral: the officer may admit only after the photos were shown."""
        return bool(PHOTO_REASONS.intersection(self.summary.reasons))


@dataclass(frozen=True)
class Resolution:
    """What a resolution did: resolved, or an admission waiting for a second officer."""

    transaction_id: str
    status: str
    needs_approval: bool = False


@dataclass(frozen=True)
class ReferralPage:
    items: tuple[ReferralSummary, ...]
    total: int
    offset: int = 0


def screening_hits(checks: tuple[CheckLine, ...]) -> tuple[ScreeningHit, ...]:
    """The screening checks that failed (a hit), with the list they came from; a check not
    performed (no manifest loaded, say) is no hit: the checks table shows it."""
    hits = []
    for check in checks:
        source = SCREENING_SOURCES.get(check.name)
        if source is not None and check.status == "failed":
            hits.append(ScreeningHit(source, check.status, check.message or check.reason or ""))
    return tuple(hits)


def face_score(checks: tuple[CheckLine, ...]) -> float | None:
    """The face distance, from the face check's message ("distance 0.42 ...")."""
    for check in checks:
        if check.name in FACE_CHECKS:
            found = _NUMBER.search(check.message)
            if found:
                return float(found.group(1))
    return None


def clean_note(note: str) -> str:
    text = note.strip()
    if not text:
        raise NoteRequiredError("a resolution needs a note")
    if len(text) > MAX_NOTE_CHARS:
        raise OfficerError(f"a note has at most {MAX_NOTE_CHARS} characters")
    return text


def mask_number(number: str | None) -> str | None:
    """All but the last three characters hidden (the queue; the detail view shows it)."""
    if not number:
        return None
    return "•" * max(0, len(number) - 3) + number[-3:]


def sort_queue(items: list[ReferralSummary]) -> list[ReferralSummary]:
    """Hits first, then newest first."""
    return sorted(items, key=lambda r: (not r.hit, -r.created_at.timestamp()))


def listed_from_dicts(raw: Iterable[object] | None) -> list[ListedPerson]:
    """Listed persons as the kiosk stores them (``ListedPerson.as_dict``); bad entries skipped."""
    people = []
    for entry in raw or ():
        if not isinstance(entry, dict):
            continue
        try:
            people.append(
                ListedPerson(
                    list_name=str(entry.get("list_name", "")) or "?",
                    reference=str(entry.get("reference", "")),
                    surname=str(entry.get("surname", "")),
                    given_names=str(entry.get("given_names", "")),
                    birth_date=str(entry.get("birth_date", "")),
                    nationality=str(entry.get("nationality", "")),
                    score=float(entry.get("score", 0.0)),
                    agreeing=tuple(str(a) for a in entry.get("agreeing", ()) or ()),
                )
            )
        except (ValueError, TypeError, KioskError):
            continue
    return people


def shift_summary(
    rows: Sequence[tuple[Sequence[str], str | None, datetime, datetime | None]], waiting: int
) -> dict[str, object]:
    """The shift report of resolved referrals ``(reasons, outcome, created, resolved)``:
    counts by reason and outcome, the median minutes from referral to resolution."""
    by_reason: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    outcomes: dict[str, int] = defaultdict(int)
    minutes = []
    for reasons, outcome, created, resolved in rows:
        outcomes[outcome or "?"] += 1
        for reason in reasons or ["(none)"]:
            by_reason[reason][0] += 1
            by_reason[reason][1] += outcome == ReferralOutcome.ADMITTED.value
        if resolved is not None:
            minutes.append((resolved - created).total_seconds() / 60)
    return {
        "resolved": len(rows),
        "outcomes": dict(outcomes),
        "by_reason": [
            {"reason": reason, "resolved": counts[0], "admitted": counts[1]}
            for reason, counts in sorted(by_reason.items(), key=lambda kv: -kv[1][0])
        ],
        "median_minutes_to_resolve": round(statistics.median(minutes), 2) if minutes else None,
        "waiting": waiting,
    }


class ReferralSource(Protocol):
    """Where the booth's referrals come from. Calls block: run them off the GUI thread."""

    def login(self, username: str, password: str) -> OfficerSession: ...

    def open_referrals(self, session: OfficerSession) -> list[ReferralSummary]: ...

    def page(
        self,
        session: OfficerSession,
        *,
        status: str = "open",
        kiosk: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> ReferralPage: ...

    # a referral is named by (kiosk, transaction): two kiosks of a site may use one id
    def referral(
        self, session: OfficerSession, transaction_id: str, *, kiosk_id: str | None = None
    ) -> ReferralDetail: ...

    def claim(
        self, session: OfficerSession, transaction_id: str, *, kiosk_id: str | None = None
    ) -> None: ...

    def release(
        self, session: OfficerSession, transaction_id: str, *, kiosk_id: str | None = None
    ) -> None: ...

    def resolve(
        self,
        session: OfficerSession,
        transaction_id: str,
        outcome: ReferralOutcome,
        note: str,
        *,
        kiosk_id: str | None = None,
    ) -> Resolution: ...

    def approve(
        self,
        approver: OfficerSession,
        transaction_id: str,
        approve: bool,
        note: str,
        *,
        kiosk_id: str | None = None,
    ) -> Resolution: ...

    def shift_report(self, session: OfficerSession, hours: float = 8.0) -> dict[str, object]: ...

    def close(self) -> None: ...
