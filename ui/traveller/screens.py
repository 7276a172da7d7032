"""The traveller screens: a message screen (pictogram, title, instruction) and a camera screen
(live preview with the face outline and one guidance message). Text comes from the message
catalogue through :meth:`retranslate`; nothing here holds personal data except the preview."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hardware.camera import Camera
from ui.i18n import Catalogue
from ui.theme import Palette
from ui.traveller.pictograms import Pictogram
from ui.traveller.preview import CameraPreview


def _label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter)
    return label


class MessageScreen(QWidget):
    """A pictogram, a title, an instruction, and optionally a hint, a progress bar, a button."""

    def __init__(
        self,
        name: str,
        pictogram: str,
        *,
        hint: bool = False,
        progress: bool = False,
        button_key: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.name = name
        self.animated = pictogram in ("chip", "wait")
        self.pictogram = Pictogram(pictogram)
        self.title = _label("title")
        self.instruction = _label("instruction")
        self.hint = _label("hint") if hint else None
        self.progress: QProgressBar | None = None
        self.button: QPushButton | None = None
        self._button_key = button_key
        layout = QVBoxLayout(self)
        layout.setContentsMargins(80, 32, 80, 48)
        layout.setSpacing(20)
        layout.addWidget(self.pictogram, 5)
        layout.addWidget(self.title)
        layout.addWidget(self.instruction)
        if self.hint is not None:
            layout.addWidget(self.hint)
        if progress:
            self.progress = QProgressBar()
            self.progress.setTextVisible(False)
            self.progress.setRange(0, 0)  # busy until the engine reports a fraction
            self.progress.setMaximumWidth(560)
            layout.addWidget(self.progress, 0, Qt.AlignmentFlag.AlignHCenter)
        if button_key is not None:
            self.button = QPushButton()
            self.button.setObjectName("primary")
            self.button.setCursor(Qt.CursorShape.PointingHandCursor)
            layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)

    def retranslate(self, catalogue: Catalogue) -> None:
        self.title.setText(catalogue.text(f"{self.name}.title"))
        self.instruction.setText(catalogue.text(f"{self.name}.instruction"))
        if self.hint is not None:
            self.hint.setText(catalogue.text(f"{self.name}.hint"))
        if self.button is not None and self._button_key is not None:
            self.button.setText(catalogue.text(self._button_key))

    def set_palette_colours(self, palette: Palette) -> None:
        self.pictogram.set_palette_colours(palette)

    def set_fraction(self, fraction: float | None) -> None:
        if self.progress is None:
            return
        if fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(round(max(0.0, min(1.0, fraction)) * 100))

    def clear(self) -> None:
        self.set_fraction(None)


# How long a guidance message stays on screen at least before another replaces it: long
# enough to read a short sentence (and hear it begin); a retry message stays longer.
MIN_MESSAGE_MS = 1_500
MIN_RETRY_MESSAGE_MS = 3_000


class CameraScreen(QWidget):
    """The live preview, a title, one guidance message at a time.

    A message stays at least ``min_message_ms`` (``MIN_RETRY_MESSAGE_MS`` for ``retry``);
    a different message arriving meanwhile waits, and only the newest waiting one is shown
    when the time is up. The outline's colour and the message come from the same code.
    ``guidance_shown`` is emitted when a message is really put on screen (it is spoken then).
    """

    guidance_shown = Signal(str)

    def __init__(
        self,
        name: str,
        camera: Camera | None,
        parent: QWidget | None = None,
        *,
        min_message_ms: int = MIN_MESSAGE_MS,
    ) -> None:
        super().__init__(parent)
        self.name = name
        self.min_message_ms = min_message_ms
        self.pending_code: str | None = None
        self._catalogue: Catalogue | None = None
        self.hold = QTimer(self)
        self.hold.setSingleShot(True)
        self.hold.timeout.connect(self._hold_over)
        self.animated = False
        self.title = _label("title")
        self.instruction = _label("instruction")
        self.preview = CameraPreview(camera)
        self.guidance = _label("guidance")
        self.guidance.setWordWrap(False)  # one short message, never broken over lines
        self.guidance_code: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(80, 24, 80, 32)
        layout.setSpacing(16)
        layout.addWidget(self.title)
        layout.addWidget(self.preview, 6)
        layout.addWidget(self.guidance, 0, Qt.AlignmentFlag.AlignHCenter)
        row = QHBoxLayout()
        row.setSpacing(24)
        row.addStretch(1)
        self.reminders = [Pictogram("no_glasses"), Pictogram("no_hat")]
        for reminder in self.reminders:
            reminder.setMinimumSize(64, 64)
            reminder.setFixedSize(72, 72)
            row.addWidget(reminder)
        row.addWidget(self.instruction, 4)
        row.addStretch(1)
        layout.addLayout(row)
        self.guidance.hide()

    def retranslate(self, catalogue: Catalogue) -> None:
        self.title.setText(catalogue.text(f"{self.name}.title"))
        self.instruction.setText(catalogue.text(f"{self.name}.instruction"))
        if self.guidance_code is not None:
            self.guidance.setText(catalogue.guidance(self.guidance_code))

    def set_palette_colours(self, palette: Palette) -> None:
        self.preview.set_palette_colours(palette)
        for reminder in self.reminders:
            reminder.set_palette_colours(palette)

    def show_guidance(self, code: str, catalogue: Catalogue) -> None:
        """Show ``code`` now, or once the current message has been up long enough."""
        self._catalogue = catalogue
        if code == self.guidance_code:
            self.pending_code = None
            return
        if self.hold.isActive():
            self.pending_code = code
            return
        self._display(code, catalogue)

    def _display(self, code: str, catalogue: Catalogue) -> None:
        self.guidance_code = code
        self.pending_code = None
        self.guidance.setText(catalogue.guidance(code))
        self.guidance.show()
        self.preview.set_guidance(code)
        self.hold.start(MIN_RETRY_MESSAGE_MS if code == "retry" else self.min_message_ms)
        self.guidance_shown.emit(code)

    def _hold_over(self) -> None:
        if self.pending_code is not None and self._catalogue is not None:
            self._display(self.pending_code, self._catalogue)

    def clear(self) -> None:
        self.hold.stop()
        self.pending_code = None
        self.preview.clear()
        self.guidance_code = None
        self.guidance.clear()
        self.guidance.hide()
