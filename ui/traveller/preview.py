"""The live camera preview with the face outline.

A QTimer on the GUI thread polls ``camera.latest_frame()`` (cheap: it returns the newest
frame, or None) and repaints; the camera's own capture thread does the device I/O. The frame
is shown mirrored, like a mirror, and outside the oval it is dimmed so the traveller sees
where to put the face. The whole frame is shown (letterboxed, never cropped): what the
traveller sees is what the face detector sees, so "move closer" is true of the picture. The
outline's colour follows the guidance code shown under it: green when the face is right
("ok", "hold_still"), the attention colour when the traveller must do something, neutral
before any guidance. :meth:`CameraPreview.clear` forgets the picture (it is personal data).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from hardware.camera import Camera
from ui.theme import CALM, Palette

POLL_MS = 66  # about 15 frames a second is plenty for a preview
GOOD_GUIDANCE = frozenset({"ok", "hold_still"})


def frame_to_image(array: object) -> QImage:
    """An 8-bit BGR numpy frame as a QImage that owns its pixels."""
    import numpy as np

    frame = np.ascontiguousarray(array, dtype=np.uint8)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError("expected an (h, w, 3) BGR frame")
    height, width = frame.shape[:2]
    image = QImage(frame.data, width, height, 3 * width, QImage.Format.Format_BGR888)
    return image.copy()


class CameraPreview(QWidget):
    def __init__(
        self, camera: Camera | None, parent: QWidget | None = None, *, outline: bool = True
    ) -> None:
        super().__init__(parent)
        self.camera = camera
        self.outline = outline
        self.palette_colours: Palette = CALM
        self.image: QImage | None = None
        self.guidance_code: str | None = None
        self._last_index = -1
        self.frames_shown = 0
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def start(self) -> None:
        if self.camera is not None and not self.timer.isActive():
            self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def clear(self) -> None:
        """Stop polling and forget the last picture."""
        self.timer.stop()
        self.image = None
        self.guidance_code = None
        self._last_index = -1
        self.update()

    def set_guidance(self, code: str | None) -> None:
        self.guidance_code = code
        self.update()

    def outline_colour(self) -> str:
        """The outline's colour for the current guidance (the same code as the message)."""
        p = self.palette_colours
        if self.guidance_code is None:
            return p.pictogram
        if self.guidance_code in GOOD_GUIDANCE:
            return p.success
        return p.attention

    def set_palette_colours(self, palette: Palette) -> None:
        self.palette_colours = palette
        self.update()

    def poll(self) -> None:
        camera = self.camera
        if camera is None:
            return
        frame = camera.latest_frame()
        if frame is None or frame.index == self._last_index:
            return
        self._last_index = frame.index
        self.image = frame_to_image(frame.image)
        self.frames_shown += 1
        self.update()

    def picture_rect(self) -> QRectF:
        """Where the whole camera frame is drawn: as large as fits, aspect kept, centred."""
        if self.image is None or self.image.width() == 0 or self.image.height() == 0:
            return QRectF(self.rect())
        scale = min(self.width() / self.image.width(), self.height() / self.image.height())
        w, h = self.image.width() * scale, self.image.height() * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def oval(self) -> QRectF:
        """Where the face should be, in widget coordinates (inside the picture)."""
        area = self.picture_rect()
        height = area.height() * 0.78
        width = min(height * 0.74, area.width() * 0.9)
        return QRectF(
            area.x() + (area.width() - width) / 2,
            area.y() + (area.height() - height) / 2,
            width,
            height,
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        frame_rect = QRectF(self.rect())
        clip = QPainterPath()
        clip.addRoundedRect(frame_rect, 18, 18)
        painter.setClipPath(clip)
        painter.fillRect(frame_rect, QColor("#1B2633"))
        if self.image is not None:
            target = self.picture_rect()
            painter.save()
            painter.translate(self.width(), 0)
            painter.scale(-1, 1)  # mirror (the picture is centred, so its rect is symmetric)
            painter.drawImage(target, self.image)
            painter.restore()
        if not self.outline:
            painter.end()
            return
        oval = self.oval()
        outside = QPainterPath()
        outside.addRect(frame_rect)
        hole = QPainterPath()
        hole.addEllipse(oval)
        painter.fillPath(outside.subtracted(hole), QColor(0, 0, 0, 120))
        pen = QPen(QColor(self.outline_colour()), 6)
        if self.guidance_code not in GOOD_GUIDANCE:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(oval)
        painter.end()
