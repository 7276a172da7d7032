"""Four eyes at the booth: an admission that needs a second officer's approval.

When the source answers a resolution with ``needs_approval``, :meth:`FourEyes.ask` opens the
approval dialog; a second officer signs in there with their own account and approves or
declines (:meth:`FourEyes.approve_with`), at this booth. An officer who opens a referral
awaiting someone else's admission answers it from the referral view (:meth:`FourEyes.answer`).
The source refuses the requester's own approval; every answer is audited by the source.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QWidget

from kiosk.officer.referrals import ReferralKey, ReferralSource, Resolution
from ui.i18n.desk_catalogue import DeskCatalogue
from ui.officer.dialogs import ApprovalDialog
from ui.workers import Worker


class FourEyes:
    def __init__(
        self,
        parent: QWidget,
        source: ReferralSource,
        worker: Worker,
        tr: DeskCatalogue,
        *,
        say: Callable[[str], None],
        done: Callable[[], None],
        failed: Callable[[BaseException], None],
    ) -> None:
        """``say`` shows a status line, ``done`` runs after an answer (the queue reloads),
        ``failed`` shows an error."""
        self.parent = parent
        self.source = source
        self.worker = worker
        self.tr_ = tr
        self._say, self._done, self._failed = say, done, failed
        self.dialog: ApprovalDialog | None = None

    def ask(self, key: ReferralKey, name: str, requester: str) -> None:
        dialog = ApprovalDialog(self.tr_, name, requester, self.parent)
        self.dialog = dialog
        self._say(self.tr_("approval.needed"))

        def answered(_code: int) -> None:
            if dialog.approved is not None:
                self.approve_with(
                    key,
                    dialog.username.text().strip(),
                    dialog.password.text(),
                    dialog.approved,
                    dialog.note.toPlainText(),
                )

        dialog.finished.connect(answered)
        dialog.open()

    def approve_with(
        self, key: ReferralKey, username: str, password: str, approve: bool, note: str
    ) -> None:
        """The second officer signs in (their own account) and answers, at this booth."""

        def work() -> Resolution:
            second = self.source.login(username, password)
            return self.source.approve(
                second, key.transaction_id, approve, note, kiosk_id=key.kiosk_id
            )

        def done(_result: Any) -> None:
            self._say(self.tr_("approval.approved" if approve else "approval.declined"))
            self.dialog = None
            self._done()

        self.worker.submit(work, done, self._failed)

    def answer(self, session: Any, key: ReferralKey, approve: bool, note: str) -> None:
        """This booth's officer answers another officer's admission request."""

        def done(_result: Any) -> None:
            self._say(self.tr_("approval.approved" if approve else "approval.declined"))
            self._done()

        self.worker.submit(
            lambda: self.source.approve(
                session, key.transaction_id, approve, note, kiosk_id=key.kiosk_id
            ),
            done,
            self._failed,
        )
