"""The open maintenance menu: a top bar (who is signed in, language, Close), the pages to choose from, the page."""

from __future__ import annotations

from kiosk.i18n import _, current
from kiosk.maintenance import MaintenanceMenu, MenuNotice, MenuScreen, Section
from ui.maintenance.pages import (
    AuditPage,
    DevicesPage,
    LogPage,
    NetworkPage,
    Page,
    QueuePage,
    ReceiptsPage,
    SettingsPage,
    TerminalPage,
    TextPage,
)
from ui.maintenance.parts import ROW_BUTTON_H
from ui.maintenance.texts import SECTIONS, menu_notice, text_of
from ui.qt import (
    QBoxLayout,
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    Qt,
    QVBoxLayout,
    QWidget,
)
from ui.screens.base import make_label
from ui.theme import Theme, set_style_property
from ui.widgets.banner import Banner, NoteBanner
from ui.widgets.buttons import BigButton
from ui.widgets.header import LANGUAGE_NAMES

_FAILURES = (MenuNotice.FAILED, MenuNotice.SETTING_INVALID, MenuNotice.REPRINT_FAILED)


class MenuView(QWidget):
    """Renders a `MenuScreen`; navigation and every button call the `MaintenanceMenu`."""

    def __init__(self, menu: MaintenanceMenu, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.menu = menu
        self.theme = theme
        self.model: MenuScreen | None = None
        self.portrait = False
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(0)
        root.addWidget(self._top_bar(theme))
        self.body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        m = theme.px(24)
        self.body.setContentsMargins(m, m, m, m)
        self.body.setSpacing(theme.px(theme.gap))
        root.addLayout(self.body, 1)

        self.nav = QWidget()
        self.nav_grid = QGridLayout(self.nav)
        self.nav_grid.setContentsMargins(0, 0, 0, 0)
        self.nav_grid.setSpacing(theme.px(12))
        self.nav_buttons: dict[Section, QPushButton] = {}
        group = QButtonGroup(self)
        group.setExclusive(True)
        s = theme.px
        for section in Section:
            button = QPushButton()
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setObjectName(f"nav:{section.value}")
            set_style_property(button, "variant", "choice")
            button.setStyleSheet(f"QPushButton {{ min-height: {s(ROW_BUTTON_H)}px; font-size: {s(30)}px;"
                                 f" padding: 0 {s(16)}px; }}")
            button.clicked.connect(lambda _checked=False, sec=section: self.menu.show_section(sec))
            group.addButton(button)
            self.nav_buttons[section] = button
        self.body.addWidget(self.nav)

        page_column = QVBoxLayout()
        page_column.setSpacing(theme.px(16))
        self.title = make_label(role="title", wrap=False)
        page_column.addWidget(self.title)
        self.success = NoteBanner(theme, "success")
        self.failure = Banner(theme, "error")
        page_column.addWidget(self.success)
        page_column.addWidget(self.failure)
        self.pages = QStackedWidget()
        self.page_of: dict[Section, Page | TextPage] = {
            Section.DEVICES: DevicesPage(menu, theme),
            Section.QUEUE: QueuePage(menu, theme),
            Section.NETWORK: NetworkPage(menu, theme),
            Section.SETTINGS: SettingsPage(menu, theme),
            Section.RECEIPTS: ReceiptsPage(menu, theme),
            Section.LOG: LogPage(menu, theme),
            Section.AUDIT: AuditPage(menu, theme),
            Section.TERMINAL: TerminalPage(menu, theme),
        }
        for page in self.page_of.values():
            self.pages.addWidget(page)
        page_column.addWidget(self.pages, 1)
        self.body.addLayout(page_column, 1)
        self._arrange_nav()

    def _top_bar(self, theme: Theme) -> QFrame:
        bar = QFrame()
        bar.setObjectName("header")
        bar.setFixedHeight(theme.px(theme.header_h))
        layout = QHBoxLayout(bar)
        layout.setContentsMargins(theme.px(theme.margin), 0, theme.px(theme.margin * 0.6), 0)
        layout.setSpacing(theme.px(16))
        names = QVBoxLayout()
        names.setSpacing(0)
        self.what = QLabel()
        self.what.setProperty("role", "heading")
        self.who = QLabel()
        self.who.setProperty("role", "small")
        for label in (self.what, self.who):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            names.addWidget(label)
        layout.addLayout(names, 1)
        self.language_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        for code, name in LANGUAGE_NAMES:
            button = QPushButton(name)
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setMinimumWidth(theme.px(150))
            set_style_property(button, "variant", "header")
            button.clicked.connect(lambda _checked=False, c=code: self.menu.set_language(c))
            group.addButton(button)
            layout.addWidget(button)
            self.language_buttons[code] = button
        layout.addSpacing(theme.px(24))
        self.close_button = BigButton(theme, icon="cross", variant="header")
        self.close_button.setObjectName("close")
        self.close_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.close_button.clicked.connect(lambda: self.menu.close())
        layout.addWidget(self.close_button)
        return bar

    def set_portrait(self, portrait: bool) -> None:
        if portrait != self.portrait:
            self.portrait = portrait
            self._arrange_nav()

    def _arrange_nav(self) -> None:
        """Landscape: one column of pages on the left; portrait: two rows of four across the top."""
        self.body.setDirection(QBoxLayout.Direction.TopToBottom if self.portrait else QBoxLayout.Direction.LeftToRight)
        for index, section in enumerate(Section):
            row, column = (index // 4, index % 4) if self.portrait else (index, 0)
            self.nav_grid.addWidget(self.nav_buttons[section], row, column)
        if self.portrait:
            self.nav.setFixedWidth(16777215)
            self.nav.setMinimumWidth(0)
            self.nav.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        else:
            self.nav.setFixedWidth(self.theme.px(340))
            self.nav.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)

    def show_model(self, model: MenuScreen) -> None:
        if self.model is None or model.section is not self.model.section:
            page = self.page_of[model.section]
            if isinstance(page, TerminalPage):
                page.reset()
            self.pages.setCurrentWidget(page)
        self.model = model
        self.page_of[model.section].show_model(model)
        self.nav_buttons[model.section].setChecked(True)
        self.show_texts()

    def show_texts(self) -> None:
        model = self.model
        if model is None:
            return
        self.what.setText(_("Maintenance"))
        self.who.setText(_("Signed in: staff {staff}").format(staff=model.staff_id))
        language = current().language
        if language in self.language_buttons:
            self.language_buttons[language].setChecked(True)
        self.close_button.setText(_("Close menu"))
        for section, button in self.nav_buttons.items():
            button.setText(text_of(SECTIONS, section))
        self.title.setText(text_of(SECTIONS, model.section))
        notice = menu_notice(model.notice, model.notice_detail) if model.notice else None
        failed = model.notice in _FAILURES
        self.success.set_text(None if failed else notice)
        self.failure.set_text(notice if failed else None)

    def retranslate(self) -> None:
        if self.model is not None:
            self.show_model(self.model)

    def reset(self) -> None:
        self.model = None
        queue = self.page_of[Section.QUEUE]
        if isinstance(queue, QueuePage):
            queue.settling = None
