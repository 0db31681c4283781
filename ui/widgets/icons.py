"""Simple service and status icons drawn with QPainter paths (no emoji fonts, no image files).

Each icon is drawn in a 100x100 box and scaled, so it stays crisp at any size.
"""

from __future__ import annotations

from collections.abc import Callable

from ui.qt import (
    QColor,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QPointF,
    QRectF,
    QSize,
    QSizePolicy,
    Qt,
    QWidget,
)


def _stroke(p: QPainter, colour: QColor, width: float) -> None:
    pen = QPen(colour, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)


def _fill(p: QPainter, colour: QColor) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(colour)


def _polygon(points: list[tuple[float, float]]) -> QPainterPath:
    path = QPainterPath()
    path.moveTo(*points[0])
    for x, y in points[1:]:
        path.lineTo(x, y)
    path.closeSubpath()
    return path


def _bolt(p: QPainter, c: QColor) -> None:
    _fill(p, c)
    p.drawPath(_polygon([(58, 4), (18, 56), (46, 56), (38, 96), (82, 40), (54, 40), (64, 4)]))


def _flame(p: QPainter, c: QColor) -> None:
    _fill(p, c)
    path = QPainterPath()
    path.moveTo(50, 4)
    path.cubicTo(58, 26, 84, 40, 84, 64)
    path.cubicTo(84, 84, 68, 96, 50, 96)
    path.cubicTo(32, 96, 16, 84, 16, 64)
    path.cubicTo(16, 48, 28, 38, 32, 26)
    path.cubicTo(38, 36, 40, 42, 42, 50)
    path.cubicTo(48, 36, 50, 20, 50, 4)
    path.closeSubpath()
    inner = QPainterPath()
    inner.moveTo(50, 58)
    inner.cubicTo(60, 68, 64, 74, 64, 80)
    inner.cubicTo(64, 88, 58, 92, 50, 92)
    inner.cubicTo(42, 92, 36, 88, 36, 80)
    inner.cubicTo(36, 72, 44, 66, 50, 58)
    p.drawPath(path.subtracted(inner))


def _house(p: QPainter, c: QColor) -> None:
    _fill(p, c)
    roof = _polygon([(50, 6), (96, 46), (86, 46), (50, 16), (14, 46), (4, 46)])
    body = QPainterPath()
    body.addRect(QRectF(20, 44, 60, 50))
    door = QPainterPath()
    door.addRect(QRectF(42, 62, 16, 32))
    p.drawPath(roof.united(_polygon([(50, 16), (80, 42), (20, 42)])))
    p.drawPath(body.subtracted(door))


def _drop(p: QPainter, c: QColor) -> None:
    _fill(p, c)
    path = QPainterPath()
    path.moveTo(50, 4)
    path.cubicTo(62, 26, 82, 46, 82, 64)
    path.cubicTo(82, 82, 68, 96, 50, 96)
    path.cubicTo(32, 96, 18, 82, 18, 64)
    path.cubicTo(18, 46, 38, 26, 50, 4)
    p.drawPath(path)


def _card(p: QPainter, c: QColor) -> None:
    _stroke(p, c, 7)
    p.drawRoundedRect(QRectF(6, 20, 88, 60), 8, 8)
    _fill(p, c)
    p.drawRoundedRect(QRectF(18, 36, 22, 18), 3, 3)
    p.drawRect(QRectF(18, 64, 64, 6))


def _qr(p: QPainter, c: QColor) -> None:
    _fill(p, c)
    for x, y in ((6, 6), (62, 6), (6, 62)):
        outer = QPainterPath()
        outer.addRect(QRectF(x, y, 32, 32))
        hole = QPainterPath()
        hole.addRect(QRectF(x + 7, y + 7, 18, 18))
        p.drawPath(outer.subtracted(hole))
        p.drawRect(QRectF(x + 12, y + 12, 8, 8))
    for x, y in ((50, 50), (62, 62), (74, 50), (86, 74), (50, 74), (74, 86), (86, 86), (62, 86), (50, 6), (50, 26)):
        p.drawRect(QRectF(x - 4 if x > 50 else x, y, 8, 8))


def _keypad(p: QPainter, c: QColor) -> None:
    _fill(p, c)
    for row in range(4):
        for col in range(3):
            p.drawRoundedRect(QRectF(14 + col * 26, 4 + row * 24, 20, 18), 4, 4)


def _tick(p: QPainter, c: QColor) -> None:
    _fill(p, c)
    p.drawEllipse(QRectF(4, 4, 92, 92))
    _stroke(p, QColor("#FFFFFF"), 11)
    path = QPainterPath()
    path.moveTo(27, 52)
    path.lineTo(44, 69)
    path.lineTo(74, 35)
    p.drawPath(path)


def _check(p: QPainter, c: QColor) -> None:
    _stroke(p, c, 13)
    path = QPainterPath()
    path.moveTo(12, 52)
    path.lineTo(38, 78)
    path.lineTo(88, 24)
    p.drawPath(path)


