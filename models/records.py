"""Typed plain records that cross layers: decisions, reasons, check results, transactions.

Pure: no SQLAlchemy, no devices, no network (the import-linter contract "kiosk.icao is pure"
covers this module). The session engine builds these; :mod:`kiosk.storage.recorder` turns a
:class:`DecidedTransaction` into database rows.

Personal data: a :class:`DocumentSummary` carries no name and no document number, only a keyed
token of the number (for de-duplication) and what policy statistics need. Names and the birth
date travel only in a :class:`ReferralSubject`, which exists only when an officer must see the
traveller, and which the purge clears after the retention period.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from models.errors import StorageError

_TRANSACTION_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class InvalidRecordError(StorageError):
    """A record handed to storage breaks one of its rules."""

    code = "record_invalid"


class Decision(StrEnum):
    ACCEPT = "accept"
    REFER = "refer"
    REJECT = "reject"


class ReasonCode(StrEnum):
    """Why a traveller was not accepted, after the Frontex ABC exception categories."""

    DOCUMENT_UNREADABLE = "document_unreadable"
    CHIP_ANOMALY = "chip_anomaly"
    AUTHENTICATION_FAILED = "authentication_failed"
    CLONE_SUSPECTED = "clone_suspected"
    BIOMETRIC_MISMATCH = "biometric_mismatch"
    LIVENESS_FAILED = "liveness_failed"
    WATCHLIST_HIT = "watchlist_hit"
    LOST_OR_STOLEN = "lost_or_stolen"
    NOT_ON_MANIFEST = "not_on_manifest"
    MINOR = "minor"
    EXPIRED_DOCUMENT = "expired_document"
    NOT_ELIGIBLE = "not_eligible"
    SYSTEM_MALFUNCTION = "system_malfunction"
    # After an accept, the passage through the gate did not end as a passage:
    TAILGATING = "tailgating"  # a second person was in the gate
    PASSAGE_TIMEOUT = "passage_timeout"  # the traveller did not enter or leave in time
    VETTING_REFERRAL = "vetting_referral"  # pre-arrival vetting referred the traveller
    NOT_VETTED = "not_vetted"  # the state's policy wants a vetting the traveller lacks
    # A family transaction: this member passed, another member was referred (the officer
    # sees the whole family)
    FAMILY_REFERRAL = "family_referral"


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_SUPPORTED = "not_supported"
    NOT_PERFORMED = "not_performed"


class ReferralStatus(StrEnum):
    OPEN = "open"
    PENDING_APPROVAL = "pending_approval"  # an admission waiting for a second officer
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


class ReferralOutcome(StrEnum):
    """What the officer decided at the manual booth."""

    ADMITTED = "admitted"
    REFUSED = "refused"
    SECONDARY_INSPECTION = "secondary_inspection"


class BlobKind(StrEnum):
    """Biometric data kept (encrypted) for the retention period."""

    FACE_IMAGE = "face_image"
    FACE_TEMPLATE = "face_template"
    CHIP_PORTRAIT = "chip_portrait"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check of a transaction; ``reason`` is a stable machine code, ``message`` for humans."""

    name: str
    status: CheckStatus
    reason: str | None = None
    message: str = ""

    def __post_init__(self) -> None:
        if not 0 < len(self.name) <= 64:
            raise InvalidRecordError("check name must be 1..64 characters")
        if self.reason is not None and not 0 < len(self.reason) <= 64:
            raise InvalidRecordError("check reason must be 1..64 characters")
        if len(self.message) > 500:
            raise InvalidRecordError("check message longer than 500 characters")


MRZ_SEXES = ("M", "F", "X")


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """What is kept about the document: no raw MRZ, no name, no plain document number."""

    doc_type: str
    issuer: str
    nationality: str | None = None
    expiry_date: date | None = None
    number_token: str | None = None
    chip_read: bool = False
    # the MRZ's sex field (M, F or X; None when unspecified), kept for the equity statistics
    sex: str | None = None

    def __post_init__(self) -> None:
        if not 0 < len(self.doc_type) <= 2 or not 0 < len(self.issuer) <= 3:
            raise InvalidRecordError("document type or issuer code has a bad length")
        if self.sex is not None and self.sex not in MRZ_SEXES:
            raise InvalidRecordError("sex must be M, F or X")
        if self.nationality is not None and not 0 < len(self.nationality) <= 3:
            raise InvalidRecordError("nationality code has a bad length")
        if self.number_token is not None and len(self.number_token) != 64:
            raise InvalidRecordError("document number token must be 64 hex characters")


