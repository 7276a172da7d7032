"""The traveller window's bars around the screens: the "more time?" panel, and the bottom bar
with the languages and the Accessibility button, whose row of options (large text, high
contrast, seated layout, sound) opens above it. The window connects what they do."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.i18n import DEFAULT_LANGUAGE, LANGUAGES


class MoreTimePanel(QWidget):
    """Asked before the idle timeout: the traveller who is still there says so."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("moreTime")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        row = QHBoxLayout(self)
        row.setContentsMargins(32, 12, 32, 12)
        self.label = QLabel()
        self.label.setObjectName("title")
        self.button = QPushButton()
        self.button.setObjectName("primary")
        row.addStretch(1)
        row.addWidget(self.label)
        row.addSpacing(24)
        row.addWidget(self.button)
        row.addStretch(1)
        self.hide()


class AccessBar(QWidget):
    """Languages and the Accessibility button; the button opens a row of options above, so
    every label fits in every language and text size."""

    def __init__(self, *, sound: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.options_panel = QWidget()
        self.options_panel.setObjectName("moreTime")
        self.options_panel.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        options = QHBoxLayout(self.options_panel)
        options.setContentsMargins(32, 10, 32, 10)
        options.setSpacing(12)
        options.addStretch(1)
        bar = QWidget()
        bar.setObjectName("bottomBar")
        bar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        row = self.row = QHBoxLayout(bar)
        row.setContentsMargins(32, 12, 32, 16)
        row.setSpacing(12)
        self.language_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        group.setExclusive(True)
        for code, name in LANGUAGES.items():
            button = QPushButton(name)
            button.setObjectName("chip")
            button.setCheckable(True)
            button.setAccessibleName(name)
            group.addButton(button)
            self.language_buttons[code] = button
            row.addWidget(button)
        self.language_buttons[DEFAULT_LANGUAGE].setChecked(True)
        row.addStretch(1)
        self.options_button = QPushButton()
        self.options_button.setObjectName("chip")
        self.options_button.setCheckable(True)
        row.addWidget(self.options_button)
        self.large_button = QPushButton()
        self.contrast_button = QPushButton()
        self.low_reach_button = QPushButton()
        self.sound_button = QPushButton()
        self.sound_button.setVisible(sound)
        for button in (
            self.large_button,
            self.contrast_button,
            self.low_reach_button,
            self.sound_button,
        ):
            button.setObjectName("chip")
            button.setCheckable(True)
            options.addWidget(button)
        options.addStretch(1)
        self.options_panel.hide()
        column.addWidget(self.options_panel)
        column.addWidget(bar)
