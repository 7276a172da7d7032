"""One referral: the reasons in plain words (a hit marked), the chip photo beside the live
capture (large, zoomable) with the score, the listed person a hit matched, every check with
its status and reason, the document data with its number, and the actions (admit, refuse,
secondary inspection), each needing a note. Tab walks queue -> photos -> checks -> note ->
actions. A face referral can be admitted only once both photos have been shown.

A family's referrals are one view: a member selector above (each member's name and place),
the selected member's photos and checks below, one note and one decision for the family; a
family with a face referral can be admitted once every such member's photos were shown."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.officer.families import FamilyKey
from kiosk.officer.referrals import ReferralDetail
from models.records import ReferralOutcome
from ui.i18n.desk_catalogue import DeskCatalogue
from ui.officer.photos import PhotoBox, ZoomDialog

ACTIONS = (
    (ReferralOutcome.ADMITTED, "action.admit", "admit", "Ctrl+1"),
    (ReferralOutcome.REFUSED, "action.refuse", "refuse", "Ctrl+2"),
    (ReferralOutcome.SECONDARY_INSPECTION, "action.secondary", "secondary", "Ctrl+3"),
)
Member = tuple[ReferralDetail, bytes | None, bytes | None]  # detail, chip PNG, live PNG
STATUS_ORDER = {"failed": 0, "not_performed": 1, "not_supported": 2, "passed": 3}
STATUS_COLOURS = {"passed": "#1b7f3b", "failed": "#b3261e"}
STATUS_MARKS = {"passed": "✔", "failed": "✖", "not_supported": "–", "not_performed": "–"}


def _section(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("section")
    return label


class ReferralView(QWidget):
    resolve_requested = Signal(object, object, str)  # Referral/FamilyKey, ReferralOutcome, note
    approval_requested = Signal(object, bool, str)  # ReferralKey, approve, note

    def __init__(self, tr: DeskCatalogue | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tr_ = tr or DeskCatalogue()
        self.detail: ReferralDetail | None = None
        self.officer_id: str | None = None
        self.photos_shown = False
        self.blocked_reason: str | None = None  # claimed by someone else, say
        self.family: FamilyKey | None = None
        self.members: list[Member] = []
        self.seen: set[int] = set()  # the members whose photos were shown
        self.member_bar = QTabBar()
        self.member_bar.setObjectName("members")
        self.member_bar.setExpanding(False)
        self.member_bar.currentChanged.connect(self._member_chosen)
        self.member_bar.hide()
        self.header = QLabel("")
        self.header.setObjectName("title")
        self.banner = QLabel("")
        self.banner.setObjectName("alarm")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.subheader = QLabel("")
        self.subheader.setObjectName("muted")
        self.subheader.setWordWrap(True)
        self.chip_photo = PhotoBox("")
        self.live_photo = PhotoBox("")
        for box in (self.chip_photo, self.live_photo):
            box.zoom_requested.connect(self.zoom)
        self.score = QLabel("–")
        self.score.setObjectName("score")
        self.score_caption = QLabel("")
        self.score_caption.setObjectName("muted")
        self.score_caption.setWordWrap(True)
        self.score_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.listed = QLabel("")
        self.listed.setWordWrap(True)
        self.listed.setTextFormat(Qt.TextFormat.PlainText)
        side = QFrame()
        side.setObjectName("card")
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.score, 0, Qt.AlignmentFlag.AlignCenter)
        side_layout.addWidget(self.score_caption)
        self.listed_title = _section("")
        side_layout.addWidget(self.listed_title)
        side_layout.addWidget(self.listed)
        side_layout.addStretch(1)
        photos = QHBoxLayout()
        photos.addWidget(self.chip_photo)
        photos.addWidget(self.live_photo)
        photos.addWidget(side, 1)

        self.checks = QTableWidget(0, 3)
        self.checks.verticalHeader().setVisible(False)
        self.checks.horizontalHeader().setStretchLastSection(True)
        self.checks.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.checks.setTabKeyNavigation(False)  # Tab leaves the table for the note
        self.checks.setMinimumHeight(140)
        self.document = QFormLayout()
        self.hits = QLabel("")
        self.hits.setWordWrap(True)
        self.note = QPlainTextEdit()
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(64)
        self.note.textChanged.connect(self._update_buttons)
        self.buttons: dict[ReferralOutcome, QPushButton] = {}
        actions = QHBoxLayout()
        for outcome, _key, name, shortcut in ACTIONS:
            button = QPushButton("")
            button.setObjectName(name)
            button.setShortcut(shortcut)
            button.setEnabled(False)
            button.clicked.connect(lambda _=False, o=outcome: self.request(o))
            self.buttons[outcome] = button
            actions.addWidget(button)
        self.approve_button = QPushButton("")
        self.approve_button.setObjectName("primary")
        self.decline_button = QPushButton("")
        self.approve_button.clicked.connect(lambda: self._approval(True))
        self.decline_button.clicked.connect(lambda: self._approval(False))
        for button in (self.approve_button, self.decline_button):
            button.hide()
            actions.addWidget(button)
        self.hint = QLabel("")
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)

        grid = QGridLayout()
        left = QVBoxLayout()
        self.checks_title = _section("")
        left.addWidget(self.checks_title)
        left.addWidget(self.checks)
        right = QVBoxLayout()
        self.document_title = _section("")
        self.hits_title = _section("")
        right.addWidget(self.document_title)
        right.addLayout(self.document)
        right.addWidget(self.hits_title)
        right.addWidget(self.hits)
        right.addStretch(1)
        grid.addLayout(left, 0, 0)
        grid.addLayout(right, 0, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(self.member_bar)
        layout.addWidget(self.header)
        layout.addWidget(self.banner)
        layout.addWidget(self.subheader)
        layout.addLayout(photos)
        layout.addLayout(grid, 1)
        self.decision_title = _section("")
        layout.addWidget(self.decision_title)
        layout.addWidget(self.note)
        layout.addLayout(actions)
        layout.addWidget(self.hint)
        QWidget.setTabOrder(self.chip_photo, self.live_photo)
        QWidget.setTabOrder(self.live_photo, self.checks)
        QWidget.setTabOrder(self.checks, self.note)
        previous: QWidget = self.note
        for button in self.buttons.values():
            QWidget.setTabOrder(previous, button)
            previous = button
        self.retranslate()
        self.clear()

    # --- texts ------------------------------------------------------------------------------

    def retranslate(self) -> None:
        t = self.tr_
        self.chip_photo.caption.setText(t("photo.chip"))
        self.live_photo.caption.setText(t("photo.live"))
        self.checks.setHorizontalHeaderLabels(
            [t("checks.check"), t("checks.status"), t("checks.reason")]
        )
        self.checks_title.setText(t("section.checks"))
        self.document_title.setText(t("section.document"))
        self.hits_title.setText(t("section.hits"))
        self.listed_title.setText(t("section.listed"))
        self.decision_title.setText(t("section.decision"))
        self.note.setPlaceholderText(t("note.placeholder"))
        for outcome, key, _name, shortcut in ACTIONS:
            self.buttons[outcome].setText(f"{t(key)}  ({shortcut})")
            self.buttons[outcome].setShortcut(shortcut)  # setText resets it to the mnemonic
        self.approve_button.setText(t("approval.approve"))
        self.decline_button.setText(t("approval.decline"))
        if self.detail is not None:
            if self.family is not None:
                self._name_members()
            self._fill(self.detail)
        else:
            self.header.setText(t("referral.select"))

    # --- showing ----------------------------------------------------------------------------

    def show_detail(
        self, detail: ReferralDetail, chip_png: bytes | None, live_png: bytes | None
    ) -> None:
        self._set_members(None, [(detail, chip_png, live_png)])

    def show_family(self, key: FamilyKey, members: list[Member]) -> None:
        """The referrals of one family (in reading order): the first member shown, the
        others one click away in the member selector."""
        self._set_members(key, members)

    def _set_members(self, family: FamilyKey | None, members: list[Member]) -> None:
        self.family = family
        self.members = list(members)
        self.seen = set()
        self.blocked_reason = None
        self.member_bar.blockSignals(True)
        while self.member_bar.count():
            self.member_bar.removeTab(0)
        if family is not None:
            for _member in self.members:
                self.member_bar.addTab("")
            self._name_members()
            self.member_bar.setCurrentIndex(0)
        self.member_bar.setVisible(family is not None)
        self.member_bar.blockSignals(False)
        self.note.clear()
        self._display(0)

    def _name_members(self) -> None:
        for index, (detail, _chip, _live) in enumerate(self.members):
            mark = "⚠ " if detail.summary.hit else ""
            name = detail.summary.display_name
            self.member_bar.setTabText(
                index, mark + self.tr_("family.tab", position=index + 1, name=name)
            )

    def _member_chosen(self, index: int) -> None:
        if 0 <= index < len(self.members):
            self._display(index)
            QTimer.singleShot(0, self.mark_photos_seen)  # once painted on screen

    def _display(self, index: int) -> None:
        detail, chip_png, live_png = self.members[index]
        self.detail = detail
        missing = detail.images_note or self.tr_("photo.missing")
        shown_chip = self.chip_photo.set_png(chip_png, missing)
        shown_live = self.live_photo.set_png(live_png, missing)
        self.photos_shown = shown_chip and shown_live and self.isVisible()
        if self.photos_shown:
            self.seen.add(index)
        self._fill(detail)
        self._update_buttons()

    @property
    def member_index(self) -> int:
        return max(0, self.member_bar.currentIndex()) if self.family else 0

    def subject(self) -> tuple[str, bool, tuple[str, ...]]:
        """What the decision is about: the name (or "Family of n"), whether a hit is among
        them, and every reason."""
        details = [d for d, _c, _l in self.members]
        if self.family is None or not details:
            s = details[0].summary if details else None
            return (s.display_name, s.hit, s.reasons) if s else ("", False, ())
        size = max(self.family.size, len(details))
        reasons = tuple(dict.fromkeys(r for d in details for r in d.summary.reasons))
        hit = any(d.summary.hit for d in details)
        return self.tr_("queue.family", count=size), hit, reasons

    def _photos_missing(self) -> bool:
        """A face referral whose photos were not shown yet (in a family: any member's)."""
        if self.family is None:
            return self.detail is not None and self.detail.needs_photos and not self.photos_shown
        return any(
            detail.needs_photos and index not in self.seen
            for index, (detail, _c, _l) in enumerate(self.members)
        )

    def _fill(self, detail: ReferralDetail) -> None:
        t = self.tr_
        s = detail.summary
        if self.family is not None:
            size = max(self.family.size, len(self.members))
            self.header.setText(
                t(
                    "family.header", count=size, position=self.member_index + 1, name=s.display_name
                )  # fmt: skip
            )
        else:
            self.header.setText(s.display_name)
        reasons = "; ".join(t.reason(r) for r in s.reasons) or t("reason.none")
        if s.hit:
            self.banner.setText(t("referral.hit_banner", reasons=reasons))
            self.banner.show()
        else:
            self.banner.hide()
        number = detail.document_number or s.document_number or "–"
        self.subheader.setText(
            f"{reasons}  ·  {s.kiosk_id}  ·  {s.created_at:%H:%M:%S}  ·  "
            f"{t('document.number')}: {number}  ·  {s.transaction_id}"
        )
        if detail.face_score is None:
            self.score.setText("–")
            self.score_caption.setText(t("score.none"))
        else:
            self.score.setText(f"{detail.face_score:.2f}")
            caption = t("score.distance")
            if detail.face_threshold is not None:
                match = detail.face_score <= detail.face_threshold
                verdict = t("score.match") if match else t("score.no_match")
                caption = t(
                    "score.against", threshold=f"{detail.face_threshold:.2f}", verdict=verdict
                )
            self.score_caption.setText(caption)
        self._fill_listed(detail)
        ordered = sorted(detail.checks, key=lambda c: STATUS_ORDER.get(c.status, 1))
        self.checks.setRowCount(len(ordered))
        for row, check in enumerate(ordered):
            key = f"check.{check.name}"
            label = t(key) if t.has(key) else check.name.replace("_", " ")
            name_item = QTableWidgetItem(label)
            name_item.setToolTip(check.name)
            self.checks.setItem(row, 0, name_item)
            mark = f"{STATUS_MARKS.get(check.status, '?')} {t('status.' + check.status)}"
            status_item = QTableWidgetItem(mark)
            colour = STATUS_COLOURS.get(check.status)
            if colour:
                status_item.setForeground(QBrush(QColor(colour)))
            self.checks.setItem(row, 1, status_item)
            self.checks.setItem(row, 2, QTableWidgetItem(check.message or check.reason or ""))
        self.checks.resizeColumnToContents(0)
        self.checks.resizeColumnToContents(1)
        while self.document.rowCount():
            self.document.removeRow(0)
        self.document.addRow(f"{t('document.number')}:", QLabel(number))
        for key, value in detail.document.items():
            self.document.addRow(f"{key}:", QLabel(value))
        if detail.screening_hits:
            self.hits.setText(
                "\n".join(f"{h.source}: {h.detail or h.status}" for h in detail.screening_hits)
            )
        else:
            self.hits.setText(t("hits.none"))

    def _fill_listed(self, detail: ReferralDetail) -> None:
        t = self.tr_
        people = detail.summary.listed
        if not people:
            self.listed_title.hide()
            self.listed.hide()
            return
        lines = []
        for person in people:
            name = f"{person.surname.upper()}, {person.given_names}".strip(", ") or "–"
            agreeing = ", ".join(t(f"field.{f}") for f in person.agreeing) or "–"
            lines.append(
                t(
                    "listed.entry",
                    name=name,
                    birth=person.birth_date or "–",
                    nationality=person.nationality or "–",
                    list=person.list_name,
                    reference=person.reference or "–",
                    score=f"{person.score:.2f}",
                    agreeing=agreeing,
                )
            )
        self.listed.setText("\n\n".join(lines))
        self.listed_title.show()
        self.listed.show()

    def mark_photos_seen(self) -> None:
        """Called once the window is on screen with both photos painted."""
        if self.chip_photo.pixmap is not None and self.live_photo.pixmap is not None:
            self.photos_shown = True
            if self.detail is not None:
                self.seen.add(self.member_index)
            self._update_buttons()

    def clear(self) -> None:
        self.detail = None
        self.family = None
        self.members = []
        self.seen = set()
        self.member_bar.hide()
        self.photos_shown = False
        self.blocked_reason = None
        self.header.setText(self.tr_("referral.select"))
        self.banner.hide()
        self.subheader.setText("")
        self.chip_photo.set_png(None)
        self.live_photo.set_png(None)
        self.score.setText("–")
        self.score_caption.setText("")
        self.listed_title.hide()
        self.listed.hide()
        self.checks.setRowCount(0)
        while self.document.rowCount():
            self.document.removeRow(0)
        self.hits.setText("")
        self.note.clear()
        self._update_buttons()

    def block(self, reason: str | None) -> None:
        self.blocked_reason = reason
        self._update_buttons()

    # --- acting -----------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        t = self.tr_
        detail = self.detail
        has_note = bool(self.note.toPlainText().strip())
        status = detail.summary.status if detail else None
        pending = status == "pending_approval"
        every_open = all(d.summary.status == "open" for d, _c, _l in self.members)
        open_ = status == "open" and every_open and self.blocked_reason is None
        for button in self.buttons.values():
            button.setVisible(not pending)
            button.setEnabled(open_ and has_note)
        admit = self.buttons[ReferralOutcome.ADMITTED]
        hint = self.blocked_reason or ""
        if open_ and detail is not None and self._photos_missing():
            admit.setEnabled(False)
            hint = t("hint.family_photos_first" if self.family else "hint.photos_first")
        other = pending and detail is not None and detail.summary.pending_by != self.officer_id
        for button in (self.approve_button, self.decline_button):
            button.setVisible(pending)
            button.setEnabled(other and has_note)
        if pending:
            who = detail.summary.pending_by if detail else ""
            hint = t("hint.awaiting_approval", officer=who or "?")
        self.hint.setText(hint)

    def request(self, outcome: ReferralOutcome) -> None:
        note = self.note.toPlainText().strip()
        button = self.buttons[outcome]
        if self.detail is None or not note or not button.isEnabled():
            return
        self.resolve_requested.emit(self.family or self.detail.summary.key, outcome, note)

    def _approval(self, approve: bool) -> None:
        note = self.note.toPlainText().strip()
        if self.detail is not None and note:
            self.approval_requested.emit(self.detail.summary.key, approve, note)

    def zoom(self) -> None:
        pictures = [
            (box.caption.text(), pixmap)
            for box in (self.chip_photo, self.live_photo)
            if (pixmap := box.pixmap) is not None
        ]
        if pictures:
            dialog = ZoomDialog(pictures, self.tr_("photo.zoom"), self)
            dialog.open()
            self.zoom_dialog = dialog
