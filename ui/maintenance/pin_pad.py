"""The staff PIN pad: masked dots, a large keypad, Cancel and OK. The digits themselves stay in the core."""

from __future__ import annotations

from kiosk.i18n import _
from kiosk.maintenance import Entry, MaintenanceMenu, PinNotice, PinPad
from kiosk.staff import PIN_MAX
from ui.maintenance.texts import pin_notice
from ui.qt import QBoxLayout, QFrame, QHBoxLayout, QSizePolicy, Qt, QVBoxLayout, QWidget
from ui.screens.base import make_label
from ui.theme import Theme, set_style_property
from ui.widgets.banner import Banner
from ui.widgets.buttons import BigButton
from ui.widgets.icons import IconView
from ui.widgets.keypad import Keypad

DOT, EMPTY = "●", "○"


class PinPadView(QWidget):
    """Renders a `PinPad` model; every key goes straight to the `MaintenanceMenu`."""

    def __init__(self, menu: MaintenanceMenu, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.menu = menu
        self.model: PinPad | None = None
        outer = QVBoxLayout(self)
        outer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.panel = QFrame()
        set_style_property(self.panel, "frame", "panel")
        self.panel.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Maximum)
        # Landscape: words, dots and buttons on the left, the keypad on the right; portrait: one column.
        self.layout_ = QBoxLayout(QBoxLayout.Direction.LeftToRight, self.panel)
        pad = theme.px(40)
        self.layout_.setContentsMargins(pad, pad, pad, pad)
        self.layout_.setSpacing(theme.px(40))
        left = QVBoxLayout()
        left.setSpacing(theme.px(20))
        title_row = QHBoxLayout()
        title_row.setSpacing(theme.px(20))
        title_row.addWidget(IconView("keypad", theme.px(theme.icon), theme.palette.primary))
        self.title = make_label(role="title", wrap=True)
        title_row.addWidget(self.title, 1)
        left.addLayout(title_row)
        self.prompt = make_label(role="muted")
        left.addWidget(self.prompt)
        self.dots = make_label(role="huge", wrap=False, centre=True)
        left.addWidget(self.dots)
        self.notice = Banner(theme, "error")
        left.addWidget(self.notice)
        left.addStretch(1)
        self.buttons = QWidget()
        buttons = QHBoxLayout(self.buttons)
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.setSpacing(theme.px(theme.gap))
        self.cancel = BigButton(theme, icon="cross")
        self.cancel.clicked.connect(lambda: menu.close())
        self.ok = BigButton(theme, icon="check", variant="primary")
        self.ok.clicked.connect(menu.pin_submit)
        buttons.addWidget(self.cancel, 1)
        buttons.addWidget(self.ok, 1)
        self.left = left
        self.layout_.addLayout(left, 1)
        self.keypad = Keypad(theme)
        self.keypad.digit_pressed.connect(menu.pin_digit)
        self.keypad.clear_pressed.connect(menu.pin_clear)
        self.keypad.backspace_pressed.connect(menu.pin_backspace)
        self.layout_.addWidget(self.keypad, 0, Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.panel)
        self.theme = theme
        self.portrait: bool | None = None
        self.set_portrait(False)

    def set_portrait(self, portrait: bool) -> None:
        if portrait == self.portrait:
            return
        self.portrait = portrait
        self.layout_.setDirection(QBoxLayout.Direction.TopToBottom if portrait else QBoxLayout.Direction.LeftToRight)
        # Cancel and OK: under the words beside the keypad, or under the keypad in one column.
        (self.layout_ if portrait else self.left).addWidget(self.buttons)
        self.keypad.set_large(portrait)
        self.panel.setFixedWidth(self.theme.px(880 if portrait else 1500))

    def show_model(self, model: PinPad) -> None:
        self.model = model
        locked = model.notice is PinNotice.LOCKED
        self.keypad.setEnabled(not locked and not model.checking)
        self.ok.setEnabled(not locked and not model.checking and model.digits > 0)
        self.show_texts()

    def show_texts(self) -> None:
        model = self.model
        if model is None:
            return
        self.title.setText(_("Staff sign-in"))
        if model.checking:
            self.prompt.setText(_("Checking…"))
        elif model.entry is Entry.CARD:
            self.prompt.setText(_("Staff card read. Enter your staff PIN."))
        else:
            self.prompt.setText(_("Enter your staff PIN."))
        self.dots.setText(" ".join(DOT * model.digits + EMPTY * max(0, 6 - model.digits))[: 2 * PIN_MAX])
        self.dots.setAccessibleName(_("PIN"))
        text = pin_notice(model.notice, model.tries_left, model.locked_until) if model.notice else None
        self.notice.set_text(text)
        self.cancel.setText(_("Cancel"))
        self.ok.setText(_("OK"))
        self.keypad.retranslate()