def _cross(p: QPainter, c: QColor) -> None:
    _fill(p, c)
    p.drawEllipse(QRectF(4, 4, 92, 92))
    _stroke(p, QColor("#FFFFFF"), 11)
    p.drawLine(QPointF(33, 33), QPointF(67, 67))
    p.drawLine(QPointF(67, 33), QPointF(33, 67))


def _clock(p: QPainter, c: QColor) -> None:
    _stroke(p, c, 9)
    p.drawEllipse(QRectF(8, 8, 84, 84))
    p.drawLine(QPointF(50, 50), QPointF(50, 24))
    p.drawLine(QPointF(50, 50), QPointF(68, 60))


def _warning(p: QPainter, c: QColor) -> None:
    _fill(p, c)
    p.drawPath(_polygon([(50, 6), (96, 90), (4, 90)]))
    _stroke(p, QColor("#FFFFFF"), 10)
    p.drawLine(QPointF(50, 36), QPointF(50, 62))
    p.drawPoint(QPointF(50, 77))


def _back(p: QPainter, c: QColor) -> None:
    _stroke(p, c, 11)
    path = QPainterPath()
    path.moveTo(44, 20)
    path.lineTo(14, 50)
    path.lineTo(44, 80)
    p.drawPath(path)
    p.drawLine(QPointF(16, 50), QPointF(88, 50))


def _backspace(p: QPainter, c: QColor) -> None:
    _stroke(p, c, 7)
    p.drawPath(_polygon([(34, 18), (94, 18), (94, 82), (34, 82), (4, 50)]))
    p.drawLine(QPointF(50, 36), QPointF(76, 64))
    p.drawLine(QPointF(76, 36), QPointF(50, 64))


def _offline(p: QPainter, c: QColor) -> None:
    _stroke(p, c, 8)
    for r in (44, 30, 16):
        p.drawArc(QRectF(50 - r, 64 - r, 2 * r, 2 * r), 40 * 16, 100 * 16)
    _fill(p, c)
    p.drawEllipse(QRectF(44, 70, 12, 12))
    _stroke(p, c, 8)
    p.drawLine(QPointF(14, 14), QPointF(86, 86))


def _home(p: QPainter, c: QColor) -> None:
    _house(p, c)


PAINTERS: dict[str, Callable[[QPainter, QColor], None]] = {
    "electricity": _bolt,
    "heating": _flame,
    "property": _house,
    "water": _drop,
    "card": _card,
    "qr": _qr,
    "keypad": _keypad,
    "tick": _tick,
    "check": _check,
    "cross": _cross,
    "clock": _clock,
    "warning": _warning,
    "back": _back,
    "backspace": _backspace,
    "offline": _offline,
    "home": _home,
}


#: Icons that point along the reading direction: drawn mirrored on a right-to-left screen (Back points right).
MIRRORED_RIGHT_TO_LEFT = frozenset({"back"})


def paint_icon(
    painter: QPainter, name: str, rect: QRectF, colour: QColor | str, right_to_left: bool = False
) -> None:
    """Draw icon `name` into `rect` (kept square and centred), mirrored if it points and the screen reads right to
    left."""
    side = min(rect.width(), rect.height())
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.translate(rect.x() + (rect.width() - side) / 2, rect.y() + (rect.height() - side) / 2)
    painter.scale(side / 100, side / 100)
    if right_to_left and name in MIRRORED_RIGHT_TO_LEFT:
        painter.translate(100, 0)
        painter.scale(-1, 1)
    PAINTERS[name](painter, QColor(colour))
    painter.restore()


def icon_pixmap(
    name: str, size: int, colour: QColor | str, device_pixel_ratio: float = 1.0, gap: int = 0,
    right_to_left: bool = False,
) -> QPixmap:
    """The icon as a transparent pixmap of `size` logical pixels, plus `gap` empty pixels on the side of the text
    (its right; its left, and the icon mirrored if it points, on a right-to-left screen)."""
    pixmap = QPixmap(round((size + gap) * device_pixel_ratio), round(size * device_pixel_ratio))
    pixmap.setDevicePixelRatio(device_pixel_ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    paint_icon(painter, name, QRectF(gap if right_to_left else 0, 0, size, size), colour, right_to_left)
    painter.end()
    return pixmap


class IconView(QWidget):
    """A widget that shows one icon at a fixed size."""

    def __init__(self, name: str, size: int, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._colour = colour
        self.setFixedSize(QSize(size, size))
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_icon(self, name: str, colour: str | None = None) -> None:
        self._name = name
        if colour is not None:
            self._colour = colour
        self.update()

    @property
    def name(self) -> str:
        return self._name

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        right_to_left = self.layoutDirection() is Qt.LayoutDirection.RightToLeft
        paint_icon(painter, self._name, QRectF(self.rect()), self._colour, right_to_left)
        painter.end()
