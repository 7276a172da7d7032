"""Request and answer bodies. Every request model forbids unknown fields, bounds every string,
list and number, refuses NUL characters (PostgreSQL cannot store them) and naive or absurd
times, so bad input is a 422 with a message naming the field, never a database error."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    model_validator,
)

from models.records import CheckStatus, Decision, ReasonCode, ReferralOutcome

MAX_BATCH_ITEMS = 1000
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _utc(value: datetime) -> datetime:
    try:
        moment = value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError("time out of range") from exc
    if moment < EARLIEST:
        raise ValueError("time before 2000-01-01")
    return moment


def _plain_date(value: date) -> date:
    if value.year < 1900:
        raise ValueError("date before 1900")
    return value


def _no_nul_anywhere(value: Any, depth: int = 0) -> Any:
    if depth > 8:
        raise ValueError("nested deeper than 8 levels")
    if isinstance(value, str):
        _no_nul(value)
    elif isinstance(value, dict):
        for key, inner in value.items():
            _no_nul(key)
            _no_nul_anywhere(inner, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            _no_nul_anywhere(inner, depth + 1)
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        raise ValueError("integer out of range")
    return value


Code2 = Annotated[str, StringConstraints(min_length=1, max_length=2), AfterValidator(_no_nul)]
Code3 = Annotated[str, StringConstraints(min_length=1, max_length=3), AfterValidator(_no_nul)]
Label64 = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_no_nul)]
Text500 = Annotated[str, StringConstraints(min_length=0, max_length=500), AfterValidator(_no_nul)]
Name120 = Annotated[str, StringConstraints(min_length=0, max_length=120), AfterValidator(_no_nul)]
Text64 = Annotated[str, StringConstraints(min_length=0, max_length=64), AfterValidator(_no_nul)]
Label32 = Annotated[str, StringConstraints(min_length=1, max_length=32), AfterValidator(_no_nul)]
Text32 = Annotated[str, StringConstraints(min_length=0, max_length=32), AfterValidator(_no_nul)]
Label16 = Annotated[str, StringConstraints(min_length=1, max_length=16), AfterValidator(_no_nul)]
Text2000 = Annotated[str, StringConstraints(min_length=0, max_length=2000), AfterValidator(_no_nul)]
Label128 = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(_no_nul)]
Text128 = Annotated[str, StringConstraints(min_length=0, max_length=128), AfterValidator(_no_nul)]
Secret256 = Annotated[str, StringConstraints(min_length=1, max_length=256), AfterValidator(_no_nul)]
NewPassword = Annotated[
    str, StringConstraints(min_length=12, max_length=256), AfterValidator(_no_nul)
]
Note2000 = Annotated[str, StringConstraints(min_length=1, max_length=2000), AfterValidator(_no_nul)]


Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
HexDigest = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
UtcTime = Annotated[AwareDatetime, AfterValidator(_utc)]
PlainDate = Annotated[date, AfterValidator(_plain_date)]
Milliseconds = Annotated[float, Field(ge=0, le=86_400_000, allow_inf_nan=False)]
Counter = Annotated[int, Field(ge=0, le=2**53)]
JsonDocument = Annotated[dict[str, JsonValue], AfterValidator(_no_nul_anywhere)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- from kiosks --------------------------------------------------------------------------


class DocumentIn(Strict):
    doc_type: Code2
    issuer: Code3
    nationality: Code3 | None = None
    expiry_date: PlainDate | None = None
    number_token: HexDigest | None = None
    chip_read: bool = False
    sex: Literal["M", "F", "X"] | None = None  # as read from the MRZ


class CheckIn(Strict):
    name: Label64
    status: CheckStatus
    reason: Label64 | None = None
    message: Text500 = ""


class ListedIn(Strict):
    """A screening-list entry the traveller matched (for the officer)."""

    list_name: Label64
    reference: Text128
    surname: Name120 = ""
    given_names: Name120 = ""
    birth_date: Annotated[str, StringConstraints(pattern=r"^(\d{4}(-\d{2}(-\d{2})?)?)?$")] = ""
    nationality: Annotated[str, StringConstraints(pattern=r"^[A-Z<]{0,3}$")] = ""
    score: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 1.0
    agreeing: list[Label32] = Field(default_factory=list, max_length=8)


DocumentNumber = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9<]{1,20}$")]


class ReferralSubjectIn(Strict):
    status: Literal["open"] = "open"
    surname: Name120 | None = None
    given_names: Name120 | None = None
    birth_date: PlainDate | None = None
    document_number: DocumentNumber | None = None
    listed: list[ListedIn] = Field(default_factory=list, max_length=10)


class DecisionIn(Strict):
    """One decided transaction as the kiosk's outbox carries it (payload version 1)."""

    v: Literal[1] = 1
    transaction_id: Identifier
    kiosk_id: Identifier
    site: Identifier | None = None  # the kiosk's configured site (the device record wins)
    started_at: UtcTime
    decided_at: UtcTime
    decision: Decision
    reasons: list[ReasonCode] = Field(default_factory=list, max_length=len(ReasonCode))
    policy: Text64 | None = None
    document: DocumentIn | None = None
    checks: list[CheckIn] = Field(default_factory=list, max_length=64)
    referral: ReferralSubjectIn | None = None
    timings_ms: dict[Label32, Milliseconds] = Field(default_factory=dict, max_length=32)

    @model_validator(mode="after")
    def _consistent(self) -> DecisionIn:
        if self.started_at > self.decided_at:
            raise ValueError("started_at is after decided_at")
        if (self.decision is Decision.ACCEPT) != (not self.reasons):
            raise ValueError("accept carries no reason; refer and reject carry at least one")
        return self


