"""A large numeric keypad: 0-9, clear and backspace."""

from __future__ import annotations

from kiosk.i18n import _
from ui.qt import QGridLayout, QIcon, QPushButton, QSize, QSizePolicy, Qt, QWidget, Signal
from ui.theme import Theme, set_style_property
from ui.widgets.icons import icon_pixmap

_LAYOUT = ("123", "456", "789")


class Keypad(QWidget):
    """Digit keys in phone order with Clear and Backspace; emits what was pressed, keeps no value itself."""

    digit_pressed = Signal(str)
    clear_pressed = Signal()
    backspace_pressed = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Phone order (1 2 3 from the left) in every language: number pads are not mirrored right to left.
        self.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(theme.px(16))
        self.keys: dict[str, QPushButton] = {}
        for row, digits in enumerate(_LAYOUT):
            for col, digit in enumerate(digits):
                grid.addWidget(self._key(digit), row, col)
        grid.addWidget(self._key("clear", edit=True), 3, 0)
        grid.addWidget(self._key("0"), 3, 1)
        backspace = self._key("backspace", edit=True)
        size = theme.px(theme.icon * 0.8)
        backspace.setIcon(QIcon(icon_pixmap("backspace", size, theme.palette.primary, 2.0)))
        backspace.setIconSize(QSize(size, size))
        grid.addWidget(backspace, 3, 2)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.retranslate()

    def _key(self, name: str, edit: bool = False) -> QPushButton:
        key = QPushButton(name if name.isdigit() else "")
        key.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        key.setProperty("keyrole", "edit" if edit else "digit")
        set_style_property(key, "variant", "key")
        if name.isdigit():
            key.clicked.connect(lambda: self.digit_pressed.emit(name))
        elif name == "clear":
            key.clicked.connect(self.clear_pressed.emit)
        else:
            key.clicked.connect(self.backspace_pressed.emit)
        self.keys[name] = key
        return key

    def set_large(self, large: bool) -> None:
        """Bigger keys (a portrait panel has the room)."""
        for key in self.keys.values():
            set_style_property(key, "large", "true" if large else "false")

    def retranslate(self) -> None:
        self.keys["clear"].setText(_("Clear"))
        self.keys["backspace"].setAccessibleName(_("Delete"))
        self.keys["backspace"].setToolTip(_("Delete"))
