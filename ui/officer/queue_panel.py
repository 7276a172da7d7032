"""The booth's referral queue: one line per referral (hits first and marked, the masked
document number, who has it), one line for all the referrals of a family ("Family of 3",
every member's reasons), the lane filter and the paging.

Each line carries its key: a :class:`~kiosk.officer.referrals.ReferralKey` (kiosk and
transaction: two kiosks of one site may use the same transaction id, so a line is never found
by the id alone) or a family's :class:`~kiosk.officer.families.FamilyKey`. Loading pages and
opening referrals is the window's work; this panel shows them.
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

from kiosk.officer.families import LineKey, QueueLine, queue_lines
from kiosk.officer.referrals import ReferralPage, ReferralSummary
from ui.i18n.desk_catalogue import DeskCatalogue

KEY_ROLE = Qt.ItemDataRole.UserRole


class QueuePanel(QWidget):
    selected = Signal(object)  # the key of the line chosen (ReferralKey or FamilyKey)
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
        current: LineKey | None,
        officer: str | None,
    ) -> bool:
        """The lines of ``referrals`` (``page`` without the one being resolved), a family's
        members on one line; True when ``current`` is still among them (it stays selected)."""
        self.list.blockSignals(True)
        self.list.clear()
        found = False
        for line in queue_lines(referrals):
            item = QListWidgetItem(self.text(line, officer))
            item.setData(KEY_ROLE, line.key)
            if line.hit:
                item.setForeground(Qt.GlobalColor.darkRed)
            self.list.addItem(item)
            if line.key == current:
                self.list.setCurrentItem(item)
                found = True
        self.list.blockSignals(False)
        last = page.offset + len(page.items)
        first = page.offset + 1 if page.items else 0
        self.position.setText(self.tr_("page.position", first=first, last=last, total=page.total))
        self.newer.setEnabled(page.offset > 0)
        self.older.setEnabled(last < page.total)
        return found

    def text(self, line: QueueLine, officer: str | None) -> str:
        """A referral's line, or a family's: "Family of 3", the lane, the time, the reasons
        of all members, and who has any of them."""
        if not line.is_family:
            return self.line(line.first, officer)
        t = self.tr_
        size = max(len(line.members), getattr(line.key, "size", 0))
        mark = f"⚠ {t('queue.hit')}  ·  " if line.hit else ""
        reasons = "; ".join(t.reason(x) for x in line.reasons)
        states = [state for m in line.members if (state := self._state(m, officer))]
        extra = [t("queue.family_waiting", count=len(line.members)), *states[:1]]
        first = line.first
        return (
            f"{mark}{t('queue.family', count=size)}\n{first.created_at:%H:%M}  ·  "
            f"{first.kiosk_id}  ·  {reasons}\n{'  ·  '.join(extra)}"
        )

    def _state(self, r: ReferralSummary, officer: str | None) -> str:
        """Who has the referral: awaiting approval, or taken by another officer."""
        t = self.tr_
        if r.status == "pending_approval" and r.pending_at is not None:
            since = r.pending_at.astimezone().strftime("%H:%M")
            who = r.pending_by or "?"
            return t("queue.awaiting_approval_since", officer=who, time=since)
        if r.status == "pending_approval":
            return t("queue.awaiting_approval")
        if r.claimed_by and r.claimed_by != officer:
            return t("queue.taken", officer=r.claimed_by)
        return ""

    def line(self, r: ReferralSummary, officer: str | None) -> str:
        t = self.tr_
        mark = f"⚠ {t('queue.hit')}  ·  " if r.hit else ""
        reasons = "; ".join(t.reason(x) for x in r.reasons)
        extra = [part for part in (r.document_number, self._state(r, officer)) if part]
        tail = f"\n{'  ·  '.join(extra)}" if extra else ""
        return f"{mark}{r.display_name}\n{r.created_at:%H:%M}  ·  {r.kiosk_id}  ·  {reasons}{tail}"

    def keys(self) -> list[LineKey]:
        return [self.list.item(i).data(KEY_ROLE) for i in range(self.list.count())]

    def select_next(self, done: LineKey) -> None:
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

    def reveal(self, key: LineKey) -> None:
        """Show (again) and select the line of ``key`` (an undone resolution)."""
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(KEY_ROLE) == key:
                item.setHidden(False)
                self.list.blockSignals(True)
                self.list.setCurrentItem(item)
                self.list.blockSignals(False)
