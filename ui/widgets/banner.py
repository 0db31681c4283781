"""Message strips: a notice banner (icon + words, hidden when empty) and the offline badge."""

from __future__ import annotations

from kiosk.i18n import _
from ui.qt import QFrame, QHBoxLayout, QLabel, QSizePolicy, Qt, QWidget
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


class OfflineBadge(QFrame):
    """A red badge with an offline icon: "Payment is not possible right now"."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_style_property(self, "frame", "badge")
        layout = QHBoxLayout(self)
        pad = theme.px(20)
        layout.setContentsMargins(pad * 2, pad, pad * 2, pad)
        layout.setSpacing(theme.px(20))
        layout.addWidget(IconView("offline", theme.px(theme.icon * 0.8), theme.palette.on_primary))
        self.label = QLabel()
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        self.retranslate()

    def retranslate(self) -> None:
        self.label.setText(_("Payment is not possible right now. Please try again later."))
