"""The officer's login form."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class LoginPage(QWidget):
    submitted = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        card = QFrame()
        card.setObjectName("card")
        card.setFixedWidth(420)
        self.title = title = QLabel("Officer booth")
        title.setObjectName("title")
        self.subtitle = subtitle = QLabel("Sign in to review referrals from the gates.")
        subtitle.setObjectName("muted")
        self.username = QLineEdit()
        self.username.setPlaceholderText("user name")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("password")
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.button = QPushButton("Sign in")
        self.button.setObjectName("primary")
        self.button.setEnabled(False)
        self.form = form = QFormLayout()
        form.addRow("User name", self.username)
        form.addRow("Password", self.password)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(28, 28, 28, 28)
        inner.setSpacing(12)
        inner.addWidget(title)
        inner.addWidget(subtitle)
        inner.addLayout(form)
        inner.addWidget(self.error)
        inner.addWidget(self.button)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(card, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        for edit in (self.username, self.password):
            edit.textChanged.connect(self._update)
            edit.returnPressed.connect(self._submit)
        self.button.clicked.connect(self._submit)

    def retranslate(self, tr: Callable[[str], str]) -> None:
        self.title.setText(tr("booth.title"))
        self.subtitle.setText(tr("login.subtitle"))
        self.username.setPlaceholderText(tr("login.username"))
        self.password.setPlaceholderText(tr("login.password"))
        for row, key in ((0, "login.username"), (1, "login.password")):
            label = self.form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            if label is not None and isinstance(label.widget(), QLabel):
                label.widget().setText(tr(key))  # type: ignore[union-attr]
        self.button.setText(tr("login.sign_in"))

    def _update(self) -> None:
        self.button.setEnabled(bool(self.username.text().strip() and self.password.text()))

    def _submit(self) -> None:
        if self.button.isEnabled():
            self.error.setText("")
            self.button.setEnabled(False)
            self.submitted.emit(self.username.text().strip(), self.password.text())

    def failed(self, message: str) -> None:
        self.password.clear()
        self.error.setText(message)
        self._update()

    def reset(self) -> None:
        self.username.clear()
        self.password.clear()
        self.error.setText("")
