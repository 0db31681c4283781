"""A calm busy indicator: a ring of dots whose highlight turns, drawn on a timer (never blocks)."""

from __future__ import annotations

import math

from ui.qt import QColor, QHideEvent, QPainter, QPaintEvent, QPointF, QShowEvent, Qt, QTimer, QWidget

DOTS = 10


class Spinner(QWidget):
    """Ten dots on a ring; one step every 120 ms while visible."""

    def __init__(self, size: int, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colour = QColor(colour)
        self._step = 0
        self.setFixedSize(size, size)
        self._timer = QTimer(self)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self._advance)

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def _advance(self) -> None:
        self._step = (self._step + 1) % DOTS
        self.update()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        side = min(self.width(), self.height())
        centre = QPointF(self.width() / 2, self.height() / 2)
        radius, dot = side * 0.38, side * 0.07
        for i in range(DOTS):
            age = (self._step - i) % DOTS
            colour = QColor(self._colour)
            colour.setAlphaF(1.0 - age * 0.08)
            painter.setBrush(colour)
            angle = 2 * math.pi * i / DOTS - math.pi / 2
            point = QPointF(centre.x() + radius * math.cos(angle), centre.y() + radius * math.sin(angle))
            painter.drawEllipse(point, dot, dot)
        painter.end()
