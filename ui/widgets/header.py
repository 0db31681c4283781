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
        self.theme = theme
        layout = QHBoxLayout(self)
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
            set_style_property(button, "variant", "header")
            button.clicked.connect(lambda _checked=False, c=code: self.language_chosen.emit(c))
            group.addButton(button)
            layout.addWidget(button)
            self.language_buttons[code] = button
        self._gap = QWidget()
        layout.addWidget(self._gap)
        self.home = BigButton(theme, icon=None, variant="header")
        self.home.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.home.clicked.connect(self.home_clicked.emit)
        layout.addWidget(self.home)
        self._size_for(theme)
        self.retranslate()

    def _size_for(self, theme: Theme) -> None:
        self.setFixedHeight(theme.px(theme.header_h))
        layout = self.layout()
        assert layout is not None
        layout.setContentsMargins(theme.px(theme.margin), 0, theme.px(theme.margin * 0.6), 0)
        layout.setSpacing(theme.px(16))
        self._gap.setFixedWidth(theme.px(24))  # with the spacing either side: Home stands apart from the languages
        for button in self.language_buttons.values():
            button.setMinimumWidth(theme.px(150))
        self.home.setMinimumWidth(theme.px(170))

    def set_theme(self, theme: Theme) -> None:
        """Follow the mode: elderly mode's header is taller, its words and buttons larger (its own style sheet)."""
        if theme == self.theme:
            return
        self.theme = theme
        self.setStyleSheet(theme.stylesheet() if theme.elderly else "")
        self._size_for(theme)

    def set_languages_visible(self, visible: bool) -> None:
        """Elderly mode offers the languages on the idle screen only: fewer choices, and room for the house."""
        for button in self.language_buttons.values():
            button.setVisible(visible)
        self._gap.setVisible(visible)

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