class DecisionBatch(Strict):
    items: list[DecisionIn] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)


class ReferralIn(Strict):
    """A referral sent on its own (a kiosk that reports referrals apart from decisions)."""

    transaction_id: Identifier
    kiosk_id: Identifier
    created_at: UtcTime
    reasons: list[ReasonCode] = Field(min_length=1, max_length=len(ReasonCode))
    surname: Name120 | None = None
    given_names: Name120 | None = None
    birth_date: PlainDate | None = None
    document_number: DocumentNumber | None = None
    listed: list[ListedIn] = Field(default_factory=list, max_length=10)


class ReferralBatch(Strict):
    items: list[ReferralIn] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)


class ItemOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"


class ItemResult(BaseModel):
    transaction_id: str
    outcome: ItemOutcome


class BatchResult(BaseModel):
    accepted: int
    duplicates: int
    items: list[ItemResult]


TrustStatus = Literal["ok", "no_csca", "no_crl", "crl_stale", "not_a_state"]
MAX_COVERAGE_STATES = 300  # more than every ICAO issuing state and organisation


class StateCoverageIn(Strict):
    """One state of the policy as ``kiosk trust coverage`` computes it on the kiosk."""

    code: Annotated[str, StringConstraints(pattern=r"^[A-Z<]{1,3}$")]
    cscas: Annotated[int, Field(ge=0, le=10_000)]
    crl_next_update: UtcTime | None = None
    status: TrustStatus


class TrustCoverageIn(Strict):
    states: list[StateCoverageIn] = Field(max_length=MAX_COVERAGE_STATES)


class HeartbeatIn(Strict):
    sent_at: UtcTime
    status: Literal["ok", "degraded", "fault", "maintenance"]
    backlog: Counter = 0
    software_version: Text32 | None = None
    devices: dict[Label32, Text64] = Field(default_factory=dict, max_length=32)
    trust: TrustCoverageIn | None = None  # None: the kiosk did not report (kept from before)


class CheckpointIn(Strict):
    kiosk_id: Identifier
    seq: Counter
    entry_hash: HexDigest
    prev_checkpoint_seq: Counter
    time: UtcTime
    key_id: Label16
    signature: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{2,256}$")]
    public_key_pem: Text2000 | None = None


class CheckpointBatch(Strict):
    items: list[CheckpointIn] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)


class RefusalIn(Strict):
    """A signed version this kiosk refused to apply (``list_name`` ``version``; ``key``: the
    section, file or entry concerned; ``reason`` as the kiosk logged it)."""

    refusal_id: Identifier
    kiosk_id: Identifier
    list_name: Literal["config", "trust", "watchlist", "lost_stolen", "manifest"]
    version: Counter
    key: Text128 = ""
    reason: Text500
    refused_at: UtcTime


class RefusalBatch(Strict):
    items: list[RefusalIn] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)


class StoredResult(BaseModel):
    accepted: int
    duplicates: int


class ResolutionOut(BaseModel):
    transaction_id: str
    outcome: ReferralOutcome
    note: str
    officer: str
    resolved_at: datetime


class ResolutionList(BaseModel):
    items: list[ResolutionOut]


class AckIn(Strict):
    transaction_ids: list[Identifier] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)


# --- lists --------------------------------------------------------------------------------


class ListName(StrEnum):
    LOST_STOLEN = "lost_stolen"
    WATCHLIST = "watchlist"
    MANIFEST = "manifest"
    TRUST = "trust"
    CONFIG = "config"


class ListChangeIn(Strict):
    op: Literal["upsert", "delete"]
    key: Label128
    data: JsonDocument | None = None

    @model_validator(mode="after")
    def _data_for_upsert(self) -> ListChangeIn:
        if self.op == "upsert" and self.data is None:
            raise ValueError("an upsert needs data")
        return self


class ListUpload(Strict):
    changes: list[ListChangeIn] = Field(min_length=1, max_length=10_000)