@dataclass(frozen=True, slots=True)
class ListedPerson:
    """An entry of a screening list that the traveller matched: what the officer compares.

    ``birth_date`` is the list's text (a list may hold a partial date such as ``1987-03``);
    ``agreeing`` names the fields that agreed (``name``, ``birth_date``, ``nationality``,
    ``document_number``)."""

    list_name: str
    reference: str
    surname: str = ""
    given_names: str = ""
    birth_date: str = ""
    nationality: str = ""
    score: float = 1.0
    agreeing: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 < len(self.list_name) <= 64 or len(self.reference) > 128:
            raise InvalidRecordError("listed person needs a list name and a short reference")
        if len(self.surname) > 120 or len(self.given_names) > 120 or len(self.birth_date) > 10:
            raise InvalidRecordError("listed person's name or birth date too long")
        if not 0.0 <= self.score <= 1.0:
            raise InvalidRecordError("listed person's score must be within 0..1")

    def as_dict(self) -> dict[str, object]:
        return {
            "list_name": self.list_name,
            "reference": self.reference,
            "surname": self.surname,
            "given_names": self.given_names,
            "birth_date": self.birth_date,
            "nationality": self.nationality,
            "score": round(self.score, 4),
            "agreeing": list(self.agreeing),
        }


@dataclass(frozen=True, slots=True)
class ReferralSubject:
    """Who the officer is looking for; kept only on the referral, cleared by the purge.

    ``document_number`` is shown to the officer masked, in full only on the audited detail
    view; ``listed`` are the screening-list entries the traveller matched."""

    surname: str
    given_names: str
    birth_date: date | None = None
    document_number: str | None = None
    listed: tuple[ListedPerson, ...] = ()

    def __post_init__(self) -> None:
        if len(self.surname) > 120 or len(self.given_names) > 120:
            raise InvalidRecordError("referral name longer than 120 characters")
        if self.document_number is not None and not 0 < len(self.document_number) <= 20:
            raise InvalidRecordError("document number must be 1..20 characters")
        if len(self.listed) > 10:
            raise InvalidRecordError("at most 10 listed persons on a referral")


@dataclass(frozen=True, slots=True)
class BiometricSample:
    """A face image or template to be stored encrypted with its transaction."""

    kind: BlobKind
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class DecidedTransaction:
    """Everything the session engine hands to storage when a transaction has been decided.

    Accept carries no reason; refer and reject carry at least one. Every non-accept decision
    opens a referral (the traveller goes to the manual booth).
    """

    transaction_id: str
    kiosk_id: str
    started_at: datetime
    decided_at: datetime
    decision: Decision
    reasons: tuple[ReasonCode, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    document: DocumentSummary | None = None
    referral_subject: ReferralSubject | None = None
    samples: tuple[BiometricSample, ...] = ()
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    policy: str | None = None

    def __post_init__(self) -> None:
        if not _TRANSACTION_ID.match(self.transaction_id):
            raise InvalidRecordError("transaction id must be 1..64 of [A-Za-z0-9._-]")
        for moment in (self.started_at, self.decided_at):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise InvalidRecordError("transaction times must be timezone-aware")
        if self.decision is Decision.ACCEPT and self.reasons:
            raise InvalidRecordError("an accept decision carries no reason")
        if self.decision is not Decision.ACCEPT and not self.reasons:
            raise InvalidRecordError("a refer or reject decision needs at least one reason")
        if len(set(self.reasons)) != len(self.reasons):
            raise InvalidRecordError("reason codes repeat")
        names = [check.name for check in self.checks]
        if len(set(names)) != len(names):
            raise InvalidRecordError("check names repeat")

    @property
    def needs_referral(self) -> bool:
        return self.decision is not Decision.ACCEPT
