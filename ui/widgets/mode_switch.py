"""The idle screen's 长辈版 switch: a large button with a drawn toggle, its name and its state in words.

Its state shows three ways, never by colour alone: the toggle's knob (left off, right on, with a tick when on),
the words "Switched on" / "Switched off", and the button filled (on) or outlined (off).
"""

from __future__ import annotations

from kiosk.i18n import _
from ui.qt import (
    QColor,
    QHBoxLayout,
    QLabel,
    QPainter,
    QPaintEvent,
    QPen,
    QPushButton,
    QRectF,
    QSize,
    QSizePolicy,
    Qt,
    QVBoxLayout,
    QWidget,
)
from ui.theme import Theme, set_style_property


class ToggleGlyph(QWidget):
    """A switch drawn as a pill and a knob: knob left when off, right with a tick when on."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.on = False
        self.colour = theme.palette.primary
        self.setFixedSize(QSize(theme.px(104), theme.px(60)))

    def set_state(self, on: bool, colour: str) -> None:
        self.on, self.colour = on, colour
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = QColor(self.colour)
        w, h = float(self.width()), float(self.height())
        line = max(2.0, h * 0.08)
        pill = QRectF(line / 2, line / 2, w - line, h - line)
        p.setPen(QPen(colour, line))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
        knob = pill.height() - 3 * line
        # The knob moves with the reading direction, as a switch in a right-to-left interface does.
        right_to_left = self.layoutDirection() is Qt.LayoutDirection.RightToLeft
        at_end = self.on != right_to_left
        x = pill.right() - 1.5 * line - knob if at_end else pill.left() + 1.5 * line
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawEllipse(QRectF(x, pill.top() + 1.5 * line, knob, knob))
        if self.on:
            tick = QPen(colour, line)
            tick.setCapStyle(Qt.PenCapStyle.RoundCap)
            tick.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            p.setPen(tick)
            left = pill.left() + pill.height() * 0.45 if not right_to_left else pill.right() - pill.height() * 1.25
            mid_y = pill.center().y()
            size = pill.height() * 0.4
            p.drawPolyline([
                QRectF(left, mid_y, 0, 0).topLeft(),
                QRectF(left + size * 0.4, mid_y + size * 0.4, 0, 0).topLeft(),
                QRectF(left + size * 1.1, mid_y - size * 0.45, 0, 0).topLeft(),
            ])
        p.end()


class ModeSwitch(QPushButton):
    """长辈版 (Elderly mode) with its state; `set_on` shows the state, a tap asks for the other one (clicked)."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.on = False
        self.setObjectName("elderlySwitch")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        layout = QHBoxLayout(self)
        pad = theme.px(20)
        layout.setContentsMargins(pad + theme.px(8), pad, pad + theme.px(16), pad)
        layout.setSpacing(theme.px(24))
        self.glyph = ToggleGlyph(theme)
        layout.addWidget(self.glyph, 0, Qt.AlignmentFlag.AlignVCenter)
        words = QVBoxLayout()
        words.setContentsMargins(0, 0, 0, 0)
        words.setSpacing(theme.px(2))
        self.name = QLabel()
        self.name.setProperty("role", "heading")
        self.state = QLabel()
        for label in (self.name, self.state):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            words.addWidget(label)
        layout.addLayout(words)
        self.glyph.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setMinimumHeight(theme.px(theme.button_h))
        self.set_on(False)

    def set_on(self, on: bool) -> None:
        self.on = on
        set_style_property(self, "variant", "primary" if on else "secondary")
        for label in (self.name, self.state):  # their colour follows the button's variant
            label.style().unpolish(label)
            label.style().polish(label)
        p = self._theme.palette
        self.glyph.set_state(on, p.on_primary if on else p.primary)
        self.retranslate()

    def retranslate(self) -> None:
        name = _("Elderly mode")
        state = _("Switched on") if self.on else _("Switched off")
        self.name.setText(name)
        self.state.setText(state)
        self.setAccessibleName(name)  # what the voice's benchmark and a screen reader look for
        self.setAccessibleDescription(state)

    def sizeHint(self) -> QSize:
        # The words are child labels, not the button's text: its hint comes from the layout.
        layout = self.layout()
        hint = layout.sizeHint() if layout is not None else super().sizeHint()
        return QSize(hint.width(), max(hint.height(), self.minimumHeight()))
