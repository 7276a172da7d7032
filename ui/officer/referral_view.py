"""One referral: the chip photo beside the live capture with the score, every check with its
status and reason, the document data, screening hits with their source, and the actions
(admit, refuse, secondary inspection), each needing a note."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.officer.referrals import ReferralDetail
from models.records import ReferralOutcome

ACTIONS = (
    (ReferralOutcome.ADMITTED, "Admit", "admit", "Ctrl+1"),
    (ReferralOutcome.REFUSED, "Refuse", "refuse", "Ctrl+2"),
    (ReferralOutcome.SECONDARY_INSPECTION, "Secondary inspection", "secondary", "Ctrl+3"),
)
CHECK_LABELS = {
    "access_control": "Chip access control",
    "sod_signature": "Document security object signature",
    "chain": "Certificate chain to the issuing CSCA",
    "revocation": "Document signer not revoked",
    "hashes": "Data group hashes",
    "active_authentication": "Active authentication (anti-cloning)",
    "chip_authentication": "Chip authentication (anti-cloning)",
    "mrz_consistency": "Chip MRZ matches printed MRZ",
    "issuer_consistency": "Issuing state matches the signer",
    "expiry": "Document not expired",
    "document_readable": "Chip files readable",
    "face_match": "Face match (chip photo / live)",
    "liveness": "Liveness",
    "enough_frames": "Enough camera frames",
    "lost_stolen": "Lost and stolen documents",
    "watchlist": "Watchlist",
    "manifest": "Passenger manifest (API)",
}
STATUS_ORDER = {"failed": 0, "not_performed": 1, "not_supported": 2, "passed": 3}
STATUS_COLOURS = {"passed": "#1b7f3b", "failed": "#b3261e"}
STATUS_MARKS = {
    "passed": "✔ passed",
    "failed": "✖ failed",
    "not_supported": "– not supported",
    "not_performed": "– not performed",
}


def _section(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("section")
    return label


class PhotoBox(QFrame):
    def __init__(self, caption: str) -> None:
        super().__init__()
        self.setObjectName("card")
        self.picture = QLabel("no image")
        self.picture.setObjectName("muted")
        self.picture.setWordWrap(True)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setFixedSize(180, 220)
        label = QLabel(caption)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setObjectName("muted")
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture)
        layout.addWidget(label)

    def set_png(self, png: bytes | None, missing: str = "no image") -> None:
        pixmap = QPixmap()
        if png and pixmap.loadFromData(png):
            self.picture.setPixmap(
                pixmap.scaled(
                    self.picture.size(),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
        else:
            self.picture.clear()
            self.picture.setText(missing)


class ReferralView(QWidget):
    resolve_requested = Signal(str, object, str)  # transaction id, ReferralOutcome, note

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.detail: ReferralDetail | None = None
        self.header = QLabel("Select a referral")
        self.header.setObjectName("title")
        self.subheader = QLabel("")
        self.subheader.setObjectName("muted")
        self.chip_photo = PhotoBox("Chip photo")
        self.live_photo = PhotoBox("Live capture")
        self.score = QLabel("–")
        self.score.setObjectName("score")
        self.score_caption = QLabel("face distance")
        self.score_caption.setObjectName("muted")
        score_box = QFrame()
        score_box.setObjectName("card")
        score_layout = QVBoxLayout(score_box)
        score_layout.addStretch(1)
        score_layout.addWidget(self.score, 0, Qt.AlignmentFlag.AlignCenter)
        score_layout.addWidget(self.score_caption, 0, Qt.AlignmentFlag.AlignCenter)
        score_layout.addStretch(1)
        photos = QHBoxLayout()
        photos.addWidget(self.chip_photo)
        photos.addWidget(self.live_photo)
        photos.addWidget(score_box, 1)

        self.checks = QTableWidget(0, 3)
        self.checks.setHorizontalHeaderLabels(["Check", "Status", "Reason"])
        self.checks.verticalHeader().setVisible(False)
        self.checks.horizontalHeader().setStretchLastSection(True)
        self.checks.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.checks.setMinimumHeight(160)
        self.document = QFormLayout()
        self.hits = QLabel("none")
        self.hits.setWordWrap(True)
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("Note (required): what you checked and why you decided")
        self.note.setFixedHeight(72)
        self.note.textChanged.connect(self._update_buttons)
        self.buttons: dict[ReferralOutcome, QPushButton] = {}
        actions = QHBoxLayout()
        for outcome, text, name, shortcut in ACTIONS:
            button = QPushButton(f"{text}  ({shortcut})")
            button.setObjectName(name)
            button.setShortcut(shortcut)
            button.setEnabled(False)
            button.clicked.connect(lambda _=False, o=outcome: self.request(o))
            self.buttons[outcome] = button
            actions.addWidget(button)

        grid = QGridLayout()
        left = QVBoxLayout()
        left.addWidget(_section("Checks"))
        left.addWidget(self.checks)
        right = QVBoxLayout()
        right.addWidget(_section("Document"))
        right.addLayout(self.document)
        right.addWidget(_section("Screening hits"))
        right.addWidget(self.hits)
        right.addStretch(1)
        grid.addLayout(left, 0, 0)
        grid.addLayout(right, 0, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(self.header)
        layout.addWidget(self.subheader)
        layout.addLayout(photos)
        layout.addLayout(grid, 1)
        layout.addWidget(_section("Decision"))
        layout.addWidget(self.note)
        layout.addLayout(actions)

    def show_detail(
        self, detail: ReferralDetail, chip_png: bytes | None, live_png: bytes | None
    ) -> None:
        self.detail = detail
        s = detail.summary
        self.header.setText(s.display_name)
        reasons = ", ".join(r.replace("_", " ") for r in s.reasons) or "no reason given"
        self.subheader.setText(
            f"{s.transaction_id}  ·  {s.kiosk_id}  ·  {s.created_at:%H:%M:%S}  ·  {reasons}"
        )
        missing = detail.images_note or "no image"
        self.chip_photo.set_png(chip_png, missing)
        self.live_photo.set_png(live_png, missing)
        if detail.face_score is None:
            self.score.setText("–")
            self.score_caption.setText("face distance not available")
        else:
            self.score.setText(f"{detail.face_score:.2f}")
            threshold = detail.face_threshold
            verdict = ""
            if threshold is not None:
                verdict = " – match" if detail.face_score <= threshold else " – NO match"
                verdict = f" (threshold {threshold:.2f}){verdict}"
            self.score_caption.setText("face distance" + verdict)
        # what needs the officer's eye first: failed, then not performed, then passed
        ordered = sorted(detail.checks, key=lambda c: STATUS_ORDER.get(c.status, 1))
        self.checks.setRowCount(len(ordered))
        for row, check in enumerate(ordered):
            label = CHECK_LABELS.get(check.name, check.name.replace("_", " "))
            name_item = QTableWidgetItem(label)
            name_item.setToolTip(check.name)
            self.checks.setItem(row, 0, name_item)
            status_item = QTableWidgetItem(STATUS_MARKS.get(check.status, check.status))
            colour = STATUS_COLOURS.get(check.status)
            if colour:
                status_item.setForeground(QBrush(QColor(colour)))
            self.checks.setItem(row, 1, status_item)
            reason = check.message or check.reason or ""
            self.checks.setItem(row, 2, QTableWidgetItem(reason))
        self.checks.resizeColumnToContents(0)
        self.checks.resizeColumnToContents(1)
        while self.document.rowCount():
            self.document.removeRow(0)
        for key, value in detail.document.items():
            self.document.addRow(f"{key}:", QLabel(value))
        if not detail.complete:
            self.document.addRow("", QLabel("(details are kept at the kiosk)"))
        if detail.screening_hits:
            self.hits.setText(
                "\n".join(f"{h.source}: {h.detail or h.status}" for h in detail.screening_hits)
            )
        else:
            self.hits.setText("none")
        self.note.clear()
        self._update_buttons()

    def clear(self) -> None:
        self.detail = None
        self.header.setText("Select a referral")
        self.subheader.setText("")
        self.chip_photo.set_png(None)
        self.live_photo.set_png(None)
        self.score.setText("–")
        self.checks.setRowCount(0)
        while self.document.rowCount():
            self.document.removeRow(0)
        self.hits.setText("none")
        self.note.clear()
        self._update_buttons()

    def _update_buttons(self) -> None:
        ready = self.detail is not None and bool(self.note.toPlainText().strip())
        for button in self.buttons.values():
            button.setEnabled(ready)

    def request(self, outcome: ReferralOutcome) -> None:
        note = self.note.toPlainText().strip()
        if self.detail is None or not note:
            return
        self.resolve_requested.emit(self.detail.summary.transaction_id, outcome, note)