class ListChangeOut(BaseModel):
    version: int
    op: str
    key: str
    data: dict[str, Any] | None


class VersionSignatureOut(BaseModel):
    """The server's signature over one approved version of a signed list (config, trust):
    ``envelope`` says who proposed and who approved it (see models/change_envelope.py)."""

    version: int
    envelope: dict[str, Any]
    key_id: str
    signature: str


class ListDelta(BaseModel):
    name: ListName
    since: int
    version: int
    more: bool
    changes: list[ListChangeOut]
    signatures: list[VersionSignatureOut] = Field(default_factory=list)


class ListVersionOut(BaseModel):
    name: ListName
    version: int
    changes: int


# --- people -------------------------------------------------------------------------------


class LoginIn(Strict):
    username: Label64
    password: Secret256


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    role: str
    expires_at: datetime


class UserIn(Strict):
    name: Identifier
    role: Literal["officer", "supervisor", "technician", "administrator", "analyst", "gateway"]
    password: NewPassword


class UserOut(BaseModel):
    name: str
    role: str
    created_at: datetime
    disabled: bool


class ReferralOut(BaseModel):
    """One line of the queue. ``document_number`` is masked here (the last three characters);
    ``listed`` holds the screening entries matched; ``hit`` marks a watchlist or lost/stolen
    referral (sorted first)."""

    transaction_id: str
    kiosk_id: str
    status: str
    reasons: list[str]
    created_at: datetime
    surname: str | None
    given_names: str | None
    birth_date: date | None
    resolved_at: datetime | None
    officer: str | None
    outcome: str | None
    note: str | None
    site: str | None = None
    hit: bool = False
    document_number: str | None = None
    listed: list[dict[str, Any]] = Field(default_factory=list)
    claimed_by: str | None = None
    pending_outcome: str | None = None
    pending_by: str | None = None
    pending_at: datetime | None = None  # since when an admission awaits approval
    approved_by: str | None = None
    # a member of a family transaction (from its decision's ``family`` check): the booth
    # shows the family's referrals as one
    family_id: str | None = None
    family_position: int | None = None
    family_size: int | None = None


class ReferralList(BaseModel):
    items: list[ReferralOut]
    total: int = 0
    offset: int = 0


class CheckOut(BaseModel):
    name: str
    status: str
    reason: str | None = None
    message: str = ""


class ReferralDetailOut(ReferralOut):
    """One referral with what its kiosk reported of the decision: every check with its status
    and reason, the document summary, the policy, the full document number (this view is
    audited), and which photos the server holds (``GET .../photos``, audited too)."""

    decision: str | None
    policy: str | None
    checks: list[CheckOut]
    document: dict[str, Any] | None
    document_number_full: str | None = None
    photos: list[str] = Field(default_factory=list)
    photos_purged: bool = False


class ResolutionIn(Strict):
    outcome: ReferralOutcome
    note: Note2000


class StateCoverageOut(BaseModel):
    code: str
    cscas: int
    crl_next_update: datetime | None
    status: str
    # would a chipped passport of this state be referred now (``status`` not ``ok``), or its
    # CRL's next update falls within the fleet view's warning window (``crl_due``)
    refers: bool
    crl_due: bool


class DeviceOut(BaseModel):
    name: str
    enrolled_at: datetime
    revoked: bool
    last_heartbeat_at: datetime | None
    status: str | None
    backlog: int | None
    software_version: str | None
    devices: dict[str, Any]
    trust_reported_at: datetime | None = None
    trust_coverage: list[StateCoverageOut] = Field(default_factory=list)
    # the states whose chipped passports this kiosk refers now, and those whose CRL is due soon
    trust_refers: list[str] = Field(default_factory=list)
    trust_crl_due: list[str] = Field(default_factory=list)
    # signed versions the kiosk refused (kiosk/sync/signed_delta.py), and the latest one
    refused_changes: int = 0
    latest_refusal: str | None = None


class DeviceList(BaseModel):
    items: list[DeviceOut]


class AuditEventOut(BaseModel):
    time: datetime
    actor: str
    action: str
    subject: str | None
    details: dict[str, Any]


class AuditEventList(BaseModel):
    items: list[AuditEventOut]


# --- errors -------------------------------------------------------------------------------


class ErrorOut(BaseModel):
    """Every 4xx answer: ``detail`` is a message, or FastAPI's list of field errors."""

    detail: str | list[dict[str, Any]]


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "bad request",
        401: "no valid credentials",
        403: "credentials valid but not allowed here",
        404: "not found",
        409: "conflict with the current state",
        413: "request body too large",
        422: "invalid request: wrong types, unknown fields, clock skew",
        429: "too many failed attempts: wait Retry-After seconds",
        503: "database unavailable, retry later",
    }
    return {code: {"model": ErrorOut, "description": descriptions[code]} for code in codes}
