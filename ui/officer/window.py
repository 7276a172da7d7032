"""The officer booth: the live wall of the site's lanes, the referral queue (hits first,
newest first, paged, filtered by lane) with one referral open, the history and the shift
report.

All data access goes through a :class:`~kiosk.officer.referrals.ReferralSource` (the kiosk's
own database, or the central server) on worker threads; the source audits every call. With
the central server the wall and the queue change when the server pushes a change (server-sent
events), never by polling; the standalone kiosk's queue refreshes every ``refresh_ms``.

The queue panel is :mod:`ui.officer.queue_panel`, the wall's stream :mod:`ui.officer.wall_link`
(an expired sign-in brings the officer back to the login page), the second officer's approval
:mod:`ui.officer.four_eyes`. A referral is named by its kiosk and transaction id throughout.

Working a referral: selecting it claims it (other booths see it taken), an action needs a
note, admitting a hit asks for confirmation, the resolution is sent only after an undo window
(Ctrl+Z), the next referral is selected at once, and an admission that needs four eyes asks a
second officer to sign in and approve.

A family's referrals are one line and one view (:mod:`kiosk.officer.families`): opening it
claims every member, and one decision with one note resolves each member's referral in turn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.officer.families import FamilyKey, LineKey, claim_line, covers, member_keys, release_line
from kiosk.officer.referrals import (
    OfficerSession,
    ReferralDetail,
    ReferralKey,
    ReferralPage,
    ReferralSource,
    ReferralSummary,
    Resolution,
)
from models.errors import KioskError
from models.records import ReferralOutcome
from ui.i18n import LANGUAGES
from ui.i18n.desk_catalogue import DeskCatalogue
from ui.officer.dialogs import ApprovalDialog, confirm_admit_hit
from ui.officer.family_desk import send_family
from ui.officer.four_eyes import FourEyes
from ui.officer.images import to_png
from ui.officer.login import LoginPage
from ui.officer.queue_panel import QueuePanel
from ui.officer.referral_view import ReferralView
from ui.officer.reports_view import HistoryView, ShiftReportView
from ui.officer.style import booth_style
from ui.officer.wall_link import WallLink
from ui.officer.wall_view import WallView
from ui.workers import Worker

PAGE_SIZE = 50
UNDO_MS = 5000


def user_message(error: BaseException) -> str:
    if isinstance(error, KioskError):
        return f"{error.user_message} ({error.code})"
    return f"Unexpected error ({type(error).__name__})"


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
        self.pending: tuple[LineKey, ReferralOutcome, str] | None = None
        self.claimed: LineKey | None = None
        self.wanted: LineKey | None = None
        self.wall_link = WallLink(source, self.worker, self)
        self.wall_link.tiles_changed.connect(self._tiles_changed)
        self.wall_link.expired.connect(self.session_expired)
        self.four_eyes = FourEyes(self, source, self.worker, self.tr_, say=self.status_text,
                                  done=self.refresh, failed=self._failed)  # fmt: skip
        self.setStyleSheet(booth_style())

        self.login_page = LoginPage()
        self.login_page.submitted.connect(self.login)
        self.view = ReferralView(self.tr_)
        self.view.resolve_requested.connect(self.resolve)
        self.view.approval_requested.connect(self.answer_approval)
        self.queue_panel = panel = QueuePanel(self.tr_)
        self.queue = panel.list
        panel.selected.connect(self._selected)
        panel.lane_chosen.connect(self._lane_chosen)
        panel.newer_requested.connect(lambda: self._page(max(0, self.offset - PAGE_SIZE)))
        panel.older_requested.connect(lambda: self._page(self.offset + PAGE_SIZE))
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

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(panel)
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
        self.wall_link.queue_changed.connect(self.queue_reload.start)
        # keyboard flow: lane filter -> queue -> photos -> checks -> note -> actions
        QWidget.setTabOrder(panel.lanes, self.queue)
        QWidget.setTabOrder(self.queue, self.view.chip_photo)
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
        self.queue_panel.retranslate()
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
        if not self.wall_link.available:
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
        if not self.wall_link.start(session, self._token):
            self.timer.start()  # the standalone kiosk's queue: nothing pushes changes

    def _token(self) -> str | None:
        return self.session.token if self.session else None

    def session_expired(self) -> None:
        """The officer's sign-in expired (the wall's stream said so): sign in again. A
        resolution still in its undo window was not sent; the referral stays open."""
        if self.session is None:
            return
        self.logout()
        self.login_page.failed(self.tr_("login.expired"))

    def logout(self) -> None:
        self.undo_timer.stop()
        self.undo_button.hide()
        self.pending = None
        self.timer.stop()
        self.wall_link.stop()
        self._release_claim()
        self.session = None
        self.referrals = []
        self.page = ReferralPage((), 0)
        self.queue.clear()
        self.view.clear()
        self.pages.setCurrentWidget(self.login_page)

    def status_text(self, text: str) -> None:
        self.status.setText(text)

    # --- the wall ---------------------------------------------------------------------------

    @property
    def wall_model(self) -> Any:
        return self.wall_link.model

    def _tiles_changed(self, lanes: list[str]) -> None:
        self.wall.show_tiles(self.wall_link.model.tiles, lanes)
        self._fill_lanes()

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
        known = sorted(set(self.wall_link.model.tiles) | {r.kiosk_id for r in self.referrals})
        self.queue_panel.fill_lanes(known, self.lane_filter)

    def _lane_chosen(self, lane: object) -> None:
        self.lane_filter = lane if isinstance(lane, str) else None
        self.offset = 0
        self.refresh()

    def _show_queue(self, page: Any) -> None:
        assert isinstance(page, ReferralPage)
        self.page = page
        self.offset = page.offset
        current = self.wanted  # the referral open, or being opened
        pending = self.pending[0] if self.pending else None
        self.referrals = [r for r in page.items if not covers(pending, r.key)]
        officer = self.session.officer_id if self.session else None
        if not self.queue_panel.show_page(page, self.referrals, current, officer) and current:
            self.wanted = current = None
            self.view.clear()
        self._fill_lanes()
        if self.session is not None and not self.pending:
            self.status.setText(self.tr_("queue.count", count=page.total))
        if (
            current is None
            and self.referrals
            and self.session is not None
            and self.queue.currentRow() < 0
        ):
            self.queue.setCurrentRow(0)

    def _selected(self, key: object) -> None:
        if isinstance(key, ReferralKey | FamilyKey) and self.session is not None:
            self.open_referral(key)

    def key_of(self, transaction_id: str) -> ReferralKey:
        """The key of a line of the queue shown by its transaction id (first found)."""
        return next(r.key for r in self.referrals if r.transaction_id == transaction_id)

    def open_referral(self, key: LineKey) -> None:
        """Open a referral, or every member of a family: claim, load and show."""
        session = self.session
        if session is None:
            return
        previous = self.claimed if self.claimed != key else None
        self.wanted = key  # a slower, earlier load must not replace this one
        source = self.source

        def load() -> tuple[list[tuple[ReferralDetail, bytes | None, bytes | None]], str | None]:
            if previous is not None:
                release_line(source, session, previous)
            blocked = claim_line(source, session, key)
            members = []
            for member in member_keys(key):
                detail = source.referral(session, member.transaction_id, kiosk_id=member.kiosk_id)
                chip = to_png(detail.chip_portrait, chip=True)
                members.append((detail, chip, to_png(detail.live_capture)))
            return members, blocked

        def show(result: Any) -> None:
            members, blocked = result
            if self.wanted != key:
                if not blocked:  # claimed on the way: give it back
                    self.worker.submit(lambda: release_line(source, session, key))
                return
            self.claimed = None if blocked else key
            if isinstance(key, FamilyKey):
                self.view.show_family(key, members)
            else:
                self.view.show_detail(*members[0])
            QTimer.singleShot(0, self.view.mark_photos_seen)  # once painted on screen
            if blocked:
                self.view.block(self.tr_("queue.taken_detail", detail=blocked))

        self.worker.submit(load, show, self._failed)

    def _release_claim(self) -> None:
        session, claimed = self.session, self.claimed
        self.claimed = None
        if session is not None and claimed is not None:
            self.worker.submit(lambda: release_line(self.source, session, claimed))

    # --- resolving --------------------------------------------------------------------------

    def resolve(self, key: LineKey, outcome: ReferralOutcome, note: str) -> None:
        """The decision on the referral (or the family) open: sent after the undo window."""
        if self.session is None or self.view.detail is None:
            return
        name, hit, reasons_ = self.view.subject()
        if outcome is ReferralOutcome.ADMITTED and hit:
            reasons = "; ".join(self.tr_.reason(r) for r in reasons_)
            if not self.confirm(name, reasons):
                return
        if self.pending is not None:
            self._send_pending()
        self.pending = (key, outcome, note)
        self.claimed = None
        seconds = max(1, round(self.undo_ms / 1000))
        self.status.setText(
            self.tr_(
                "undo.pending",
                action=self.tr_(f"outcome.{outcome.value}"),
                name=name,
                seconds=seconds,
            )
        )
        self.undo_button.show()
        self.undo_timer.start(self.undo_ms)
        self.view.clear()
        self.wanted = None
        self.queue_panel.select_next(key)

    def undo(self) -> None:
        if self.pending is None:
            return
        key = self.pending[0]
        self.undo_timer.stop()
        self.pending = None
        self.undo_button.hide()
        self.status.setText(self.tr_("undo.done"))
        self.queue_panel.reveal(key)
        self.open_referral(key)

    def _send_pending(self) -> None:
        session, pending = self.session, self.pending
        self.undo_timer.stop()
        self.undo_button.hide()
        self.pending = None
        if session is None or pending is None:
            return
        key, outcome, note = pending
        if isinstance(key, FamilyKey):
            send_family(self, session, key, outcome, note)
            return

        def done(result: Any) -> None:
            assert isinstance(result, Resolution)
            if result.needs_approval:
                self.ask_approval(key)
            else:
                self.status.setText(
                    self.tr_("resolved", action=self.tr_(f"outcome.{outcome.value}"))
                )
            self.refresh()

        self.worker.submit(
            lambda: self.source.resolve(
                session, key.transaction_id, outcome, note, kiosk_id=key.kiosk_id
            ),
            done,
            self._failed,
        )

    # --- four eyes --------------------------------------------------------------------------

    @property
    def approval_dialog(self) -> ApprovalDialog | None:
        return self.four_eyes.dialog

    def ask_approval(self, key: ReferralKey) -> None:
        name = next((r.display_name for r in self.page.items if r.key == key), key.transaction_id)
        requester = self.session.officer_id if self.session else "?"
        self.four_eyes.ask(key, name, requester)

    def approve_with(
        self, key: ReferralKey, username: str, password: str, approve: bool, note: str
    ) -> None:
        """The second officer signs in (their own account) and answers, at this booth."""
        self.four_eyes.approve_with(key, username, password, approve, note)

    def answer_approval(self, key: ReferralKey, approve: bool, note: str) -> None:
        """This booth's officer answers another officer's admission request."""
        if self.session is not None:
            self.four_eyes.answer(self.session, key, approve, note)

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
        dialog = self.four_eyes.dialog
        if dialog is not None and dialog.isVisible():
            dialog.failed(user_message(error))

    def shutdown(self) -> None:
        if self.pending is not None:
            self._send_pending()  # closing the booth must not lose a decision
        self.timer.stop()
        self.undo_timer.stop()
        self.queue_reload.stop()
        self.wall.stop()
        self.wall_link.stop()
        self.worker.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
