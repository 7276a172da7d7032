"""Every table of the project. Importing this package fills ``models.base.Base.metadata``."""

from models.tables.audit import AuditCheckpointRow, AuditEntryRow
from models.tables.biometrics import BiometricBlobRow
from models.tables.outbox import OutboxMessageRow
from models.tables.screening import LostStolenDocumentRow, ManifestEntryRow, WatchlistEntryRow
from models.tables.sync import ListVersionRow, SyncStatusRow
from models.tables.transactions import (
    CheckResultRow,
    DecisionRow,
    DeviceEventRow,
    DocumentSummaryRow,
    ReferralRow,
    TransactionRow,
)
from models.tables.trust import TrustCertificateRow, TrustCrlRow

__all__ = [
    "AuditCheckpointRow",
    "AuditEntryRow",
    "BiometricBlobRow",
    "CheckResultRow",
    "DecisionRow",
    "DeviceEventRow",
    "DocumentSummaryRow",
    "ListVersionRow",
    "LostStolenDocumentRow",
    "ManifestEntryRow",
    "OutboxMessageRow",
    "ReferralRow",
    "SyncStatusRow",
    "TransactionRow",
    "TrustCertificateRow",
    "TrustCrlRow",
    "WatchlistEntryRow",
]
