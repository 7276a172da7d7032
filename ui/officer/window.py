"""The officer booth: log in, watch the live queue of referrals, open one, resolve it.

All data access goes through a :class:`~kiosk.officer.referrals.ReferralSource` (the kiosk's
own database, or the central server) on a worker thread; the source audits every call. The
queue refreshes itself every few seconds and on F5.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.officer.referrals import (
    OfficerSession,
    ReferralDetail,
    ReferralSource,
    ReferralSummary,
)
from models.errors import KioskError
from models.records import ReferralOutcome
from ui.officer.images import to_png
from ui.officer.login import LoginPage
from ui.officer.referral_view import ReferralView
from ui.theme import desk_style
from ui.workers import Worker


def user_message(error: BaseException) -> str:
    if isinstance(error, KioskError):
        return f"{error.user_message} ({error.code})"
    return f"Unexpected error ({type(error).__name__})"


class OfficerWindow(QMainWindow):
    def __init__(self, source: ReferralSource, *, refresh_ms: int = 5000) -> None:
        super().__init__()
        self.source = source
        self.session: OfficerSession | None = None
        self.referrals: list[ReferralSummary] = []
        self.worker = Worker("officer", parent=self)
        self.setWindowTitle("Officer booth")
        self.setStyleSheet(desk_style())
        self.login_page = LoginPage()
        self.login_page.submitted.connect(self.login)
        self.view = ReferralView()
        self.view.resolve_requested.connect(self.resolve)
        self.queue = QListWidget()
        self.queue.setMinimumWidth(300)
        self.queue.currentItemChanged.connect(self._selected)
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.officer_label = QLabel("")
        self.officer_label.setObjectName("muted")
        refresh = QPushButton("Refresh (F5)")
        refresh.clicked.connect(self.refresh)
        logout = QPushButton("Sign out")
        logout.clicked.connect(self.logout)

        queue_panel = QWidget()
        queue_layout = QVBoxLayout(queue_panel)
        title = QLabel("Referrals")
        title.setObjectName("title")
        queue_layout.addWidget(title)
        queue_layout.addWidget(self.officer_label)
        queue_layout.addWidget(self.queue, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(refresh)
        buttons.addWidget(logout)
        queue_layout.addLayout(buttons)
        queue_layout.addWidget(self.status)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(queue_panel)
        splitter.addWidget(self.view)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([320, 900])

        self.pages = QStackedWidget()
        self.pages.setObjectName("deskRoot")
        self.pages.addWidget(self.login_page)
        self.pages.addWidget(splitter)
        self.main_page = splitter
        self.setCentralWidget(self.pages)

        self.timer = QTimer(self)
        self.timer.setInterval(refresh_ms)
        self.timer.timeout.connect(self.refresh)
        QShortcut(QKeySequence("F5"), self, self.refresh)
        self.pending_selection: str | None = None

    # --- login --------------------------------------------------------------------------

    def login(self, username: str, password: str) -> None:
        self.status.setText("Signing in…")
        self.worker.submit(
            lambda: self.source.login(username, password),
            self._logged_in,
            lambda e: self.login_page.failed(user_message(e)),
        )

    def _logged_in(self, session: Any) -> None:
        assert isinstance(session, OfficerSession)
        self.session = session
        self.officer_label.setText(f"Signed in as {session.officer_id}")
        self.login_page.reset()
        self.pages.setCurrentWidget(self.main_page)
        self.timer.start()
        self.refresh()

    def logout(self) -> None:
        self.timer.stop()
        self.session = None
        self.referrals = []
        self.queue.clear()
        self.view.clear()
        self.pages.setCurrentWidget(self.login_page)

    # --- the queue ----------------------------------------------------------------------

    def refresh(self) -> None:
        session = self.session
        if session is None:
            return
        self.worker.submit(
            lambda: self.source.open_referrals(session), self._show_queue, self._failed
        )

    def _show_queue(self, referrals: Any) -> None:
        current = self.view.detail.summary.transaction_id if self.view.detail else None
        self.referrals = list(referrals)
        self.queue.blockSignals(True)
        self.queue.clear()
        for referral in self.referrals:
            reasons = ", ".join(r.replace("_", " ") for r in referral.reasons)
            item = QListWidgetItem(
                f"{referral.display_name}\n{referral.created_at:%H:%M}  ·  {referral.kiosk_id}"
                f"  ·  {reasons}"
            )
            item.setData(Qt.ItemDataRole.UserRole, referral.transaction_id)
            self.queue.addItem(item)
            if referral.transaction_id == current:
                self.queue.setCurrentItem(item)
        self.queue.blockSignals(False)
        if current and current not in {r.transaction_id for r in self.referrals}:
            self.view.clear()
        self.status.setText(f"{len(self.referrals)} open referral(s)")

    def _selected(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if item is None or self.session is None:
            return
        self.open_referral(str(item.data(Qt.ItemDataRole.UserRole)))

    def open_referral(self, transaction_id: str) -> None:
        session = self.session
        if session is None:
            return

        def load() -> tuple[ReferralDetail, bytes | None, bytes | None]:
            detail = self.source.referral(session, transaction_id)
            return detail, to_png(detail.chip_portrait), to_png(detail.live_capture)

        self.worker.submit(load, lambda r: self.view.show_detail(*r), self._failed)

    # --- resolving ----------------------------------------------------------------------

    def resolve(self, transaction_id: str, outcome: ReferralOutcome, note: str) -> None:
        session = self.session
        if session is None:
            return
        for button in self.view.buttons.values():
            button.setEnabled(False)

        def done(_: Any) -> None:
            self.status.setText(f"{transaction_id}: {outcome.value.replace('_', ' ')}")
            self.view.clear()
            self.refresh()

        self.worker.submit(
            lambda: self.source.resolve(session, transaction_id, outcome, note), done, self._failed
        )

    def _failed(self, error: BaseException) -> None:
        self.status.setText(user_message(error))
        self.view._update_buttons()

    # --- life cycle ---------------------------------------------------------------------

    def shutdown(self) -> None:
        self.timer.stop()
        self.worker.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
