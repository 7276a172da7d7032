"""The log viewer: recent lines from a :class:`~kiosk.diagnostics.log_buffer.LogBuffer`,
filtered by level, logger and text, following new lines live. New lines arrive on whatever
thread logged them and are marshalled onto the GUI thread by a queued signal."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from kiosk.diagnostics.log_buffer import LEVELS, LogBuffer, LogLine

MAX_SHOWN = 2000


class LogView(QWidget):
    line_arrived = Signal(object)

    def __init__(self, buffer: LogBuffer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buffer = buffer
        self.level = QComboBox()
        self.level.addItems(LEVELS)
        self.level.setCurrentText("INFO")
        self.logger = QLineEdit()
        self.logger.setPlaceholderText("logger (prefix), e.g. hardware.gate")
        self.text = QLineEdit()
        self.text.setPlaceholderText("text contains…")
        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(MAX_SHOWN)
        self.view.setFont(QFont("DejaVu Sans Mono", 10))
        self.count = QLabel("")
        self.count.setObjectName("muted")
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Level"))
        filters.addWidget(self.level)
        filters.addWidget(self.logger, 1)
        filters.addWidget(self.text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count)
        self.level.currentTextChanged.connect(self.reload)
        self.logger.textChanged.connect(self.reload)
        self.text.textChanged.connect(self.reload)
        self.line_arrived.connect(self._append, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] | None = buffer.subscribe(self.line_arrived.emit)
        self.reload()

    def filters(self) -> tuple[str, str, str]:
        return self.level.currentText(), self.logger.text().strip(), self.text.text().strip()

    def reload(self) -> None:
        lines = self.buffer.lines(*self.filters())[-MAX_SHOWN:]
        self.view.setPlainText("\n".join(line.format() for line in lines))
        self.count.setText(f"{len(lines)} line(s) shown")
        self.view.verticalScrollBar().setValue(self.view.verticalScrollBar().maximum())

    def _append(self, line: object) -> None:
        if isinstance(line, LogLine) and line.matches(*self.filters()):
            self.view.appendPlainText(line.format())

    def shown_text(self) -> str:
        return self.view.toPlainText()

    def close_view(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
