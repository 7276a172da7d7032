"""The officer booth: the live wall of the site's lanes, the referral queue (hits first,
newest first, paged, filtered by lane) with one referral open, the history and the shift
report.

All data access goes through a :class:`~kiosk.officer.referrals.ReferralSource` (the kiosk's
own database, or the central server) on worker threads; the source audits every call. With
the central server the wall and the queue change when the server pushes a change (server-sent
events), never by polling; the standalone kiosk's queue refreshes every ``refresh_ms``.

Working a referral: selecting it claims it (other booths see it taken), an action needs a
note, admitting a hit asks for confirmation, the resolution is sent only after an undo window
(Ctrl+Z), the next referral is selected at once, and an admission that needs four eyes asks a
second officer to sign in and approve.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.officer.referrals import (
    OfficerSession,
    ReferralClaimedError,
    ReferralDetail,
    ReferralPage,
    ReferralSource,
    ReferralSummary,
    Resolution,
)
from kiosk.officer.wall import WallModel
from models.errors import KioskError
from models.records import ReferralOutcome
from ui.i18n import LANGUAGES
from ui.i18n.desk_catalogue import DeskCatalogue
from ui.officer.dialogs import ApprovalDialog, confirm_admit_hit
from ui.officer.images import to_png
from ui.officer.login import LoginPage
from ui.officer.referral_view import ReferralView
from ui.officer.reports_view import HistoryView, ShiftReportView
from ui.officer.style import booth_style
from ui.officer.wall_view import WallView
from ui.workers import Worker

PAGE_SIZE = 50
UNDO_MS = 5000


def user_message(error: BaseException) -> str:
    if isinstance(error, KioskError):
        return f"{error.user_message} ({error.code})"
    return f"Unexpected error ({type(error).__name__})"


class _WallSignals(QObject):
    received = Signal(str, object)  # emitted on the stream's thread, delivered queued


class OfficerWindow(QMainWindow):
    def __init__(
        self,
        source: ReferralSource,
        *,
        refresh_ms: int = 30_000,
        undo_ms: int = UNDO_MS,
        language: str = "en",
        confirm: Callable[[str, str], bool] | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.tr_ = DeskCatalogue(language)
        self.session: OfficerSession | None = None
        self.referrals: list[ReferralSummary] = []
        self.page = ReferralPage((), 0)
        self.offset = 0
        self.lane_filter: str | None = None
        self.large_text = False
        self.worker = Worker("officer", threads=3, parent=self)
        self.undo_ms = undo_ms
        self.confirm = confirm or (
            lambda name, reasons: confirm_admit_hit(self, self.tr_, name, reasons)
        )
        self.pending: tuple[str, ReferralOutcome, str] | None = None
        self.claimed: str | None = None
        self.wanted: str | None = None
        self.wall_model = WallModel()
        self.wall_stream: Any = None
        self._queue_version = 0
        self._wall_signals = _WallSignals(self)
        self._wall_signals.received.connect(self._on_wall_event, Qt.ConnectionType.QueuedConnection)
        self.approval_dialog: ApprovalDialog | None = None
        self.setStyleSheet(booth_style())

        self.login_page = LoginPage()
        self.login_page.submitted.connect(self.login)
        self.view = ReferralView(self.tr_)
        self.view.resolve_requested.connect(self.resolve)
        self.view.approval_requested.connect(self.answer_approval)
        self.queue = QListWidget()
        self.queue.setMinimumWidth(320)
        self.queue.setWordWrap(True)
        self.queue.currentItemChanged.connect(self._selected)
        self.lanes = QComboBox()
        self.lanes.currentIndexChanged.connect(self._lane_chosen)
        self.newer = QPushButton("‹")
        self.older = QPushButton("›")
        self.position = QLabel("")
        self.newer.clicked.connect(lambda: self._page(max(0, self.offset - PAGE_SIZE)))
        self.older.clicked.connect(lambda: self._page(self.offset + PAGE_SIZE))
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        self.undo_button = QPushButton("")
        self.undo_button.clicked.connect(self.undo)
        self.undo_button.hide()
        self.officer_label = QLabel("")
        self.officer_label.setObjectName("muted")
        self.language = QComboBox()
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(list(LANGUAGES).index(language))
        self.language.currentIndexChanged.connect(
            lambda _i: self.set_language(str(self.language.currentData()))
        )
        self.text_size = QPushButton("")
        self.text_size.setCheckable(True)
        self.text_size.toggled.connect(self.set_large_text)
        self.logout_button = QPushButton("")
        self.logout_button.clicked.connect(self.logout)
        self.queue_title = QLabel("")
        self.queue_title.setObjectName("title")

        queue_panel = QWidget()
        queue_layout = QVBoxLayout(queue_panel)
        queue_layout.addWidget(self.queue_title)
        queue_layout.addWidget(self.lanes)
        queue_layout.addWidget(self.queue, 1)
        paging = QHBoxLayout()
        paging.addWidget(self.newer)
        paging.addWidget(self.position, 1)
        paging.addWidget(self.older)
        queue_layout.addLayout(paging)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(queue_panel)
        splitter.addWidget(self.view)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([340, 1100])
        self.referral_page = splitter

        self.wall = WallView(self.tr_)
        self.wall.action_requested.connect(self.lane_action)
        self.history = HistoryView(self.tr_)
        self.history.page_requested.connect(self.load_history)
        self.report = ShiftReportView(self.tr_)
        self.report.refresh_requested.connect(self.load_report)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.wall, "")
        self.tabs.addTab(splitter, "")
        self.tabs.addTab(self.history, "")
        self.tabs.addTab(self.report, "")
        self.tabs.currentChanged.connect(self._tab_changed)

        top = QHBoxLayout()
        top.addWidget(self.officer_label)
        top.addStretch(1)
        top.addWidget(self.status, 2)
        top.addWidget(self.undo_button)
        top.addWidget(self.language)
        top.addWidget(self.text_size)
        top.addWidget(self.logout_button)
        main = QWidget()
        main_layout = QVBoxLayout(main)
        main_layout.addLayout(top)
        main_layout.addWidget(self.tabs, 1)
        self.main_page = main

        self.pages = QStackedWidget()
        self.pages.setObjectName("deskRoot")
        self.pages.addWidget(self.login_page)
        self.pages.addWidget(main)
        self.setCentralWidget(self.pages)

        self.timer = QTimer(self)  # the standalone kiosk's queue: no server to push changes
        self.timer.setInterval(refresh_ms)
        self.timer.timeout.connect(self.refresh)
        self.undo_timer = QTimer(self)
        self.undo_timer.setSingleShot(True)
        self.undo_timer.timeout.connect(self._send_pending)
        self.queue_reload = QTimer(self)
        self.queue_reload.setSingleShot(True)
        self.queue_reload.setInterval(150)  # folds a burst of pushed changes into one reload
        self.queue_reload.timeout.connect(self.refresh)
        # keyboard flow: lane filter -> queue -> photos -> checks -> note -> actions
        QWidget.setTabOrder(self.lanes, self.queue)
        QWidget.setTabOrder(self.queue, self.view.chip_photo)
        for button in (self.newer, self.older):
            button.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        QShortcut(QKeySequence("F5"), self, self.refresh)
        QShortcut(QKeySequence("Ctrl+Z"), self, self.undo)
        QShortcut(QKeySequence("Ctrl+Q"), self, lambda: self.queue.setFocus())
        self.retranslate()

    # --- language and size ----------------------------------------------------------------

    def set_language(self, language: str) -> None:
        self.tr_.set_language(language)
        if self.language.currentData() != language:
            self.language.setCurrentIndex(list(LANGUAGES).index(language))
        self.retranslate()

    def set_large_text(self, on: bool) -> None:
        self.large_text = on
        self.setStyleSheet(booth_style(on))

    def retranslate(self) -> None:
        t = self.tr_
        self.setWindowTitle(t("booth.title"))
        self.login_page.retranslate(t)
        for index, key in enumerate(("tab.wall", "tab.referrals", "tab.history", "tab.report")):
            self.tabs.setTabText(index, t(key))
        self.queue_title.setText(t("queue.title"))
        self.text_size.setText(t("booth.large_text"))
        self.logout_button.setText(t("booth.sign_out"))
        self.undo_button.setText(t("undo.button"))
        if self.session is not None:
            self.officer_label.setText(t("booth.signed_in", officer=self.session.officer_id))
        self._fill_lanes()
        self.view.retranslate()
        self.wall.retranslate()
        self.history.retranslate()
        self.report.retranslate()
        if not hasattr(self.source, "lanes"):
            self.wall.notice.setText(t("wall.no_server"))
        self._show_queue(self.page)

    # --- login ------------------------------------------------------------------------------

    def login(self, username: str, password: str) -> None:
        self.status.setText(self.tr_("login.signing_in"))
        self.worker.submit(
            lambda: self.source.login(username, password),
            self._logged_in,
            lambda e: self.login_page.failed(user_message(e)),
        )

    def _logged_in(self, session: Any) -> None:
        assert isinstance(session, OfficerSession)
        self.session = session
        self.view.officer_id = session.officer_id
        self.officer_label.setText(self.tr_("booth.signed_in", officer=session.officer_id))
        self.status.setText("")
        self.login_page.reset()
        self.pages.setCurrentWidget(self.main_page)
        self.tabs.setCurrentWidget(self.referral_page)
        self._start_wall(session)
        self.refresh()

    def _start_wall(self, session: OfficerSession) -> None:
        start = getattr(self.source, "wall_stream", None)
        if start is None:
            self.timer.start()
            return
        self.worker.submit(lambda: self.source.lanes(session), self._initial_tiles)  # type: ignore[attr-defined]
        self.wall_stream = start(
            lambda: self.session.token if self.session else None, self._wall_signals.received.emit
        )

    def logout(self) -> None:
        self.undo_timer.stop()
        self.pending = None
        self.timer.stop()
        self._stop_wall()
        self._release_claim()
        self.session = None
        self.referrals = []
        self.page = ReferralPage((), 0)
        self.queue.clear()
        self.view.clear()
        self.pages.setCurrentWidget(self.login_page)

    def _stop_wall(self) -> None:
        if self.wall_stream is not None:
            stream, self.wall_stream = self.wall_stream, None
            stream.close()

    # --- the wall ---------------------------------------------------------------------------

    def _initial_tiles(self, items: Any) -> None:
        for item in items:
            self.wall_model.apply("lane", item)
        self.wall.show_tiles(self.wall_model.tiles, sorted(self.wall_model.tiles))
        self._fill_lanes()

    @Slot(str, object)
    def _on_wall_event(self, event: str, data: object) -> None:
        if not isinstance(data, dict):
            return
        changed = self.wall_model.apply(event, data)
        if changed:
            self.wall.show_tiles(self.wall_model.tiles, changed)
            self._fill_lanes()
        if self.wall_model.queue_version != self._queue_version:
            self._queue_version = self.wall_model.queue_version
            self.queue_reload.start()

    def lane_action(self, lane: str, action: str) -> None:
        session = self.session
        act = getattr(self.source, "lane_action", None)
        if session is None or act is None:
            return
        self.worker.submit(
            lambda: act(session, lane, action),
            lambda _r: self.status.setText(
                self.tr_("lane.sent", lane=lane, action=self.tr_(f"lane.{action}"))
            ),
            self._failed,
        )

    # --- the queue --------------------------------------------------------------------------

    def refresh(self) -> None:
        self._page(self.offset)

    def _page(self, offset: int) -> None:
        session = self.session
        if session is None:
            return
        lane = self.lane_filter
        self.worker.submit(
            lambda: self.source.page(session, kiosk=lane, offset=offset, limit=PAGE_SIZE),
            self._show_queue,
            self._failed,
        )

    def _fill_lanes(self) -> None:
        known = sorted(set(self.wall_model.tiles) | {r.kiosk_id for r in self.referrals})
        current = self.lane_filter
        self.lanes.blockSignals(True)
        self.lanes.clear()
        self.lanes.addItem(self.tr_("queue.all_lanes"), None)
        for lane in known:
            self.lanes.addItem(lane, lane)
        if current in known:
            self.lanes.setCurrentIndex(known.index(current) + 1)
        self.lanes.blockSignals(False)

    def _lane_chosen(self, _index: int) -> None:
        self.lane_filter = self.lanes.currentData()
        self.offset = 0
        self.refresh()

    def _show_queue(self, page: Any) -> None:
        assert isinstance(page, ReferralPage)
        t = self.tr_
        self.page = page
        self.offset = page.offset
        current = self.wanted  # the referral open, or being opened
        pending = self.pending[0] if self.pending else None
        self.referrals = [r for r in page.items if r.transaction_id != pending]
        self.queue.blockSignals(True)
        self.queue.clear()
        for referral in self.referrals:
            item = QListWidgetItem(self._line(referral))
            item.setData(Qt.ItemDataRole.UserRole, referral.transaction_id)
            if referral.hit:
                item.setForeground(Qt.GlobalColor.darkRed)
            self.queue.addItem(item)
            if referral.transaction_id == current:
                self.queue.setCurrentItem(item)
        self.queue.blockSignals(False)
        ids = {r.transaction_id for r in self.referrals}
        if current and current not in ids:
            self.wanted = current = None
            self.view.clear()
        last = page.offset + len(page.items)
        self.position.setText(
            t(
                "page.position",
                first=page.offset + 1 if page.items else 0,
                last=last,
                total=page.total,
            )
        )
        self.newer.setEnabled(page.offset > 0)
        self.older.setEnabled(last < page.total)
        self._fill_lanes()
        if self.session is not None and not self.pending:
            self.status.setText(t("queue.count", count=page.total))
        if (
            current is None
            and self.referrals
            and self.session is not None
            and self.queue.currentRow() < 0
        ):
            self.queue.setCurrentRow(0)

    def _line(self, r: ReferralSummary) -> str:
        t = self.tr_
        mark = f"⚠ {t('queue.hit')}  ·  " if r.hit else ""
        reasons = "; ".join(t.reason(x) for x in r.reasons)
        extra = []
        if r.document_number:
            extra.append(r.document_number)
        if r.status == "pending_approval":
            extra.append(t("queue.awaiting_approval"))
        elif r.claimed_by and (self.session is None or r.claimed_by != self.session.officer_id):
            extra.append(t("queue.taken", officer=r.claimed_by))
        tail = f"\n{'  ·  '.join(extra)}" if extra else ""
        return f"{mark}{r.display_name}\n{r.created_at:%H:%M}  ·  {r.kiosk_id}  ·  {reasons}{tail}"

    def _selected(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if item is None or self.session is None:
            return
        self.open_referral(str(item.data(Qt.ItemDataRole.UserRole)))

    def open_referral(self, transaction_id: str) -> None:
        session = self.session
        if session is None:
            return
        previous = self.claimed if self.claimed != transaction_id else None
        self.wanted = transaction_id  # a slower, earlier load must not replace this one

        def load() -> tuple[ReferralDetail, bytes | None, bytes | None, str | None]:
            if previous is not None:
                self.source.release(session, previous)
            blocked = None
            try:
                self.source.claim(session, transaction_id)
            except ReferralClaimedError as exc:
                blocked = str(exc)
            except KioskError:
                blocked = None  # awaiting approval, say: the view shows why
            detail = self.source.referral(session, transaction_id)
            chip = to_png(detail.chip_portrait, chip=True)
            return detail, chip, to_png(detail.live_capture), blocked

        def show(result: Any) -> None:
            detail, chip, live, blocked = result
            if self.wanted != transaction_id:
                if not blocked:  # claimed on the way: give it back
                    self.worker.submit(lambda: self.source.release(session, transaction_id))
                return
            self.claimed = None if blocked else transaction_id
            self.view.show_detail(detail, chip, live)
            QTimer.singleShot(0, self.view.mark_photos_seen)  # once painted on screen
            if blocked:
                self.view.block(self.tr_("queue.taken_detail", detail=blocked))

        self.worker.submit(load, show, self._failed)

    def _release_claim(self) -> None:
        session, claimed = self.session, self.claimed
        self.claimed = None
        if session is not None and claimed is not None:
            self.worker.submit(lambda: self.source.release(session, claimed))

    # --- resolving --------------------------------------------------------------------------

    def resolve(self, transaction_id: str, outcome: ReferralOutcome, note: str) -> None:
        if self.session is None or self.view.detail is None:
            return
        summary = self.view.detail.summary
        if outcome is ReferralOutcome.ADMITTED and summary.hit:
            reasons = "; ".join(self.tr_.reason(r) for r in summary.reasons)
            if not self.confirm(summary.display_name, reasons):
                return
        if self.pending is not None:
            self._send_pending()
        self.pending = (transaction_id, outcome, note)
        self.claimed = None
        seconds = max(1, round(self.undo_ms / 1000))
        self.status.setText(
            self.tr_(
                "undo.pending",
                action=self.tr_(f"outcome.{outcome.value}"),
                name=summary.display_name,
                seconds=seconds,
            )
        )
        self.undo_button.show()
        self.undo_timer.start(self.undo_ms)
        self._select_next(transaction_id)

    def _select_next(self, done: str) -> None:
        """Hide the referral just acted on and open the next one (or the one before)."""
        ids = [self.queue.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.queue.count())]
        index = ids.index(done) if done in ids else -1
        if index >= 0:
            self.queue.item(index).setHidden(True)
        rest = [i for i in range(len(ids)) if i != index and not self.queue.item(i).isHidden()]
        following = [i for i in rest if i > index] or [i for i in rest if i < index][-1:]
        self.view.clear()
        self.wanted = None
        if following:
            self.queue.setCurrentRow(following[0])
        self.queue.setFocus()

    def undo(self) -> None:
        if self.pending is None:
            return
        transaction_id = self.pending[0]
        self.undo_timer.stop()
        self.pending = None
        self.undo_button.hide()
        self.status.setText(self.tr_("undo.done"))
        for i in range(self.queue.count()):
            item = self.queue.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == transaction_id:
                item.setHidden(False)
                self.queue.setCurrentItem(item)
        self.open_referral(transaction_id)

    def _send_pending(self) -> None:
        session, pending = self.session, self.pending
        self.undo_timer.stop()
        self.undo_button.hide()
        self.pending = None
        if session is None or pending is None:
            return
        transaction_id, outcome, note = pending

        def done(result: Any) -> None:
            assert isinstance(result, Resolution)
            if result.needs_approval:
                self.ask_approval(transaction_id)
            else:
                self.status.setText(
                    self.tr_("resolved", action=self.tr_(f"outcome.{outcome.value}"))
                )
            self.refresh()

        self.worker.submit(
            lambda: self.source.resolve(session, transaction_id, outcome, note), done, self._failed
        )

    # --- four eyes --------------------------------------------------------------------------

    def ask_approval(self, transaction_id: str) -> None:
        name = next(
            (r.display_name for r in self.page.items if r.transaction_id == transaction_id),
            transaction_id,
        )
        requester = self.session.officer_id if self.session else "?"
        dialog = ApprovalDialog(self.tr_, name, requester, self)
        self.approval_dialog = dialog
        self.status.setText(self.tr_("approval.needed"))

        def answered(_code: int) -> None:
            if dialog.approved is not None:
                self.approve_with(
                    transaction_id,
                    dialog.username.text().strip(),
                    dialog.password.text(),
                    dialog.approved,
                    dialog.note.toPlainText(),
                )

        dialog.finished.connect(answered)
        dialog.open()

    def approve_with(
        self, transaction_id: str, username: str, password: str, approve: bool, note: str
    ) -> None:
        """The second officer signs in (their own account) and answers, at this booth."""

        def work() -> Resolution:
            second = self.source.login(username, password)
            return self.source.approve(second, transaction_id, approve, note)

        def done(result: Any) -> None:
            key = "approval.approved" if approve else "approval.declined"
            self.status.setText(self.tr_(key))
            self.approval_dialog = None
            self.refresh()

        self.worker.submit(work, done, self._failed)

    def answer_approval(self, transaction_id: str, approve: bool, note: str) -> None:
        """This booth's officer answers another officer's admission request."""
        session = self.session
        if session is None:
            return

        def done(_result: Any) -> None:
            self.status.setText(self.tr_("approval.approved" if approve else "approval.declined"))
            self.refresh()

        self.worker.submit(
            lambda: self.source.approve(session, transaction_id, approve, note), done, self._failed
        )

    # --- history and report -----------------------------------------------------------------

    def _tab_changed(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if widget is self.history:
            self.load_history(0)
        elif widget is self.report:
            self.load_report()

    def load_history(self, offset: int = 0) -> None:
        session = self.session
        if session is None:
            return
        self.worker.submit(
            lambda: self.source.page(
                session, status="resolved", offset=offset, limit=self.history.page_size
            ),
            lambda p: self.history.show_page(p.items, p.total, p.offset),
            self._failed,
        )

    def load_report(self) -> None:
        session = self.session
        if session is None:
            return
        self.worker.submit(
            lambda: self.source.shift_report(session), self.report.show_report, self._failed
        )
        rates = getattr(self.source, "admit_rates", None)
        if rates is not None and session.role == "supervisor":
            self.worker.submit(lambda: rates(session), self.report.show_rates, self._failed)

    # --- life cycle -------------------------------------------------------------------------

    def _failed(self, error: BaseException) -> None:
        self.status.setText(user_message(error))
        self.view._update_buttons()
        if self.approval_dialog is not None and self.approval_dialog.isVisible():
            self.approval_dialog.failed(user_message(error))

    def shutdown(self) -> None:
        if self.pending is not None:
            self._send_pending()  # closing the booth must not lose a decision
        self.timer.stop()
        self.undo_timer.stop()
        self.queue_reload.stop()
        self.wall.stop()
        self._stop_wall()
        self.worker.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
