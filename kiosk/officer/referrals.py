"""The records and the interface of the officer booth's data access.

A :class:`ReferralSource` lets an officer log in, list the open referrals, look at one
(photos, checks, document data, screening hits) and resolve it with a required note. Every
look and every resolution is audited by the implementation. The records here hold personal
data for the officer's screen only: they are never logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from models.errors import KioskError
from models.records import ReferralOutcome

MAX_NOTE_CHARS = 2000
SCREENING_SOURCES: dict[str, str] = {
    "watchlist": "Watchlist",
    "lost_stolen": "Lost and stolen documents",
    "lost_or_stolen": "Lost and stolen documents",
    "manifest": "Advance passenger information",
    "vetting": "Pre-arrival vetting",
}
FACE_CHECKS = ("face_match", "face", "biometric_match")
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


class ReferralClosedError(OfficerError):
    code = "referral_closed"
    user_message = "This referral has already been resolved."


class NoteRequiredError(OfficerError):
    code = "referral_note_required"
    user_message = "A note is required."


class SessionExpiredError(OfficerError):
    code = "officer_session_expired"
    user_message = "Your session has expired. Sign out and sign in again."


class SourceUnavailableError(OfficerError):
    code = "referral_source_unavailable"
    user_message = "The referral service cannot be reached."


@dataclass(frozen=True)
class OfficerSession:
    officer_id: str
    token: str = field(default="", repr=False)
    role: str = "officer"


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
    images_note: str | None = None  # why there are no photos (e.g. they stay at the kiosk)


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


class ReferralSource(Protocol):
    """Where the booth's referrals come from. Calls block: run them off the GUI thread."""

    def login(self, username: str, password: str) -> OfficerSession: ...

    def open_referrals(self, session: OfficerSession) -> list[ReferralSummary]: ...

    def referral(self, session: OfficerSession, transaction_id: str) -> ReferralDetail: ...

    def resolve(
        self,
        session: OfficerSession,
        transaction_id: str,
        outcome: ReferralOutcome,
        note: str,
    ) -> None: ...

    def close(self) -> None: ...
