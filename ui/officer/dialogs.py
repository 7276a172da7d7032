"""The booth's dialogs: the confirmation before admitting a hit, and the second officer's
approval (their own user name and password, signed in just for this)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ui.i18n.desk_catalogue import DeskCatalogue


def confirm_admit_hit(parent: QWidget, tr: DeskCatalogue, name: str, reasons: str) -> bool:
    """Ask before admitting a traveller referred for a hit; No is the default."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(tr("confirm.title"))
    box.setText(tr("confirm.text", name=name, reasons=reasons))
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes


class ApprovalDialog(QDialog):
    """A second officer approves (or declines) an admission with their own login."""

    def __init__(
        self, tr: DeskCatalogue, name: str, requester: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("deskRoot")
        self.setWindowTitle(tr("approval.title"))
        text = QLabel(tr("approval.text", name=name, officer=requester))
        text.setWordWrap(True)
        self.username = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.note = QPlainTextEdit()
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(60)
        self.error = QLabel("")
        self.error.setObjectName("error")
        form = QFormLayout()
        form.addRow(tr("login.username"), self.username)
        form.addRow(tr("login.password"), self.password)
        form.addRow(tr("approval.note"), self.note)
        self.buttons = QDialogButtonBox()
        self.approve = self.buttons.addButton(
            tr("approval.approve"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.decline = self.buttons.addButton(
            tr("approval.decline"), QDialogButtonBox.ButtonRole.DestructiveRole
        )
        self.buttons.addButton(tr("approval.later"), QDialogButtonBox.ButtonRole.RejectRole)
        self.approved: bool | None = None
        self.approve.clicked.connect(lambda: self._answer(True))
        self.decline.clicked.connect(lambda: self._answer(False))
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def _answer(self, approve: bool) -> None:
        if not (
            self.username.text().strip()
            and self.password.text()
            and self.note.toPlainText().strip()
        ):
            return
        self.approved = approve
        self.accept()

    def failed(self, message: str) -> None:
        self.error.setText(message)
