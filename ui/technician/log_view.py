"""The log viewer: recent lines from a :class:`~kiosk.diagnostics.log_buffer.LogBuffer`,
filtered by level, logger and text, following new lines live. New lines arrive on whatever
thread logged them and are marshalled onto the GUI thread by a queued signal. The viewer's
words are in the console's language; the log lines are the program's own, in English."""

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
from ui.i18n.desk_catalogue import DeskCatalogue

MAX_SHOWN = 2000


class LogView(QWidget):
    line_arrived = Signal(object)

    def __init__(
        self, buffer: LogBuffer, tr: DeskCatalogue | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.tr_ = tr or DeskCatalogue()
        self.buffer = buffer
        self.level = QComboBox()
        self.level.addItems(LEVELS)
        self.level.setCurrentText("INFO")
        self.logger = QLineEdit()
        self.text = QLineEdit()
        self.level_label = QLabel("")
        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(MAX_SHOWN)
        self.view.setFont(QFont("DejaVu Sans Mono", 10))
        self.count = QLabel("")
        self.count.setObjectName("muted")
        filters = QHBoxLayout()
        filters.addWidget(self.level_label)
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
        self.shown = 0
        self.retranslate()
        self.reload()

    def retranslate(self) -> None:
        t = self.tr_
        self.level_label.setText(t("log.level"))
        self.logger.setPlaceholderText(t("log.logger_hint"))
        self.text.setPlaceholderText(t("log.text_hint"))
        self.count.setText(t("log.count", count=self.shown))

    def filters(self) -> tuple[str, str, str]:
        return self.level.currentText(), self.logger.text().strip(), self.text.text().strip()

    def reload(self) -> None:
        lines = self.buffer.lines(*self.filters())[-MAX_SHOWN:]
        self.view.setPlainText("\n".join(line.format() for line in lines))
        self.shown = len(lines)
        self.count.setText(self.tr_("log.count", count=self.shown))
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
