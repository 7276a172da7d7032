"""The chip photo and the live capture, large and side by side; Enter, Space or a click opens
a photo zoomed (mouse wheel, + and - change the zoom). The view records when both photos have
actually been shown, so admission of a face referral can wait for it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

PHOTO_SIZE = (280, 330)


class PhotoBox(QFrame):
    """One photo with its caption; focusable, so the keyboard flow reaches it."""

    zoom_requested = Signal()

    def __init__(self, caption: str) -> None:
        super().__init__()
        self.setObjectName("card")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.pixmap: QPixmap | None = None
        self.picture = QLabel("")
        self.picture.setObjectName("muted")
        self.picture.setWordWrap(True)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setFixedSize(*PHOTO_SIZE)
        self.caption = QLabel(caption)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setObjectName("muted")
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture)
        layout.addWidget(self.caption)

    def set_png(self, png: bytes | None, missing: str = "") -> bool:
        """Show ``png``; False (and ``missing`` shown) when there is none or it is bad."""
        pixmap = QPixmap()
        if png and pixmap.loadFromData(png):
            self.pixmap = pixmap
            self.picture.setPixmap(
                pixmap.scaled(
                    self.picture.size(),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
            self.setToolTip(self.caption.text())
            return True
        self.pixmap = None
        self.picture.clear()
        self.picture.setText(missing)
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            if self.pixmap is not None:
                self.zoom_requested.emit()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.pixmap is not None:
            self.zoom_requested.emit()
        super().mousePressEvent(event)


class ZoomDialog(QDialog):
    """Both photos at the same zoom, side by side, to compare features."""

    STEPS = (1.0, 1.5, 2.0, 3.0, 4.0)

    def __init__(
        self, pictures: list[tuple[str, QPixmap]], title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.pictures = pictures
        self.level = 1
        self.labels: list[QLabel] = []
        row = QHBoxLayout()
        for caption, _pixmap in pictures:
            column = QVBoxLayout()
            label = QLabel()
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            area = QScrollArea()
            area.setWidget(label)
            area.setWidgetResizable(True)
            area.setMinimumSize(480, 560)
            column.addWidget(area, 1)
            name = QLabel(caption)
            name.setAlignment(Qt.AlignmentFlag.AlignCenter)
            column.addWidget(name)
            row.addLayout(column)
            self.labels.append(label)
        buttons = QHBoxLayout()
        smaller, larger, close = QPushButton("−"), QPushButton("+"), QPushButton("✕")
        smaller.clicked.connect(lambda: self.zoom(-1))
        larger.clicked.connect(lambda: self.zoom(1))
        close.clicked.connect(self.accept)
        for button in (smaller, larger, close):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(row, 1)
        layout.addLayout(buttons)
        self._render()

    @property
    def factor(self) -> float:
        return self.STEPS[self.level]

    def zoom(self, step: int) -> None:
        self.level = max(0, min(len(self.STEPS) - 1, self.level + step))
        self._render()

    def _render(self) -> None:
        for label, (_caption, pixmap) in zip(self.labels, self.pictures, strict=True):
            size = pixmap.size() * self.factor * 2
            label.setPixmap(
                pixmap.scaled(
                    size,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(1)
        elif event.key() == Qt.Key.Key_Minus:
            self.zoom(-1)
        else:
            super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.zoom(1 if event.angleDelta().y() > 0 else -1)
