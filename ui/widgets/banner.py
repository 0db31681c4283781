"""Message strips: a notice banner (icon + words, hidden when empty), a tinted note and the offline badge."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from kiosk.i18n import _
from ui.qt import (
    QColor,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QRectF,
    QResizeEvent,
    QSizePolicy,
    Qt,
    QVBoxLayout,
    QWidget,
)
from ui.theme import Theme, set_style_property
from ui.widgets.icons import IconView


class Banner(QFrame):
    """An icon and wrapping text on a tinted strip; kind "warning" or "error". Hidden while it has no text."""

    def __init__(self, theme: Theme, kind: str = "warning", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        layout = QHBoxLayout(self)
        pad = theme.px(20)
        layout.setContentsMargins(pad, pad, pad, pad)
        layout.setSpacing(theme.px(20))
        self.icon = IconView("warning", theme.px(theme.icon * 0.8), theme.palette.warning_edge)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.label, 1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        self.set_kind(kind)
        self.hide()

    def set_kind(self, kind: str) -> None:
        colour = self._theme.palette.error_edge if kind == "error" else self._theme.palette.warning_edge
        self.icon.set_icon("warning", colour)
        set_style_property(self, "frame", kind)

    @property
    def text(self) -> str:
        return self.label.text()

    def set_text(self, text: str | None) -> None:
        self.label.setText(text or "")
        self.setVisible(bool(text))
        self._fit_height()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        # Layouts above a stacked page ignore a wrapping label's height for its width: ask for it as the minimum,
        # so a tight screen squeezes something else rather than cut the message.
        layout = self.layout()
        if layout is None or not self.isVisible():
            return
        # The label's width follows from the banner's, whatever the label was last given.
        edges, inner = self.contentsMargins(), layout.contentsMargins()
        width = self.width() - edges.left() - edges.right() - inner.left() - inner.right()
        width -= self.icon.sizeHint().width() + layout.spacing()
        margins = edges.top() + edges.bottom() + inner.top() + inner.bottom()
        need = max(self.icon.sizeHint().height(), self.label.heightForWidth(max(1, width))) + margins
        if need != self.minimumHeight():
            self.setMinimumHeight(need)


_BORDER, _EDGE = 3, 12  # a note's border, and its thick edge on the reading side (design pixels)


class NoteBanner(QFrame):
    """A compact strip of icon and words in one of three looks; hidden while it has no text.

    "success" (tick, green edge on white), "info" (clock, blue edge on light blue) or "warning" (amber). The icon
    says it as well as the colour. Text colours are pairs from `ui.theme.TEXT_PAIRS` (7:1 or better).
    """

    ICONS: ClassVar[Mapping[str, str]] = MappingProxyType({"success": "tick", "info": "clock", "warning": "cross"})

    def __init__(self, theme: Theme, kind: str = "info", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.setObjectName("noteBanner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        layout = QHBoxLayout(self)
        pad = theme.px(14)
        # Room for the thick edge on the reading side (left here; ui/direction.py mirrors margins right to left).
        layout.setContentsMargins(pad + theme.px(6 + _EDGE - _BORDER), pad, pad + theme.px(6), pad)
        layout.setSpacing(theme.px(18))
        self.icon = IconView("clock", theme.px(theme.icon * 0.7), theme.palette.primary)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.label, 1)
        # Preferred, not Maximum: a wrapped text's height follows the width, beyond the size hint.
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.kind = kind
        self.compact = False
        self._restyle()
        self.hide()

    def set_kind(self, kind: str) -> None:
        """"success", "info" or "warning": colours and icon together."""
        if kind not in self.ICONS:
            raise ValueError(f"unknown note kind {kind!r}")
        if kind != self.kind:
            self.kind = kind
            self._restyle()

    def set_compact(self, compact: bool) -> None:
        """Compact: words in the small type size, so a long sentence keeps to one line on a crowded screen."""
        if compact != self.compact:
            self.compact = compact
            self._restyle()

    def _restyle(self) -> None:
        t = self._theme
        p, s = t.palette, t.px
        background, edge, text, icon = {
            "success": (p.surface, p.success, p.text, p.success),
            "info": (p.selected_bg, p.primary, p.text, p.primary),
            "warning": (p.warning_bg, p.warning_edge, p.warning_text, p.warning_edge),
        }[self.kind]
        self.icon.set_icon(self.ICONS[self.kind], icon)
        size = s(t.small_pt if self.compact else t.body_pt)
        self._edge = QColor(edge)
        self.setStyleSheet(
            f"QFrame#noteBanner {{ background: {background}; border: {s(_BORDER)}px solid {edge};"
            f" border-radius: {s(t.radius)}px; }}"
            f" QFrame#noteBanner QLabel {{ color: {text}; font-size: {size}px; }}"
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        """The thick edge on the side reading starts from: painted here, as a style sheet's thick left border
        stays on the left of a right-to-left screen while Qt moves the room it takes to the right."""
        super().paintEvent(event)
        width = self._theme.px(_EDGE)
        x = self.width() - width if self.layoutDirection() is Qt.LayoutDirection.RightToLeft else 0
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        outline = QPainterPath()
        radius = self._theme.px(self._theme.radius)
        outline.addRoundedRect(QRectF(self.rect()), radius, radius)
        painter.setClipPath(outline)
        painter.fillRect(x, 0, width, self.height(), self._edge)
        painter.end()

    @property
    def text(self) -> str:
        return self.label.text()

    def set_text(self, text: str | None) -> None:
        self.label.setText(text or "")
        self.setVisible(bool(text))


class OfflineBadge(QFrame):
    """A red badge with an offline icon: "Payment is not possible right now", and below it, for staff, how many
    payments wait to be confirmed (`set_waiting`)."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_style_property(self, "frame", "badge")
        layout = QHBoxLayout(self)
        pad = theme.px(20)
        layout.setContentsMargins(pad * 2, pad, pad * 2, pad)
        layout.setSpacing(theme.px(20))
        layout.addWidget(IconView("offline", theme.px(theme.icon * 0.8), theme.palette.on_primary))
        lines = QVBoxLayout()
        lines.setContentsMargins(0, 0, 0, 0)
        lines.setSpacing(theme.px(4))
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.waiting = QLabel()
        self.waiting.setWordWrap(True)
        self.waiting.hide()
        lines.addWidget(self.label)
        lines.addWidget(self.waiting)
        layout.addLayout(lines, 1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        self.retranslate()

    def set_waiting(self, text: str | None) -> None:
        """The line under the badge's message (e.g. "3 payments waiting to be confirmed"); None hides it."""
        self.waiting.setText(text or "")
        self.waiting.setVisible(bool(text))

    def retranslate(self) -> None:
        self.label.setText(_("Payment is not possible right now. Please try again later."))
