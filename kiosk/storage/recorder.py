"""Recording a decided transaction: everything in ONE database transaction.

The transaction row, its document summary, its checks, the decision, the referral (for every
non-accept decision), the encrypted biometric samples, the audit entry and the outbox messages
for the server (the decision; for a referral with photos, a reference to them) are written
together; if any part fails, none of it is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from kiosk.storage import outbox
from kiosk.storage.crypto_store import BlobCipher, store_blob
from kiosk.storage.database import Database
from kiosk.storage.errors import DatabaseUnavailableError, DuplicateTransactionError
from kiosk.storage.failures import classify
from models.records import DecidedTransaction, InvalidRecordError, ReferralStatus
from models.tables import (
    CheckResultRow,
    DecisionRow,
    DocumentSummaryRow,
    ReferralRow,
    TransactionRow,
)

if TYPE_CHECKING:
    from kiosk.audit.log import AuditLog

log = logging.getLogger(__name__)

DECISION_MESSAGE = "decision"
PHOTOS_MESSAGE = "referral_photos"
PAYLOAD_VERSION = 1


def record_transaction(
    database: Database,
    record: DecidedTransaction,
    *,
    cipher: BlobCipher | None = None,
    audit: AuditLog | None = None,
    site: str | None = None,
) -> None:
    """Write ``record`` and everything that goes with it, atomically; ``site`` (the kiosk's
    configured site) travels with the decision to the server's statistics."""
    try:
        with database.write() as session:
            add_decided_transaction(session, record, cipher=cipher, audit=audit, site=site)
    except IntegrityError as exc:
        if _exists(database, record.transaction_id):
            raise DuplicateTransactionError(
                f"transaction {record.transaction_id} is already recorded"
            ) from exc
        raise DatabaseUnavailableError(
            f"transaction {record.transaction_id} could not be recorded (integrity)"
        ) from exc
    except SQLAlchemyError as exc:
        raise classify(exc, f"transaction {record.transaction_id} could not be recorded") from exc
    log.info("transaction %s recorded: %s", record.transaction_id, record.decision.value)


def record_transactions(
    database: Database,
    records: Sequence[DecidedTransaction],
    *,
    cipher: BlobCipher | None = None,
    audit: AuditLog | None = None,
    site: str | None = None,
) -> None:
    """Write several records (a family's members) in one database transaction: all of them
    are kept, or none."""
    try:
        with database.write() as session:
            for record in records:
                add_decided_transaction(session, record, cipher=cipher, audit=audit, site=site)
    except IntegrityError as exc:
        raise DatabaseUnavailableError(
            f"{len(records)} family records could not be recorded (integrity)"
        ) from exc
    except SQLAlchemyError as exc:
        raise classify(exc, f"{len(records)} family records could not be recorded") from exc
    for record in records:
        log.info("transaction %s recorded: %s", record.transaction_id, record.decision.value)


def _exists(database: Database, transaction_id: str) -> bool:
    with database.read() as session:
        return session.get(TransactionRow, transaction_id) is not None


def add_decided_transaction(
    session: Session,
    record: DecidedTransaction,
    *,
    cipher: BlobCipher | None = None,
    audit: AuditLog | None = None,
    site: str | None = None,
) -> TransactionRow:
    """Add the rows of ``record`` to ``session``'s transaction (the caller commits)."""
    if record.samples and cipher is None:
        raise InvalidRecordError("biometric samples given but no cipher to encrypt them")
    if session.scalar(select(TransactionRow.id).where(TransactionRow.id == record.transaction_id)):
        raise DuplicateTransactionError(f"transaction {record.transaction_id} is already recorded")
    row = _transaction_row(record)
    session.add(row)
    session.flush()
    for sample in record.samples:
        assert cipher is not None
        store_blob(session, cipher, record.transaction_id, sample.kind, sample.data)
    outbox.enqueue(
        session,
        DECISION_MESSAGE,
        decision_payload(record, site=site),
        subject_id=record.transaction_id,
    )
    if record.needs_referral and record.samples:
        # the photos themselves stay encrypted in the blob table; the relay reads them when
        # it sends this message, so the outbox never holds an image
        outbox.enqueue(
            session,
            PHOTOS_MESSAGE,
            {"transaction_id": record.transaction_id, "kiosk_id": record.kiosk_id},
            subject_id=record.transaction_id,
        )
    if audit is not None:
        audit.append(
            session,
            actor="kiosk",
            action="transaction.decided",
            subject_ids=[record.transaction_id],
            details={
                "decision": record.decision.value,
                "reasons": [reason.value for reason in record.reasons],
                "checks": [[check.name, check.status.value] for check in record.checks],
                "referral": record.needs_referral,
            },
        )
    session.flush()
    return row


