"""Tables only the central server holds: enrolled devices and their certificates, users,
decisions and referrals received from kiosks, list versions and their changes, heartbeats,
audit checkpoints received and the server's own audit of officer actions.

They have their OWN metadata (:data:`ServerBase.metadata`) and a ``server_`` prefix, so the
kiosk schema and the server schema can share one PostgreSQL database or live apart; the
server's Alembic history (``server/migrations``) keeps its revision in
``server_alembic_version``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from models.base import NAMING_CONVENTION, JSONDocument, UTCDateTime, utc_now


class ServerBase(DeclarativeBase):
    """Base of the server's tables (separate metadata from the kiosk's)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONDocument,
        list[str]: JSONDocument,
        list[dict[str, Any]]: JSONDocument,
        list[Any]: JSONDocument,
    }


class DeviceRow(ServerBase):
    """An enrolled kiosk (or booth device); ``name`` is its certificate's common name."""

    __tablename__ = "server_devices"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str | None] = mapped_column(String(64))
    enrolled_at: Mapped[datetime] = mapped_column(default=utc_now)
    revoked_at: Mapped[datetime | None]


class DeviceCertificateRow(ServerBase):
    """Every certificate issued to a device; a revoked one is refused on every request."""

    __tablename__ = "server_device_certificates"

    serial: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex
    device_name: Mapped[str] = mapped_column(
        String(64), ForeignKey("server_devices.name", ondelete="CASCADE"), index=True
    )
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utc_now)
    not_after: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class UserRow(ServerBase):
    """A person: officer, supervisor, technician or administrator (argon2 password hash)."""

    __tablename__ = "server_users"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    disabled_at: Mapped[datetime | None]
    site: Mapped[str | None] = mapped_column(String(64))  # None: every site (regional)
    # tokens issued before this moment are refused (password reset, disable)
    tokens_valid_after: Mapped[datetime | None]


class ReceivedDecisionRow(ServerBase):
    """A decision as a kiosk reported it; (kiosk, transaction id) makes a resend a no-op, and
    one kiosk cannot pre-empt another's transaction id."""

    __tablename__ = "server_decisions"
    __table_args__ = (
        Index("ix_server_decisions_kiosk_decided", "kiosk_id", "decided_at"),
        Index("ix_server_decisions_month_site", "month", "site"),
    )

    kiosk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    decision: Mapped[str] = mapped_column(String(8))
    reasons: Mapped[list[str]]
    started_at: Mapped[datetime]
    decided_at: Mapped[datetime]
    policy: Mapped[str | None] = mapped_column(String(64))
    document: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    checks: Mapped[list[dict[str, Any]]]
    timings_ms: Mapped[dict[str, Any]]
    received_at: Mapped[datetime] = mapped_column(default=utc_now)
    # for the equity statistics (kept apart so they aggregate in SQL): the site, the month of
    # the decision (YYYY-MM, UTC), nationality and sex as read from the MRZ, and whether the
    # face did not match the chip photo; no other personal data
    site: Mapped[str | None] = mapped_column(String(64))
    month: Mapped[str | None] = mapped_column(String(7))
    nationality: Mapped[str | None] = mapped_column(String(3))
    sex: Mapped[str | None] = mapped_column(String(1))
    face_mismatch: Mapped[bool | None]


class ReferralQueueRow(ServerBase):
    """A traveller referred to the officer booth, and the officer's resolution.

    A resolution stays pending for its kiosk until the kiosk acknowledges it
    (``delivered_at``), so none is lost whatever order concurrent officers commit in."""

    __tablename__ = "server_referrals"
    __table_args__ = (
        Index("ix_server_referrals_status_created", "status", "created_at"),
        Index("ix_server_referrals_kiosk_delivery", "kiosk_id", "status", "delivered_at"),
        Index("ix_server_referrals_queue", "status", "priority", "created_at"),
    )

    kiosk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]]
    created_at: Mapped[datetime]
    surname: Mapped[str | None] = mapped_column(String(120))
    given_names: Mapped[str | None] = mapped_column(String(120))
    birth_date: Mapped[date | None]
    received_at: Mapped[datetime] = mapped_column(default=utc_now)
    resolved_at: Mapped[datetime | None]
    officer: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    # the officer control room (s0004)
    site: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(default=1)  # 0: a hit (watchlist, lost/stolen)
    document_number: Mapped[str | None] = mapped_column(String(20))
    listed: Mapped[list[Any] | None] = mapped_column(JSONDocument)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    pending_outcome: Mapped[str | None] = mapped_column(String(32))
    pending_note: Mapped[str | None] = mapped_column(Text)
    pending_by: Mapped[str | None] = mapped_column(String(64))
    pending_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(64))
    photos_purged_at: Mapped[datetime | None]


class ListVersionServerRow(ServerBase):
    """The newest version of one distributed list (lost_stolen, watchlist, ...)."""

    __tablename__ = "server_list_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)


class ListChangeRow(ServerBase):
    """One change of a list at a version: ``op`` upsert|delete of the entry called ``key``."""

    __tablename__ = "server_list_changes"
    __table_args__ = (Index("ix_server_list_changes_list_version", "list_name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    list_name: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(BigInteger)
    op: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(128))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class HeartbeatRow(ServerBase):
    """The last heartbeat of each device, for the technicians."""

    __tablename__ = "server_heartbeats"

    device_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime]
    sent_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    backlog: Mapped[int]
    software_version: Mapped[str | None] = mapped_column(String(32))
    devices: Mapped[dict[str, Any]]
    # the trust coverage the kiosk last reported ({"states": [{code, cscas, crl_next_update,
    # status}]}), kept when a later heartbeat carries none
    trust_coverage: Mapped[dict[str, Any] | None]
    trust_reported_at: Mapped[datetime | None]


