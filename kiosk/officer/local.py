"""Referrals from the kiosk's own database: the booth of a standalone kiosk.

Every login, every look at a referral and every resolution is written to the audit log in
the same database transaction as what it records; a resolution also goes to the outbox, so
the central server learns it when the kiosk syncs. The officer's note is stored on the
referral; the audit entry records only its length (a note may name the traveller).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kiosk.audit.log import AuditLog
from kiosk.officer.accounts import OfficerAccounts
from kiosk.officer.referrals import (
    FOUR_EYES_REASONS,
    HIT_REASONS,
    ApprovalRefusedError,
    CheckLine,
    LoginFailedError,
    OfficerSession,
    ReferralClosedError,
    ReferralDetail,
    ReferralNotFoundError,
    ReferralPage,
    ReferralSummary,
    Resolution,
    SourceUnavailableError,
    clean_note,
    face_score,
    listed_from_dicts,
    mask_number,
    screening_hits,
    shift_summary,
    sort_queue,
)
from kiosk.storage import outbox
from kiosk.storage.crypto_store import BlobCipher, load_blob
from kiosk.storage.database import Database
from models.base import utc_now
from models.errors import StorageError
from models.family import FAMILY_CHECK, FamilyTag, parse_family
from models.records import BlobKind, ReferralOutcome, ReferralStatus
from models.tables import (
    BiometricBlobRow,
    CheckResultRow,
    DocumentSummaryRow,
    ReferralRow,
    TransactionRow,
)

log = logging.getLogger(__name__)

RESOLUTION_MESSAGE = "referral_resolution"


class LocalReferralSource:
    def __init__(
        self,
        database: Database,
        accounts: OfficerAccounts,
        *,
        cipher: BlobCipher | None = None,
        audit: AuditLog | None = None,
        face_threshold: float | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.database = database
        self.accounts = accounts
        self.cipher = cipher
        self.audit = audit
        self.face_threshold = face_threshold
        self._clock = clock

    def _audit(
        self,
        session: Session,
        actor: str,
        action: str,
        subjects: list[str],
        details: dict[str, object],
    ) -> None:
        if self.audit is not None:
            self.audit.append(
                session, actor=actor, action=action, subject_ids=subjects, details=details
            )

    def login(self, username: str, password: str) -> OfficerSession:
        try:
            officer = self.accounts.verify(username, password)
        except LoginFailedError:
            self._write(lambda s: self._audit(s, "booth", "officer.login_failed", [], {}))
            log.info("officer login refused")
            raise
        self._write(
            lambda s: self._audit(s, f"officer:{officer.officer_id}", "officer.login", [], {})
        )
        log.info("officer logged in")
        return officer

    def open_referrals(self, session: OfficerSession) -> list[ReferralSummary]:
        return list(self.page(session, limit=500).items)

    def page(
        self,
        session: OfficerSession,
        *,
        status: str = "open",
        kiosk: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> ReferralPage:
        """Waiting referrals hits first and newest first, or the history (``resolved``);
        the read is audited with the ids it returned."""
        waiting = (ReferralStatus.OPEN.value, ReferralStatus.PENDING_APPROVAL.value)
        try:
            with self.database.write() as db:
                query = select(ReferralRow, TransactionRow.kiosk_id).join(
                    TransactionRow, TransactionRow.id == ReferralRow.transaction_id
                )
                if status == "open":
                    query = query.where(ReferralRow.status.in_(waiting))
                else:
                    query = query.where(ReferralRow.status == status)
                if kiosk:
                    query = query.where(TransactionRow.kiosk_id == kiosk)
                rows = db.execute(query).all()
                tags = _families(db, [row.transaction_id for row, _kiosk in rows])
                items = [
                    replace(_summary(row, kiosk_id), family=tags.get(row.transaction_id))
                    for row, kiosk_id in rows
                ]
                if status == "open":
                    items = sort_queue(items)
                else:
                    items.sort(key=lambda r: r.resolved_at or r.created_at, reverse=True)
                chosen = items[offset : offset + limit]
                self._audit(
                    db,
                    f"officer:{session.officer_id}",
                    "referral.list",
                    [r.transaction_id for r in chosen],
                    {"status": status, "count": len(chosen)},
                )
        except SQLAlchemyError as exc:
            raise SourceUnavailableError("referrals cannot be read") from exc
        return ReferralPage(tuple(chosen), len(items), offset)

    def claim(
        self, session: OfficerSession, transaction_id: str, *, kiosk_id: str | None = None
    ) -> None:
        """A standalone kiosk has one booth: nobody else can take the referral."""

    def release(
        self, session: OfficerSession, transaction_id: str, *, kiosk_id: str | None = None
    ) -> None:
        """Nothing to release (see :meth:`claim`)."""

    @staticmethod
    def _of_kiosk(db: Session, transaction_id: str, kiosk_id: str | None) -> None:
        """A referral named with another kiosk than the one that made it does not exist."""
        if kiosk_id is None:
            return
        made_by = db.scalar(
            select(TransactionRow.kiosk_id).where(TransactionRow.id == transaction_id)
        )
        if made_by != kiosk_id:
            raise ReferralNotFoundError(f"no referral {transaction_id} of that kiosk")

    def referral(
        self, session: OfficerSession, transaction_id: str, *, kiosk_id: str | None = None
    ) -> ReferralDetail:
        try:
            with self.database.write() as db:
                query = (
                    select(ReferralRow, TransactionRow.kiosk_id)
                    .join(TransactionRow, TransactionRow.id == ReferralRow.transaction_id)
                    .where(ReferralRow.transaction_id == transaction_id)
                )
                if kiosk_id is not None:
                    query = query.where(TransactionRow.kiosk_id == kiosk_id)
                found = db.execute(query).first()
                if found is None:
                    raise ReferralNotFoundError(f"no referral {transaction_id}")
                summary = _summary(found[0], found[1])
                checks = tuple(
                    CheckLine(c.name, c.status, c.reason, c.message)
                    for c in db.scalars(
                        select(CheckResultRow)
                        .where(CheckResultRow.transaction_id == transaction_id)
                        .order_by(CheckResultRow.position)
                    )
                )
                family = next(
                    (parse_family(c.message) for c in checks if c.name == FAMILY_CHECK), None
                )
                summary = replace(summary, family=family)
                document = _document(db.get(DocumentSummaryRow, transaction_id), summary)
                portrait, capture = self._photos(db, transaction_id)
                self._audit(
                    db, f"officer:{session.officer_id}", "referral.viewed", [transaction_id], {}
                )
        except SQLAlchemyError as exc:
            raise SourceUnavailableError("the referral cannot be read") from exc
        return ReferralDetail(
            summary=summary,
            checks=checks,
            document=document,
            face_score=face_score(checks),
            face_threshold=self.face_threshold,
            chip_portrait=portrait,
            live_capture=capture,
            screening_hits=screening_hits(checks),
            images_note=None if portrait or capture else "No photos kept for this referral.",
            document_number=found[0].document_number,
        )

    def _photos(self, db: Session, transaction_id: str) -> tuple[bytes | None, bytes | None]:
        if self.cipher is None:
            return None, None
        found: dict[str, bytes] = {}
        for row in db.scalars(
            select(BiometricBlobRow).where(BiometricBlobRow.transaction_id == transaction_id)
        ):
            try:
                found[row.kind] = load_blob(self.cipher, row)
            except StorageError:
                log.warning("a stored image of %s does not decrypt", transaction_id)
        return found.get(BlobKind.CHIP_PORTRAIT.value), found.get(BlobKind.FACE_IMAGE.value)

    def resolve(
        self,
        session: OfficerSession,
        transaction_id: str,
        outcome: ReferralOutcome,
        note: str,
        *,
        kiosk_id: str | None = None,
    ) -> Resolution:
        """One decision per referral: a conditional update on ``status = 'open'``. Admitting
        a hit only records the request until a second officer approves (:meth:`approve`)."""
        text = clean_note(note)
        now = self._clock()
        try:
            with self.database.read() as db:
                self._of_kiosk(db, transaction_id, kiosk_id)
                row = db.get(ReferralRow, transaction_id)
                if row is None:
                    raise ReferralNotFoundError(f"no referral {transaction_id}")
                four_eyes = outcome is ReferralOutcome.ADMITTED and bool(
                    FOUR_EYES_REASONS.intersection(row.reasons or ())
                )
            status = ReferralStatus.PENDING_APPROVAL if four_eyes else ReferralStatus.RESOLVED
            with self.database.write() as db:
                changed = db.execute(
                    update(ReferralRow)
                    .where(
                        ReferralRow.transaction_id == transaction_id,
                        ReferralRow.status == ReferralStatus.OPEN.value,
                    )
                    .values(
                        status=status.value,
                        resolved_at=now,
                        officer_id=session.officer_id,
                        outcome=outcome.value,
                        note=text,
                    )
                )
                if int(getattr(changed, "rowcount", 0) or 0) != 1:
                    raise ReferralClosedError(f"referral {transaction_id} is not open")
                if not four_eyes:
                    self._send_resolution(db, transaction_id, outcome, session.officer_id, text)
                self._audit(
                    db,
                    f"officer:{session.officer_id}",
                    "referral.admission_requested" if four_eyes else "referral.resolved",
                    [transaction_id],
                    {"outcome": outcome.value, "note_chars": len(text)},
                )
        except SQLAlchemyError as exc:
            raise SourceUnavailableError("the resolution could not be stored") from exc
        log.info("referral %s resolved: %s", transaction_id, outcome.value)
        return Resolution(transaction_id, status.value, four_eyes)

    def approve(
        self,
        approver: OfficerSession,
        transaction_id: str,
        approve: bool,
        note: str,
        *,
        kiosk_id: str | None = None,
    ) -> Resolution:
        """A second officer (signed in with their own account) approves or declines."""
        text = clean_note(note)
        now = self._clock()
        pending = ReferralStatus.PENDING_APPROVAL.value
        try:
            with self.database.write() as db:
                self._of_kiosk(db, transaction_id, kiosk_id)
                row = db.get(ReferralRow, transaction_id)
                if row is None:
                    raise ReferralNotFoundError(f"no referral {transaction_id}")
                if row.status != pending:
                    raise ReferralClosedError(f"referral {transaction_id} awaits no approval")
                if row.officer_id == approver.officer_id:
                    raise ApprovalRefusedError("the same officer cannot approve")
                values: dict[str, object] = (
                    {"status": ReferralStatus.RESOLVED.value, "resolved_at": now}
                    if approve
                    else {
                        "status": ReferralStatus.OPEN.value,
                        "resolved_at": None,
                        "officer_id": None,
                        "outcome": None,
                        "note": None,
                    }
                )
                db.execute(
                    update(ReferralRow)
                    .where(ReferralRow.transaction_id == transaction_id)
                    .where(ReferralRow.status == pending)
                    .values(**values)
                )
                if approve:
                    outcome = ReferralOutcome(row.outcome or ReferralOutcome.ADMITTED.value)
                    self._send_resolution(
                        db, transaction_id, outcome, row.officer_id or "", row.note or ""
                    )
                self._audit(
                    db,
                    f"officer:{approver.officer_id}",
                    "referral.admission_approved" if approve else "referral.admission_declined",
                    [transaction_id],
                    {"note_chars": len(text)},
                )
        except SQLAlchemyError as exc:
            raise SourceUnavailableError("the approval could not be stored") from exc
        status = ReferralStatus.RESOLVED if approve else ReferralStatus.OPEN
        return Resolution(transaction_id, status.value)

    def _send_resolution(
        self,
        db: Session,
        transaction_id: str,
        outcome: ReferralOutcome,
        officer: str,
        note: str,
    ) -> None:
        outbox.enqueue(
            db,
            RESOLUTION_MESSAGE,
            {
                "transaction_id": transaction_id,
                "outcome": outcome.value,
                "officer": officer,
                "resolved_at": self._clock().isoformat(),
                "note": note,
            },
            subject_id=transaction_id,
        )

    def shift_report(self, session: OfficerSession, hours: float = 8.0) -> dict[str, object]:
        since = self._clock() - timedelta(hours=hours)
        try:
            with self.database.read() as db:
                rows = db.scalars(
                    select(ReferralRow).where(
                        ReferralRow.status == ReferralStatus.RESOLVED.value,
                        ReferralRow.resolved_at >= since,
                    )
                ).all()
                waiting = len(
                    db.scalars(
                        select(ReferralRow.transaction_id).where(
                            ReferralRow.status != ReferralStatus.RESOLVED.value
                        )
                    ).all()
                )
        except SQLAlchemyError as exc:
            raise SourceUnavailableError("referrals cannot be read") from exc
        return shift_summary(
            [(r.reasons or [], r.outcome, r.created_at, r.resolved_at) for r in rows], waiting
        )

    def _write(self, work: Callable[[Session], None]) -> None:
        try:
            with self.database.write() as db:
                work(db)
        except SQLAlchemyError as exc:
            raise SourceUnavailableError("the audit log cannot be written") from exc

    def close(self) -> None:
        """The database belongs to the caller; nothing to release here."""


def _summary(row: ReferralRow, kiosk_id: str) -> ReferralSummary:
    return ReferralSummary(
        transaction_id=row.transaction_id,
        kiosk_id=kiosk_id,
        created_at=row.created_at,
        reasons=tuple(row.reasons or ()),
        surname=row.surname,
        given_names=row.given_names,
        birth_date=row.birth_date,
        status=row.status,
        hit=bool(HIT_REASONS.intersection(row.reasons or ())),
        document_number=mask_number(row.document_number),
        listed=tuple(listed_from_dicts(row.listed)),
        pending_by=row.officer_id if row.status == ReferralStatus.PENDING_APPROVAL.value else None,
        outcome=row.outcome,
        officer=row.officer_id,
        resolved_at=row.resolved_at,
    )


def _families(db: Session, transaction_ids: list[str]) -> dict[str, FamilyTag]:
    """The family tag of each of ``transaction_ids`` that belongs to a family transaction
    (its ``family`` check)."""
    if not transaction_ids:
        return {}
    found = db.execute(
        select(CheckResultRow.transaction_id, CheckResultRow.message).where(
            CheckResultRow.name == FAMILY_CHECK,
            CheckResultRow.transaction_id.in_(transaction_ids),
        )
    )
    return {tid: tag for tid, message in found if (tag := parse_family(message)) is not None}


def _document(row: DocumentSummaryRow | None, summary: ReferralSummary) -> dict[str, str]:
    data: dict[str, str] = {}
    if summary.surname or summary.given_names:
        data["Name"] = summary.display_name
    if summary.birth_date is not None:
        data["Date of birth"] = summary.birth_date.isoformat()
    if row is not None:
        data["Document type"] = row.doc_type
        data["Issuing state"] = row.issuer
        data["Nationality"] = row.nationality or "-"
        data["Expiry date"] = row.expiry_date.isoformat() if row.expiry_date else "-"
        data["Chip read"] = "yes" if row.chip_read else "no"
    return data
