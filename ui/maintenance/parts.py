"""Small building blocks of the maintenance menu's pages: cards, row buttons and a touch-scrolled page."""

from __future__ import annotations

from collections.abc import Callable

from ui.qt import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    Qt,
    QVBoxLayout,
    QWidget,
)
from ui.screens.base import clear_layout, make_label
from ui.theme import Theme, set_style_property

#: Row buttons: smaller than the resident's 30 mm buttons, still about 22 mm tall for a standing technician.
ROW_BUTTON_H = 88


def row_button(theme: Theme, text: str, on_click: Callable[[], None], variant: str = "secondary",
               checkable: bool = False) -> QPushButton:
    button = QPushButton(text)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    button.setCheckable(checkable)
    set_style_property(button, "variant", variant)
    s = theme.px
    button.setStyleSheet(f"QPushButton {{ min-height: {s(ROW_BUTTON_H)}px; font-size: {s(theme.small_pt)}px;"
                         f" padding: 0 {s(24)}px; }}")
    button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    button.clicked.connect(lambda _checked=False: on_click())
    return button


def small_label(text: str = "", role: str = "small") -> QLabel:
    return make_label(text, role=role)


class Card(QFrame):
    """A white card with a vertical layout, for one device, transaction or setting."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_style_property(self, "frame", "card")
        self.body = QVBoxLayout(self)
        pad = theme.px(20)
        self.body.setContentsMargins(pad, pad, pad, pad)
        self.body.setSpacing(theme.px(10))
        # Preferred, not Maximum: wrapped lines get the height they need at the width they get.
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def row(self, theme: Theme) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(theme.px(16))
        self.body.addLayout(row)
        return row


class ScrollPage(QScrollArea):
    """A page whose content is rebuilt from each model, with a scroll bar wide enough for a finger."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        inner.setProperty("screen", True)
        self.content = QVBoxLayout(inner)
        self.content.setContentsMargins(0, 0, theme.px(12), 0)
        self.content.setSpacing(theme.px(16))
        self.setWidget(inner)
        # A wide scroll bar (about 12 mm): a finger drags it; the page itself does not scroll under a drag, so a
        # touch on a button is never taken for a scroll.
        s, p = theme.px, theme.palette
        self.verticalScrollBar().setStyleSheet(
            f"QScrollBar:vertical {{ width: {s(48)}px; background: {p.page}; }}"
            f" QScrollBar::handle:vertical {{ background: {p.border}; min-height: {s(96)}px;"
            f" border-radius: {s(12)}px; }}"
            " QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical { height: 0; }"
        )

    def clear(self) -> None:
        clear_layout(self.content)

    def add(self, widget: QWidget) -> QWidget:
        self.content.addWidget(widget)
        return widget

    def finish(self) -> None:
        self.content.addStretch(1)