class ReceivedCheckpointRow(ServerBase):
    """A signed audit checkpoint as a kiosk sent it (kept to check the kiosk's chain later)."""

    __tablename__ = "server_audit_checkpoints"
    __table_args__ = (UniqueConstraint("kiosk_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))
    prev_checkpoint_seq: Mapped[int] = mapped_column(BigInteger)
    time: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(256))
    public_key_pem: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utc_now)


class ServerAuditEventRow(ServerBase):
    """What people did on the server (resolutions, uploads, enrolments, revocations)."""

    __tablename__ = "server_audit_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(default=utc_now)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]]


class DeviceAuditKeyRow(ServerBase):
    """The public key a kiosk signs its audit checkpoints with: given at enrolment, or taken
    from its first checkpoint over mutual TLS (trust on first use). A change is refused."""

    __tablename__ = "server_device_audit_keys"

    device_name: Mapped[str] = mapped_column(
        String(64), ForeignKey("server_devices.name", ondelete="CASCADE"), primary_key=True
    )
    key_id: Mapped[str] = mapped_column(String(16))
    public_key_pem: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))  # enrolment | first_use
    registered_at: Mapped[datetime] = mapped_column(default=utc_now)


class AuditAnomalyRow(ServerBase):
    """A checkpoint the server refused (bad signature, unknown key, rewritten history), kept
    for the supervisors; one row per kiosk, sequence number and kind."""

    __tablename__ = "server_audit_anomalies"
    __table_args__ = (UniqueConstraint("kiosk_id", "seq", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(300))
    key_id: Mapped[str | None] = mapped_column(String(16))
    detected_at: Mapped[datetime] = mapped_column(default=utc_now)


class ReferralPhotoRow(ServerBase):
    """A referral's chip photo or best live frame, sealed with the server's photo key
    (AES-256-GCM, the kiosk id, transaction id and kind as associated data); deleted once the
    referral is resolved and the retention has passed."""

    __tablename__ = "server_referral_photos"

    kiosk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # chip_portrait | live_frame
    key_id: Mapped[str] = mapped_column(String(16))
    nonce: Mapped[bytes] = mapped_column(LargeBinary(12))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(default=utc_now)


class LaneStateRow(ServerBase):
    """What each lane reported last (its tile on the officer's wall)."""

    __tablename__ = "server_lane_states"

    device_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str | None] = mapped_column(String(64), index=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    step: Mapped[str] = mapped_column(String(16))
    step_since: Mapped[datetime]
    in_service: Mapped[bool]
    causes: Mapped[list[str]]
    door: Mapped[str] = mapped_column(String(16))
    assistance: Mapped[bool]
    event_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utc_now)


class LaneCommandRow(ServerBase):
    """A remote action from the booth for one lane, until the kiosk acknowledges it."""

    __tablename__ = "server_lane_commands"
    __table_args__ = (Index("ix_server_lane_commands_device_acked", "device_name", "acked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    device_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(default=utc_now)
    acked_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(String(64))


class LoginThrottleRow(ServerBase):
    """Failed logins of one user name from one client address, counted before the password
    is verified; shared by every server process through the database."""

    __tablename__ = "server_login_throttle"

    user_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int]
    last_failure_at: Mapped[datetime]


class LoginAddressRow(ServerBase):
    """Failed logins from one client address, whatever the user names, counted before any
    password is verified (the times within the sliding window), and the address's block;
    shared by every server process through the database."""

    __tablename__ = "server_login_addresses"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    # POSIX times of the attempts counted in the window (at most the budget's length)
    attempts: Mapped[list[Any]]
    blocked_until: Mapped[datetime | None]
    blocks: Mapped[int]  # blocks in a row: each one doubles the next


class ChangeRequestRow(ServerBase):
    """A configuration or trust-list change proposed by one administrator; it reaches the
    kiosks only once a second administrator approved it (then ``version`` is set)."""

    __tablename__ = "server_change_requests"
    __table_args__ = (Index("ix_server_change_requests_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    list_name: Mapped[str] = mapped_column(String(32))
    changes: Mapped[list[dict[str, Any]]]
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    version: Mapped[int | None] = mapped_column(BigInteger)


class ListSignatureRow(ServerBase):
    """The signature over one approved version of a signed list (config, trust): kiosks
    verify it with the public key they pin before applying anything of that version."""

    __tablename__ = "server_list_signatures"

    list_name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    envelope: Mapped[dict[str, Any]]
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(256))


class KioskRefusalRow(ServerBase):
    """A signed version (configuration, trust) a kiosk refused to apply, as it reported it:
    a signature that failed, another key, self-approval, or a value beyond its local bounds.
    (kiosk, refusal id) makes a resent report a no-op."""

    __tablename__ = "server_kiosk_refusals"
    __table_args__ = (Index("ix_server_kiosk_refusals_received", "received_at"),)

    kiosk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    refusal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    list_name: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(500))
    refused_at: Mapped[datetime]
    received_at: Mapped[datetime]


class AlertRow(ServerBase):
    """Something the supervisors must see: configuration and trust changes proposed, approved
    or refused, and attacks the server noticed."""

    __tablename__ = "server_alerts"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(48))
    subject: Mapped[str | None] = mapped_column(String(128))
    actor: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
