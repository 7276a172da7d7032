"""The traveller screens: a message screen (pictogram, title, instruction) and a camera screen
(live preview with the face outline and one guidance message). Text comes from the message
catalogue through :meth:`retranslate`; nothing here holds personal data except the preview."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

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


class CameraScreen(QWidget):
    """The live preview, a title, one guidance message at a time."""

    def __init__(self, name: str, camera: Camera | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
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
        layout.addWidget(self.instruction)
        self.guidance.hide()

    def retranslate(self, catalogue: Catalogue) -> None:
        self.title.setText(catalogue.text(f"{self.name}.title"))
        self.instruction.setText(catalogue.text(f"{self.name}.instruction"))
        if self.guidance_code is not None:
            self.guidance.setText(catalogue.guidance(self.guidance_code))

    def set_palette_colours(self, palette: Palette) -> None:
        self.preview.set_palette_colours(palette)

    def show_guidance(self, code: str, catalogue: Catalogue) -> None:
        """Replace the guidance message (one at a time)."""
        self.guidance_code = code
        self.guidance.setText(catalogue.guidance(code))
        self.guidance.show()

    def clear(self) -> None:
        self.preview.clear()
        self.guidance_code = None
        self.guidance.clear()
        self.guidance.hide()
