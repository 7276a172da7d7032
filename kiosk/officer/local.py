"""Referrals from the kiosk's own database: the booth of a standalone kiosk.

Every login, every look at a referral and every resolution is written to the audit log in
the same database transaction as what it records; a resolution also goes to the outbox, so
the central server learns it when the kiosk syncs. The officer's note is stored on the
referral; the audit entry records only its length (a note may name the traveller).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kiosk.audit.log import AuditLog
from kiosk.officer.accounts import OfficerAccounts
from kiosk.officer.referrals import (
    CheckLine,
    LoginFailedError,
    OfficerSession,
    ReferralClosedError,
    ReferralDetail,
    ReferralNotFoundError,
    ReferralSummary,
    SourceUnavailableError,
    clean_note,
    face_score,
    screening_hits,
)
from kiosk.storage import outbox
from kiosk.storage.crypto_store import BlobCipher, load_blob
from kiosk.storage.database import Database
from models.base import utc_now
from models.errors import StorageError
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
        try:
            with self.database.read() as db:
                rows = db.execute(
                    select(ReferralRow, TransactionRow.kiosk_id)
                    .join(TransactionRow, TransactionRow.id == ReferralRow.transaction_id)
                    .where(ReferralRow.status == ReferralStatus.OPEN.value)
                    .order_by(ReferralRow.created_at)
                ).all()
                return [_summary(row, kiosk_id) for row, kiosk_id in rows]
        except SQLAlchemyError as exc:
            raise SourceUnavailableError("referrals cannot be read") from exc

    def referral(self, session: OfficerSession, transaction_id: str) -> ReferralDetail:
        try:
            with self.database.write() as db:
                found = db.execute(
                    select(ReferralRow, TransactionRow.kiosk_id)
                    .join(TransactionRow, TransactionRow.id == ReferralRow.transaction_id)
                    .where(ReferralRow.transaction_id == transaction_id)
                ).first()
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
    ) -> None:
        text = clean_note(note)
        now = self._clock()
        try:
            with self.database.write() as db:
                row = db.get(ReferralRow, transaction_id)
                if row is None:
                    raise ReferralNotFoundError(f"no referral {transaction_id}")
                if row.status != ReferralStatus.OPEN.value:
                    raise ReferralClosedError(f"referral {transaction_id} is {row.status}")
                row.status = ReferralStatus.RESOLVED.value
                row.resolved_at = now
                row.officer_id = session.officer_id
                row.outcome = outcome.value
                row.note = text
                outbox.enqueue(
                    db,
                    RESOLUTION_MESSAGE,
                    {
                        "transaction_id": transaction_id,
                        "outcome": outcome.value,
                        "officer": session.officer_id,
                        "resolved_at": now.isoformat(),
                        "note": text,
                    },
                    subject_id=transaction_id,
                )
                self._audit(
                    db,
                    f"officer:{session.officer_id}",
                    "referral.resolved",
                    [transaction_id],
                    {"outcome": outcome.value, "note_chars": len(text)},
                )
        except SQLAlchemyError as exc:
            raise SourceUnavailableError("the resolution could not be stored") from exc
        log.info("referral %s resolved: %s", transaction_id, outcome.value)

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
    )


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
