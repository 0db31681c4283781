"""The bar across the top: the house being served, the language switch and a Home button."""

from __future__ import annotations

from babel import Locale

from kiosk.config import LANGUAGES
from kiosk.i18n import _
from ui.qt import QButtonGroup, QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, Qt, QWidget, Signal
from ui.theme import Theme, set_style_property
from ui.widgets.buttons import BigButton

#: Each language named in its own language (Babel's locale data: 中文, English, ئۇيغۇرچە), so a resident finds
#: theirs whatever is on screen; the only texts not from the catalogs.
LANGUAGE_NAMES = tuple((code, Locale.parse(code).get_language_name(code) or code) for code in LANGUAGES)


class HeaderBar(QFrame):
    """House title on the left; language buttons and Home on the right."""

    language_chosen = Signal(str)
    home_clicked = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("header")
        self.setFixedHeight(theme.px(theme.header_h))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(theme.px(theme.margin), 0, theme.px(theme.margin * 0.6), 0)
        layout.setSpacing(theme.px(16))
        self.title = QLabel()
        self.title.setProperty("role", "heading")
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.title, 1)
        self.language_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        group.setExclusive(True)
        for code, name in LANGUAGE_NAMES:
            button = QPushButton(name)
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setMinimumWidth(theme.px(150))
            set_style_property(button, "variant", "header")
            button.clicked.connect(lambda _checked=False, c=code: self.language_chosen.emit(c))
            group.addButton(button)
            layout.addWidget(button)
            self.language_buttons[code] = button
        layout.addSpacing(theme.px(24))
        self.home = BigButton(theme, icon=None, variant="header")
        self.home.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.home.setMinimumWidth(theme.px(170))
        self.home.clicked.connect(self.home_clicked.emit)
        layout.addWidget(self.home)
        self.retranslate()

    def set_title(self, text: str) -> None:
        self.title.setText(text)

    def set_language(self, language: str) -> None:
        button = self.language_buttons.get(language)
        if button is not None:
            button.setChecked(True)

    def set_home_visible(self, visible: bool) -> None:
        self.home.setVisible(visible)

    def retranslate(self) -> None:
        self.home.setText(_("Home"))
