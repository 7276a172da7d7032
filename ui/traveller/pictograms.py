"""Big, simple pictograms drawn with QPainter (no image files): they scale to any screen and
follow the palette, high contrast included. Each is drawn in a 200 x 200 box."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.theme import CALM, Palette

KINDS = (
    "welcome",
    "passport",
    "chip",
    "wait",
    "proceed",
    "officer",
    "cancelled",
    "no_glasses",
    "no_hat",
)


class Pictogram(QWidget):
    """One of :data:`KINDS`, centred and scaled to the widget."""

    def __init__(self, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if kind not in KINDS:
            raise ValueError(f"unknown pictogram {kind!r}")
        self.kind = kind
        self.palette_colours: Palette = CALM
        self.phase = 0.0  # animation phase 0..1 (the chip waves, the wait spinner)
        self.setMinimumSize(220, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_palette_colours(self, palette: Palette) -> None:
        self.palette_colours = palette
        self.update()

    def advance(self, step: float = 0.04) -> None:
        self.phase = (self.phase + step) % 1.0
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = min(self.width(), self.height())
        painter.translate((self.width() - side) / 2, (self.height() - side) / 2)
        painter.scale(side / 200.0, side / 200.0)
        getattr(self, f"_draw_{self.kind}")(painter, self.palette_colours)
        painter.end()

    # --- the drawings (200 x 200 units) ---------------------------------------------------

    def _pen(self, colour: str, width: float = 6.0) -> QPen:
        pen = QPen(QColor(colour), width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return pen

    def _passport(self, p: QPainter, c: Palette, rect: QRectF, open_page: bool = False) -> None:
        p.setPen(self._pen(c.pictogram, 5))
        p.setBrush(QColor(c.pictogram))
        p.drawRoundedRect(rect, 8, 8)
        p.setPen(self._pen(c.on_primary if c.pictogram != c.on_primary else c.background, 4))
        p.setBrush(Qt.BrushStyle.NoBrush)
        centre = rect.center() - QPointF(0, rect.height() * 0.08)
        radius = rect.width() * 0.22
        p.drawEllipse(centre, radius, radius)
        p.drawLine(
            QPointF(centre.x() - radius, centre.y()), QPointF(centre.x() + radius, centre.y())
        )
        p.drawEllipse(centre, radius * 0.45, radius)
        if open_page:
            p.drawLine(
                QPointF(rect.left() + 12, rect.bottom() - 22),
                QPointF(rect.right() - 12, rect.bottom() - 22),
            )

    def _draw_welcome(self, p: QPainter, c: Palette) -> None:
        # a gate: two posts and the open doors, with a path through them
        p.setPen(self._pen(c.pictogram, 7))
        p.setBrush(QColor(c.pictogram_fill))
        p.drawRoundedRect(QRectF(30, 40, 34, 130), 8, 8)
        p.drawRoundedRect(QRectF(136, 40, 34, 130), 8, 8)
        p.setPen(self._pen(c.success, 8))
        p.drawLine(QPointF(64, 100), QPointF(84, 80))
        p.drawLine(QPointF(136, 100), QPointF(116, 80))
        p.setPen(self._pen(c.pictogram, 8))
        arrow = QPainterPath(QPointF(100, 180))
        arrow.lineTo(100, 110)
        p.drawPath(arrow)
        p.setBrush(QColor(c.pictogram))
        p.drawPolygon(QPolygonF([QPointF(84, 118), QPointF(100, 96), QPointF(116, 118)]))

    def _epassport_symbol(self, p: QPainter, colour: str, centre: QPointF, w: float) -> None:
        """The ICAO electronic-passport symbol: a frame, a bar at its top and bottom, and a
        circle with a line across its middle joining the frame's sides."""
        h = w * 0.62
        box = QRectF(centre.x() - w / 2, centre.y() - h / 2, w, h)
        p.save()
        p.setPen(self._pen(colour, max(2.0, w * 0.07)))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(box)
        bar = h * 0.16
        p.drawLine(QPointF(box.left(), box.top() + bar), QPointF(box.right(), box.top() + bar))
        p.drawLine(
            QPointF(box.left(), box.bottom() - bar), QPointF(box.right(), box.bottom() - bar)
        )
        radius = h * 0.22
        p.drawEllipse(centre, radius, radius)
        p.drawLine(QPointF(box.left(), centre.y()), QPointF(box.right(), centre.y()))
        p.restore()

    def _draw_passport(self, p: QPainter, c: Palette) -> None:
        # the reader (a glass window in a housing) and the open passport above it, seen from
        # its covers: the photo page faces down, onto the glass. The cover carries the ICAO
        # e-passport symbol; an inset shows the photo page that goes against the glass.
        p.setPen(self._pen(c.pictogram, 5))
        p.setBrush(QColor(c.pictogram_fill))
        p.drawRoundedRect(QRectF(20, 136, 160, 50), 12, 12)
        p.setBrush(QColor(c.surface))
        p.drawRoundedRect(QRectF(40, 146, 120, 30), 6, 6)
        # the open passport, covers up
        p.save()
        p.translate(88, 92)
        p.rotate(-6)
        p.setBrush(QColor(c.pictogram))
        p.drawRoundedRect(QRectF(-64, -26, 62, 46), 6, 6)
        p.drawRoundedRect(QRectF(2, -26, 62, 46), 6, 6)
        inverse = c.background
        self._epassport_symbol(p, inverse, QPointF(33, -3), 30)
        p.restore()
        # inset: the photo page (portrait and MRZ lines), with an arrow: this side down
        p.setPen(self._pen(c.pictogram, 3))
        p.setBrush(QColor(c.surface))
        page = QRectF(132, 14, 56, 42)
        p.drawRoundedRect(page, 4, 4)
        p.setBrush(QColor(c.pictogram_fill))
        p.drawRect(QRectF(138, 20, 14, 18))
        p.drawLine(QPointF(138, 44), QPointF(182, 44))
        p.drawLine(QPointF(138, 50), QPointF(182, 50))
        p.setPen(self._pen(c.success, 4))
        p.drawLine(QPointF(160, 60), QPointF(160, 70))
        p.setBrush(QColor(c.success))
        p.drawPolygon(QPolygonF([QPointF(153, 66), QPointF(160, 76), QPointF(167, 66)]))
        # the arrow down onto the glass
        p.setPen(self._pen(c.success, 7))
        p.drawLine(QPointF(100, 118), QPointF(100, 138))
        p.setBrush(QColor(c.success))
        p.drawPolygon(QPolygonF([QPointF(88, 132), QPointF(100, 148), QPointF(112, 132)]))

    def _no_entry(self, p: QPainter, c: Palette) -> None:
        """The red circle and bar of a prohibition sign over a drawing."""
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(self._pen(c.attention, 14))
        p.drawEllipse(QPointF(100, 100), 82, 82)
        p.drawLine(QPointF(42, 42), QPointF(158, 158))

    def _draw_no_glasses(self, p: QPainter, c: Palette) -> None:
        p.setPen(self._pen(c.pictogram, 9))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(QRectF(34, 82, 52, 40))
        p.drawEllipse(QRectF(114, 82, 52, 40))
        p.drawLine(QPointF(86, 96), QPointF(114, 96))
        p.drawLine(QPointF(34, 96), QPointF(22, 86))
        p.drawLine(QPointF(166, 96), QPointF(178, 86))
        self._no_entry(p, c)

    def _draw_no_hat(self, p: QPainter, c: Palette) -> None:
        p.setPen(self._pen(c.pictogram, 6))
        p.setBrush(QColor(c.pictogram))
        crown = QPainterPath(QPointF(64, 118))
        crown.cubicTo(62, 60, 138, 60, 136, 118)
        crown.closeSubpath()
        p.drawPath(crown)
        p.drawRoundedRect(QRectF(36, 114, 128, 16), 8, 8)
        self._no_entry(p, c)

    def _draw_chip(self, p: QPainter, c: Palette) -> None:
        self._passport(p, c, QRectF(40, 50, 80, 110))
        p.setBrush(Qt.BrushStyle.NoBrush)
        for ring in range(3):
            alpha = 255 if (self.phase * 3) % 3 >= ring else 90
            colour = QColor(c.success)
            colour.setAlpha(alpha)
            pen = QPen(colour, 7)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            r = 22 + ring * 18
            p.drawArc(QRectF(120 - r, 105 - r, 2 * r, 2 * r), -45 * 16, 90 * 16)

    def _draw_wait(self, p: QPainter, c: Palette) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        for i in range(12):
            angle = 2 * math.pi * i / 12
            colour = QColor(c.pictogram)
            distance = (i / 12 - self.phase) % 1.0
            colour.setAlpha(int(40 + 215 * (1 - distance)))
            p.setBrush(colour)
            p.drawEllipse(QPointF(100 + 62 * math.cos(angle), 100 + 62 * math.sin(angle)), 11, 11)

    def _draw_proceed(self, p: QPainter, c: Palette) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(c.success))
        p.drawEllipse(QPointF(100, 100), 84, 84)
        pen = self._pen(c.on_primary if c.success != c.on_primary else c.background, 16)
        pen.setColor(QColor("#FFFFFF") if c.background != "#000000" else QColor("#000000"))
        p.setPen(pen)
        p.drawPolyline(QPolygonF([QPointF(60, 104), QPointF(88, 132), QPointF(142, 74)]))

    def _draw_officer(self, p: QPainter, c: Palette) -> None:
        # a person with a peaked cap behind a desk
        p.setPen(self._pen(c.attention, 6))
        p.setBrush(QColor(c.pictogram_fill))
        p.drawEllipse(QPointF(100, 70), 28, 28)
        cap = QPainterPath(QPointF(68, 52))
        cap.lineTo(132, 52)
        cap.lineTo(124, 34)
        cap.lineTo(76, 34)
        cap.closeSubpath()
        p.setBrush(QColor(c.attention))
        p.drawPath(cap)
        p.setBrush(QColor(c.pictogram_fill))
        body = QPainterPath(QPointF(52, 150))
        body.cubicTo(52, 110, 148, 110, 148, 150)
        p.drawPath(body)
        p.setBrush(QColor(c.attention))
        p.drawRoundedRect(QRectF(24, 148, 152, 26), 6, 6)

    def _draw_cancelled(self, p: QPainter, c: Palette) -> None:
        self._passport(p, c, QRectF(50, 40, 80, 110))
        p.setPen(self._pen(c.attention, 12))
        p.drawLine(QPointF(120, 120), QPointF(170, 170))
        p.drawLine(QPointF(170, 120), QPointF(120, 170))