def _transaction_row(record: DecidedTransaction) -> TransactionRow:
    row = TransactionRow(
        id=record.transaction_id,
        kiosk_id=record.kiosk_id,
        started_at=record.started_at,
        decided_at=record.decided_at,
        policy=record.policy,
        timings_ms={step: float(ms) for step, ms in record.timings_ms.items()},
    )
    if record.document is not None:
        doc = record.document
        row.document = DocumentSummaryRow(
            doc_type=doc.doc_type,
            issuer=doc.issuer,
            nationality=doc.nationality,
            expiry_date=doc.expiry_date,
            number_token=doc.number_token,
            chip_read=doc.chip_read,
        )
    row.checks = [
        CheckResultRow(
            position=index,
            name=check.name,
            status=check.status.value,
            reason=check.reason,
            message=check.message,
        )
        for index, check in enumerate(record.checks)
    ]
    reasons = [reason.value for reason in record.reasons]
    row.decision = DecisionRow(
        decision=record.decision.value, reasons=reasons, decided_at=record.decided_at
    )
    if record.needs_referral:
        subject = record.referral_subject
        row.referral = ReferralRow(
            status=ReferralStatus.OPEN.value,
            reasons=reasons,
            created_at=record.decided_at,
            surname=subject.surname if subject else None,
            given_names=subject.given_names if subject else None,
            birth_date=subject.birth_date if subject else None,
            document_number=subject.document_number if subject else None,
            listed=[person.as_dict() for person in subject.listed] if subject else None,
        )
    return row


def decision_payload(record: DecidedTransaction, site: str | None = None) -> dict[str, Any]:
    """The outbox message the server ingests (idempotent by ``transaction_id``)."""
    doc = record.document
    subject = record.referral_subject
    payload: dict[str, Any] = {
        "v": PAYLOAD_VERSION,
        "transaction_id": record.transaction_id,
        "kiosk_id": record.kiosk_id,
        "started_at": record.started_at.astimezone(UTC).isoformat(),
        "decided_at": record.decided_at.astimezone(UTC).isoformat(),
        "decision": record.decision.value,
        "reasons": [reason.value for reason in record.reasons],
        "policy": record.policy,
        "document": None
        if doc is None
        else {
            "doc_type": doc.doc_type,
            "issuer": doc.issuer,
            "nationality": doc.nationality,
            "expiry_date": doc.expiry_date.isoformat() if doc.expiry_date else None,
            "number_token": doc.number_token,
            "chip_read": doc.chip_read,
            "sex": doc.sex,
        },
        "checks": [
            {"name": c.name, "status": c.status.value, "reason": c.reason, "message": c.message}
            for c in record.checks
        ],
        "referral": None
        if not record.needs_referral
        else {
            "status": ReferralStatus.OPEN.value,
            "surname": subject.surname if subject else None,
            "given_names": subject.given_names if subject else None,
            "birth_date": subject.birth_date.isoformat()
            if subject and subject.birth_date
            else None,
            "document_number": subject.document_number if subject else None,
            "listed": [person.as_dict() for person in subject.listed] if subject else [],
        },
        "timings_ms": {step: float(ms) for step, ms in record.timings_ms.items()},
    }
    if site is not None:
        payload["site"] = site
    return payload
