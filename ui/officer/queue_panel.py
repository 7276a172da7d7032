"""The booth's referral queue: one line per referral (hits first and marked, the masked
document number, who has it), the lane filter and the paging.

Each line carries its :class:`~kiosk.officer.referrals.ReferralKey` (kiosk and transaction):
two kiosks of one site may use the same transaction id, so a line is never found by the id
alone. Loading pages and opening referrals is the window's work; this panel shows them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.officer.referrals import ReferralKey, ReferralPage, ReferralSummary
from ui.i18n.desk_catalogue import DeskCatalogue

KEY_ROLE = Qt.ItemDataRole.UserRole


class QueuePanel(QWidget):
    selected = Signal(object)  # the ReferralKey of the line chosen
    lane_chosen = Signal(object)  # a lane, or None for every lane
    newer_requested = Signal()
    older_requested = Signal()

    def __init__(self, tr: DeskCatalogue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tr_ = tr
        self.title = QLabel("")
        self.title.setObjectName("title")
        self.lanes = QComboBox()
        self.lanes.currentIndexChanged.connect(
            lambda _i: self.lane_chosen.emit(self.lanes.currentData())
        )
        self.list = QListWidget()
        self.list.setMinimumWidth(320)
        self.list.setWordWrap(True)
        self.list.currentItemChanged.connect(self._changed)
        self.newer = QPushButton("‹")
        self.older = QPushButton("›")
        self.position = QLabel("")
        self.newer.clicked.connect(self.newer_requested)
        self.older.clicked.connect(self.older_requested)
        for button in (self.newer, self.older):
            button.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.lanes)
        layout.addWidget(self.list, 1)
        paging = QHBoxLayout()
        paging.addWidget(self.newer)
        paging.addWidget(self.position, 1)
        paging.addWidget(self.older)
        layout.addLayout(paging)

    def retranslate(self) -> None:
        self.title.setText(self.tr_("queue.title"))

    def _changed(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if item is not None:
            self.selected.emit(item.data(KEY_ROLE))

    def fill_lanes(self, known: list[str], current: str | None) -> None:
        self.lanes.blockSignals(True)
        self.lanes.clear()
        self.lanes.addItem(self.tr_("queue.all_lanes"), None)
        for lane in known:
            self.lanes.addItem(lane, lane)
        if current in known:
            self.lanes.setCurrentIndex(known.index(current) + 1)
        self.lanes.blockSignals(False)

    def show_page(
        self,
        page: ReferralPage,
        referrals: list[ReferralSummary],
        current: ReferralKey | None,
        officer: str | None,
    ) -> bool:
        """The lines of ``referrals`` (``page`` without the one being resolved); True when
        ``current`` is still among them (it stays selected)."""
        self.list.blockSignals(True)
        self.list.clear()
        found = False
        for referral in referrals:
            item = QListWidgetItem(self.line(referral, officer))
            item.setData(KEY_ROLE, referral.key)
            if referral.hit:
                item.setForeground(Qt.GlobalColor.darkRed)
            self.list.addItem(item)
            if referral.key == current:
                self.list.setCurrentItem(item)
                found = True
        self.list.blockSignals(False)
        last = page.offset + len(page.items)
        first = page.offset + 1 if page.items else 0
        self.position.setText(self.tr_("page.position", first=first, last=last, total=page.total))
        self.newer.setEnabled(page.offset > 0)
        self.older.setEnabled(last < page.total)
        return found

    def line(self, r: ReferralSummary, officer: str | None) -> str:
        t = self.tr_
        mark = f"⚠ {t('queue.hit')}  ·  " if r.hit else ""
        reasons = "; ".join(t.reason(x) for x in r.reasons)
        extra = []
        if r.document_number:
            extra.append(r.document_number)
        if r.status == "pending_approval" and r.pending_at is not None:
            since = r.pending_at.astimezone().strftime("%H:%M")
            who = r.pending_by or "?"
            extra.append(t("queue.awaiting_approval_since", officer=who, time=since))
        elif r.status == "pending_approval":
            extra.append(t("queue.awaiting_approval"))
        elif r.claimed_by and r.claimed_by != officer:
            extra.append(t("queue.taken", officer=r.claimed_by))
        tail = f"\n{'  ·  '.join(extra)}" if extra else ""
        return f"{mark}{r.display_name}\n{r.created_at:%H:%M}  ·  {r.kiosk_id}  ·  {reasons}{tail}"

    def keys(self) -> list[ReferralKey]:
        return [self.list.item(i).data(KEY_ROLE) for i in range(self.list.count())]

    def select_next(self, done: ReferralKey) -> None:
        """Hide the line just acted on and select the next one (or the one before)."""
        keys = self.keys()
        index = keys.index(done) if done in keys else -1
        if index >= 0:
            self.list.item(index).setHidden(True)
        rest = [i for i in range(len(keys)) if i != index and not self.list.item(i).isHidden()]
        following = [i for i in rest if i > index] or [i for i in rest if i < index][-1:]
        if following:
            self.list.setCurrentRow(following[0])
        self.list.setFocus()

    def reveal(self, key: ReferralKey) -> None:
        """Show (again) and select the line of ``key`` (an undone resolution)."""
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(KEY_ROLE) == key:
                item.setHidden(False)
                self.list.blockSignals(True)
                self.list.setCurrentItem(item)
                self.list.blockSignals(False)
