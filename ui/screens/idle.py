"""The welcome screen: three ways to start, the 长辈版 switch, the offline badge and a notice. Shows nothing of any
resident.

The 长辈版 (Elderly mode) switch is always there, large, beside the welcome in landscape and under it in portrait;
a tap asks the journey for the other mode, and the whole window comes back in that mode's look.

The card and QR ways are shown only while their device is online (`IdleScreen.card_reader_ready`...).

Payments still being confirmed with HQ are counted, never described: with the offline badge when HQ is away (staff
should notice), else as a small calm note at the bottom (residents should not be alarmed).
"""

from __future__ import annotations

from kiosk.i18n import _
from kiosk.messages import notice_text, waiting_text
from kiosk.screens import IdleScreen, Mode
from ui.journey_api import JourneyApi
from ui.qt import QBoxLayout, QFrame, QGridLayout, QHBoxLayout, QSizePolicy, Qt, QVBoxLayout, QWidget
from ui.screens.base import ScreenView, box_direction, make_label
from ui.theme import Theme, set_style_property
from ui.widgets.banner import Banner, OfflineBadge
from ui.widgets.buttons import TileButton, tile_min_height
from ui.widgets.icons import IconView
from ui.widgets.mode_switch import ModeSwitch


class WayTile(QFrame):
    """A way to start that needs no tap on screen (card, QR): icon over words."""

    def __init__(self, theme: Theme, icon: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_style_property(self, "frame", "card")
        layout = QVBoxLayout(self)
        pad = theme.px(24)
        layout.setContentsMargins(pad, pad, pad, pad)
        layout.setSpacing(theme.px(16))
        layout.addWidget(IconView(icon, theme.px(theme.icon * 1.5), theme.palette.primary), 0,
                         Qt.AlignmentFlag.AlignHCenter)
        self.label = make_label(role="heading", centre=True)
        layout.addWidget(self.label)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(tile_min_height(theme))


class WaitingNote(QWidget):
    """A small clock and "2 payments being confirmed": quiet, for staff walking past."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.px(12))
        layout.addStretch(1)
        self.icon = IconView("clock", theme.px(34), theme.palette.muted)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignVCenter)
        self.label = make_label(role="small", wrap=False)
        layout.addWidget(self.label)
        layout.addStretch(1)

    @property
    def text(self) -> str:
        return self.label.text()


class IdleView(ScreenView):
    """Welcome; insert a card, scan a code or type the house number."""

    home_visible = False

    def __init__(self, journey: JourneyApi, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(journey, theme, parent)
        root = QVBoxLayout(self)
        m = self.margins()
        root.setContentsMargins(m, m, m, m)
        root.setSpacing(theme.px(theme.gap))
        self.welcome = make_label(role="title", centre=True)
        self.subtitle = make_label(role="muted", centre=True)
        # Elderly mode: one thing fewer to read, and room for the larger tiles (the voice says what to do).
        self.subtitle.setVisible(not theme.elderly)
        self.offline = OfflineBadge(theme)
        self.notice = Banner(theme, "error")
        self.prompt = make_label(role="heading", centre=True)
        # The welcome, and the 长辈版 switch beside it (landscape) or under it (portrait); in landscape an empty
        # box as wide as the switch on the other side keeps the welcome centred.
        self.mode_switch = ModeSwitch(theme)
        self.mode_switch.set_on(theme.elderly)  # each mode has its own views: elderly ones show it on
        self.mode_switch.clicked.connect(self._switch_mode)
        self.titles = QWidget()
        titles = QVBoxLayout(self.titles)
        titles.setContentsMargins(0, 0, 0, 0)
        titles.setSpacing(theme.px(8))
        titles.addWidget(self.welcome)
        titles.addWidget(self.subtitle)
        self.balance = QWidget()
        self.top = QGridLayout()
        self.top.setSpacing(theme.px(theme.gap))
        self._place_top()
        root.addLayout(self.top)
        root.addWidget(self.offline)
        root.addWidget(self.notice)
        root.addStretch(1)
        root.addWidget(self.prompt)
        self.ways = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.ways.setSpacing(theme.px(theme.gap))
        self.card_tile = WayTile(theme, "card")
        self.qr_tile = WayTile(theme, "qr")
        self.house_number = TileButton(theme, "keypad", "primary")
        self.house_number.clicked.connect(self.journey.enter_house_number)
        for tile in (self.card_tile, self.qr_tile, self.house_number):
            self.ways.addWidget(tile, 1)
        root.addLayout(self.ways, 8)
        root.addStretch(1)
        self.waiting_note = WaitingNote(theme)
        keep = self.waiting_note.sizePolicy()
        # The tiles do not jump when the note comes and goes; elderly mode's larger tiles need that room.
        keep.setRetainSizeWhenHidden(not theme.elderly)
        self.waiting_note.setSizePolicy(keep)
        self.waiting_note.hide()
        root.addWidget(self.waiting_note)

    def _switch_mode(self) -> None:
        self.journey.set_mode(Mode.STANDARD if self.theme.elderly else Mode.ELDERLY)

    def _place_top(self) -> None:
        for widget in (self.titles, self.mode_switch, self.balance):
            self.top.removeWidget(widget)
        for column in range(3):
            self.top.setColumnStretch(column, 0)
        if self.portrait:
            self.top.addWidget(self.titles, 0, 0)
            self.top.addWidget(self.mode_switch, 1, 0, Qt.AlignmentFlag.AlignHCenter)
            self.top.setColumnStretch(0, 1)
            self.balance.hide()
        else:
            self.balance.setFixedWidth(self.mode_switch.sizeHint().width())
            self.balance.show()
            self.top.addWidget(self.balance, 0, 0)
            self.top.addWidget(self.titles, 0, 1)
            self.top.addWidget(self.mode_switch, 0, 2, Qt.AlignmentFlag.AlignVCenter)
            self.top.setColumnStretch(1, 1)

    def load(self, model: IdleScreen) -> None:
        self.offline.setVisible(not model.online)
        self.waiting_note.setVisible(model.online and model.waiting > 0)
        # A device that is down is not offered at all (the house number always is): nobody is invited to
        # insert a card into a reader that cannot read it.
        self.card_tile.setVisible(model.card_reader_ready)
        self.qr_tile.setVisible(model.qr_scanner_ready)

    def show_texts(self) -> None:
        model: IdleScreen = self.model
        self.welcome.setText(_("Welcome"))
        self.mode_switch.retranslate()
        if not self.portrait:
            self.balance.setFixedWidth(self.mode_switch.sizeHint().width())
        self.subtitle.setText(_("Recharge your electricity and see your fees here."))
        self.offline.retranslate()
        waiting = waiting_text(model.waiting, online=model.online) if model.waiting > 0 else None
        self.offline.set_waiting(None if model.online else waiting)
        self.waiting_note.label.setText(waiting if model.online and waiting else "")
        self.notice.set_text(notice_text(model.notice) if model.notice else None)
        ways = 1 + model.card_reader_ready + model.qr_scanner_ready
        if ways == 3:
            self.prompt.setText(_("Start in one of three ways:"))
        elif ways == 2:
            self.prompt.setText(_("Start in one of two ways:"))
        else:
            self.prompt.setText(_("Start by typing your house number:"))
        self.card_tile.label.setText(_("Insert or tap your resident card"))
        self.qr_tile.label.setText(_("Scan the QR code on your door or bill"))
        self.house_number.set_label(_("Type your house number"))

    def relayout(self) -> None:
        self.ways.setDirection(box_direction(self.portrait))
        self._place_top()

    def reset(self) -> None:
        self.notice.set_text(None)
