"""Families on the traveller screens: the choice on the welcome screen ("Travelling as a
family", how many passports), the progress shown during the family transaction ("Family:
passport 2 of 3"), and the reset for the next traveller.

The choice is handed to the engine (:meth:`kiosk.session.engine.SessionEngine.start_family`):
the next passport placed starts the family transaction. It is offered only when the
deployment's policy allows families and the gate counts persons
(``SessionEngine.family.limit``). The "Family: next passport" screen itself is a message
screen of the window, shown for the engine's ``family_next`` state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.session.engine import SessionEngine
from kiosk.session.events import State
from ui.i18n import Catalogue

if TYPE_CHECKING:
    from ui.traveller.window import TravellerWindow


class FamilyChoice(QWidget):
    """'Travelling as a family' opens the number of passports (2 .. ``limit``) and 'Travelling
    alone'; the chosen size is then confirmed in words."""

    def __init__(self, limit: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.limit = limit
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(12)
        self.open_button = QPushButton()
        self.open_button.setObjectName("chip")
        self.open_button.setCheckable(True)
        self.open_button.toggled.connect(self._toggle)
        column.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignHCenter)
        self.counts = QWidget()
        row = QHBoxLayout(self.counts)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(12)
        self.question = QLabel()
        self.question.setObjectName("hint")
        row.addStretch(1)
        row.addWidget(self.question)
        self.size_buttons: dict[int, QPushButton] = {}
        for size in range(2, limit + 1):
            button = QPushButton(str(size))
            button.setObjectName("chip")
            self.size_buttons[size] = button
            row.addWidget(button)
        self.alone_button = QPushButton()
        self.alone_button.setObjectName("chip")
        row.addWidget(self.alone_button)
        row.addStretch(1)
        self.counts.hide()
        column.addWidget(self.counts)
        self.status = QLabel()
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.status.hide()
        column.addWidget(self.status)

    def _toggle(self, on: bool) -> None:
        self.counts.setVisible(on)

    def retranslate(self, catalogue: Catalogue, size: int) -> None:
        self.open_button.setText(catalogue.text("family.button"))
        self.question.setText(catalogue.text("family.question"))
        self.alone_button.setText(catalogue.text("family.alone"))
        for count, button in self.size_buttons.items():
            button.setAccessibleName(f"{catalogue.text('family.button')}: {count}")
        self.status.setText(catalogue.text("family.chosen").format(count=size) if size else "")
        self.status.setVisible(size > 1)


class FamilyFlow:
    """Connects the traveller window with the engine's family transaction."""

    def __init__(self, window: TravellerWindow, engine: SessionEngine | None) -> None:
        self.window, self.engine = window, engine
        self.size = 0  # the family announced (0: travelling alone)
        self.progress: tuple[int, int] | None = None  # member, members
        limit = engine.family.limit if engine is not None else 0
        self.choice = FamilyChoice(limit)
        self.choice.setVisible(limit >= 2)
        for size, button in self.choice.size_buttons.items():
            button.clicked.connect(lambda _=False, n=size: self.choose(n))
        self.choice.alone_button.clicked.connect(self.alone)
        welcome = window.screens["welcome"]
        welcome_layout = welcome.layout()
        assert isinstance(welcome_layout, QVBoxLayout)
        welcome_layout.insertWidget(welcome_layout.count() - 1, self.choice)
        self.badge = QLabel()
        self.badge.setObjectName("familyBanner")
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.badge.hide()
        window.bridge.family_progress.connect(self.on_progress)
        window.bridge.state_entered.connect(self.on_state)

    def choose(self, size: int) -> None:
        """A family of ``size``: the next passport placed starts its transaction."""
        if self.engine is not None and self.engine.start_family(size):
            self.size = size
            self.choice.open_button.setChecked(False)
        self.retranslate(self.window.catalogue)

    def alone(self) -> None:
        if self.engine is not None:
            self.engine.end_family()
        self.size = 0
        self.choice.open_button.setChecked(False)
        self.retranslate(self.window.catalogue)

    def on_progress(self, member: int, members: int) -> None:
        self.progress = (member, members)
        self.retranslate(self.window.catalogue)
        self.badge.show()

    def on_state(self, state: str) -> None:
        """The next passport is asked for: the progress counts the member to come."""
        if state == State.FAMILY_NEXT.value and self.progress is not None:
            member, members = self.progress
            self.on_progress(min(member + 1, members), members)

    def retranslate(self, catalogue: Catalogue) -> None:
        self.choice.retranslate(catalogue, self.size)
        if self.progress is not None:
            member, members = self.progress
            text = catalogue.text("family.progress").format(member=member, members=members)
            self.badge.setText(text)

    def reset(self) -> None:
        """The next traveller: alone, no progress shown."""
        if self.size and self.progress is None and self.engine is not None:
            self.engine.end_family()
        self.size = 0
        self.progress = None
        self.badge.hide()
        self.choice.open_button.setChecked(False)
        self.retranslate(self.window.catalogue)
