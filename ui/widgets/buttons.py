"""Big touch buttons: a label with an optional icon, and a tile with an icon over wrapping text."""

from __future__ import annotations

import math

from ui.qt import QEvent, QFontMetricsF, QIcon, QLabel, QPushButton, QSize, QSizePolicy, Qt, QVBoxLayout, QWidget
from ui.theme import Theme, set_style_property
from ui.widgets.icons import IconView, icon_pixmap


def _icon_colour(theme: Theme, variant: str) -> str:
    return theme.palette.on_primary if variant == "primary" else theme.palette.primary


class BigButton(QPushButton):
    """A large touch button (≥ 30 mm tall) with an optional icon; variants: primary, secondary, choice."""

    def __init__(
        self,
        theme: Theme,
        text: str = "",
        icon: str | None = None,
        variant: str = "secondary",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(text, parent)
        self._theme = theme
        self._icon_name = icon
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.set_variant(variant)

    @property
    def variant(self) -> str:
        return str(self.property("variant"))

    def set_variant(self, variant: str) -> None:
        set_style_property(self, "variant", variant)
        self._draw_icon()

    def _draw_icon(self) -> None:
        if self._icon_name:
            size, gap = self._theme.px(self._theme.icon * 0.75), self._theme.px(16)
            # The gap keeps the label from touching the icon (Qt's own spacing is a few pixels).
            right_to_left = self.layoutDirection() is Qt.LayoutDirection.RightToLeft
            colour = _icon_colour(self._theme, self.variant)
            self.setIcon(QIcon(icon_pixmap(self._icon_name, size, colour, 2.0, gap, right_to_left)))
            self.setIconSize(QSize(size + gap, size))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LayoutDirectionChange:
            self._draw_icon()  # the gap moves to the text's side; Back turns to point right to left


def tile_min_height(theme: Theme) -> int:
    """A tile's least height: its icon over two lines of words, so a label that wraps is never cut."""
    two_lines = QFontMetricsF(theme.font(theme.heading_pt, bold=True)).lineSpacing() * 2
    content = theme.px(24) * 2 + theme.px(theme.icon * 1.5) + theme.px(16) + math.ceil(two_lines) + theme.px(4)
    return max(theme.px(theme.button_h * 2), content)


class TileButton(QPushButton):
    """A tall button with a big icon above a short, wrapping text (e.g. "Type your house number")."""

    def __init__(self, theme: Theme, icon: str, variant: str = "primary", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        set_style_property(self, "variant", variant)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.px(24), theme.px(24), theme.px(24), theme.px(24))
        layout.setSpacing(theme.px(16))
        self.icon_view = IconView(icon, theme.px(theme.icon * 1.5), _icon_colour(theme, variant))
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setProperty("role", "heading")
        for child in (self.icon_view, self.label):
            child.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout.addWidget(self.icon_view, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.label)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(tile_min_height(theme))

    def set_label(self, text: str) -> None:
        self.label.setText(text)
        self.setAccessibleName(text)
