"""Choose how much to recharge: presets, or a custom amount in whole yuan on the keypad, then "Pay ¥X".

Elderly mode shows one thing at a time: the house's usual amounts (at most three, chosen by the core) and "Other
amount"; only that one brings the keypad, with the amount typed so far and a way back to the usual amounts.
"""

from __future__ import annotations

from kiosk.i18n import _
from kiosk.messages import notice_text
from kiosk.money import yuan_to_fen
from kiosk.screens import AmountScreen
from ui.journey_api import JourneyApi
from ui.qt import (
    QBoxLayout,
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QPushButton,
    QSizePolicy,
    Qt,
    QVBoxLayout,
    QWidget,
)
from ui.screens.base import ScreenView, box_direction, clear_layout, make_label
from ui.texts import house_text, meter_name, meter_number_text, money
from ui.theme import Theme, set_style_property
from ui.widgets.banner import Banner
from ui.widgets.buttons import BigButton
from ui.widgets.keypad import Keypad

MAX_YUAN_DIGITS = 5  # up to ¥99,999: the core's maximum is far below; more digits would only overflow the display


class AmountView(ScreenView):
    """Presets and a keypad; the chosen amount shows large; the core checks the range."""

    def __init__(self, journey: JourneyApi, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(journey, theme, parent)
        self.amount_fen: int | None = None
        self.digits = ""
        self.typing = not theme.elderly  # elderly mode: the keypad only after "Other amount"
        root = QVBoxLayout(self)
        m = self.margins()
        root.setContentsMargins(m, theme.px(28), m, m)
        root.setSpacing(theme.px(theme.gap))
        self.body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.body.setSpacing(theme.px(theme.gap * 2))
        left = QVBoxLayout()
        left.setSpacing(theme.px(theme.gap))
        self.title = make_label(role="title")
        left.addWidget(self.title)
        self.meter_line = make_label(role="muted")
        left.addWidget(self.meter_line)
        self.presets_heading = make_label(role="heading")
        left.addWidget(self.presets_heading)
        self.presets = QGridLayout()
        self.presets.setSpacing(theme.px(theme.gap))
        self.preset_group = QButtonGroup(self)
        left.addLayout(self.presets)
        self.display_card = QFrame()
        set_style_property(self.display_card, "frame", "card")
        display_layout = QVBoxLayout(self.display_card)
        display_layout.setContentsMargins(theme.px(24), theme.px(12), theme.px(24), theme.px(12))
        self.display = make_label(role="huge", wrap=False, centre=True)
        display_layout.addWidget(self.display)
        if theme.elderly:  # the amount typed so far, where the usual amounts were
            left.addWidget(self.display_card)
        self.hint = make_label(role="muted")
        left.addWidget(self.hint)
        self.other = BigButton(theme, icon="keypad")
        self.other.clicked.connect(lambda: self.use_keypad(True))
        self.usual = BigButton(theme, icon="back")
        self.usual.clicked.connect(lambda: self.use_keypad(False))
        for button in (self.other, self.usual):
            button.setVisible(False)
        self.usual.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        left.addWidget(self.usual, 0, Qt.AlignmentFlag.AlignLeft)
        self.notice = Banner(theme, "error")
        left.addWidget(self.notice)
        left.addStretch(1)

        right = QVBoxLayout()
        right.setSpacing(theme.px(16))
        if not theme.elderly:
            right.addWidget(self.display_card)
        self.keypad = Keypad(theme)
        self.keypad.digit_pressed.connect(self.type_digit)
        self.keypad.clear_pressed.connect(self.clear_amount)
        self.keypad.backspace_pressed.connect(self.delete_digit)
        right.addWidget(self.keypad, 0, Qt.AlignmentFlag.AlignHCenter)
        right.addStretch(1)
        self.body.addLayout(left, 1)
        self.body.addLayout(right, 0)
        self.body.addStretch(0)
        root.addLayout(self.body, 1)

        actions = QHBoxLayout()
        actions.setSpacing(theme.px(theme.gap))
        self.back = BigButton(theme, icon="back")
        self.back.clicked.connect(self.journey.back)
        self.pay = BigButton(theme, icon="qr", variant="primary")
        self.pay.clicked.connect(self.confirm)
        actions.addWidget(self.back, 1)
        actions.addWidget(self.pay, 2)
        root.addLayout(actions)

    # resident input ----------------------------------------------------------------------------------------
    def use_keypad(self, typing: bool) -> None:
        """Elderly mode: the keypad ("Other amount") or the usual amounts; either starts with no amount."""
        if not self.theme.elderly or typing == self.typing:
            return
        self.typing = typing
        self.amount_fen = None
        self.digits = ""
        self._show_mode()
        self._show_amount()

    def _show_mode(self) -> None:
        elderly, typing = self.theme.elderly, self.typing
        for button in self.preset_group.buttons():
            button.setVisible(not (elderly and typing))
        self.presets_heading.setVisible(not (elderly and typing))
        self.other.setVisible(elderly and not typing)
        self.usual.setVisible(elderly and typing)
        self.display_card.setVisible(typing)
        self.hint.setVisible(typing)
        self.keypad.setVisible(typing)

    def choose_preset(self, amount_fen: int) -> None:
        self.amount_fen = amount_fen
        self.digits = str(amount_fen // 100) if amount_fen % 100 == 0 else ""
        self._show_amount()

    def type_digit(self, digit: str) -> None:
        if len(self.digits) >= MAX_YUAN_DIGITS or (digit == "0" and not self.digits):
            return
        self.digits += digit
        self._from_digits()

    def delete_digit(self) -> None:
        self.digits = self.digits[:-1]
        self._from_digits()

    def clear_amount(self) -> None:
        self.digits = ""
        self._from_digits()

    def confirm(self) -> None:
        if self.amount_fen:
            self.journey.choose_amount(self.amount_fen)

    def _from_digits(self) -> None:
        self.amount_fen = yuan_to_fen(int(self.digits)) if self.digits else None
        self._show_amount()

    def _show_amount(self) -> None:
        for button in self.preset_group.buttons():
            button.setChecked(button.property("amount_fen") == self.amount_fen)
        self.display.setText(money(self.amount_fen) if self.amount_fen else money(0))
        self.pay.setEnabled(bool(self.amount_fen))
        self.pay.setText(
            _("Pay {amount}").format(amount=money(self.amount_fen)) if self.amount_fen else _("Choose an amount")
        )

    # model -------------------------------------------------------------------------------------------------
    def load(self, model: AmountScreen) -> None:
        self.amount_fen = None
        self.digits = ""
        self.typing = not self.theme.elderly
        if model.selected_fen:
            self.choose_preset(model.selected_fen)

    def header_title(self) -> str:
        model: AmountScreen = self.model
        return house_text(model.house)

    def show_texts(self) -> None:
        model: AmountScreen = self.model
        self.title.setText(_("How much do you want to recharge?"))
        balance = _("Balance now: {amount}").format(amount=money(model.meter.balance_fen))
        # Elderly mode: the meter's name and balance; its number is for standard mode.
        parts = (meter_name(model.meter), balance) if self.theme.elderly else (
            meter_name(model.meter), meter_number_text(model.meter), balance)
        self.meter_line.setText("  ·  ".join(parts))
        self.presets_heading.setText(
            _("Choose an amount:") if self.theme.elderly else _("Choose an amount, or type it in yuan:")
        )
        self.other.setText(_("Other amount"))
        self.usual.setText(_("Usual amounts"))
        for button in self.preset_group.buttons():
            self.preset_group.removeButton(button)
        self.presets.removeWidget(self.other)
        clear_layout(self.presets)
        # Elderly mode: the usual amounts and "Other amount" in one row (two by two in portrait).
        columns = (2 if self.portrait else len(model.presets_fen) + 1) if self.theme.elderly else 2
        for i, amount in enumerate(model.presets_fen):
            button = QPushButton(money(amount))
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setProperty("amount_fen", amount)
            set_style_property(button, "variant", "choice")
            button.clicked.connect(lambda _checked=False, a=amount: self.choose_preset(a))
            self.preset_group.addButton(button)
            self.presets.addWidget(button, i // columns, i % columns)
        if self.theme.elderly:
            count = len(model.presets_fen)
            self.presets.addWidget(self.other, count // columns, count % columns)
        minimum, maximum = money(model.min_fen), money(model.max_fen)
        self.hint.setText(_("From {minimum} to {maximum}").format(minimum=minimum, maximum=maximum))
        self.notice.set_text(
            notice_text(model.notice, minimum=minimum, maximum=maximum) if model.notice else None
        )
        self.keypad.retranslate()
        self.back.setText(_("Back"))
        self._show_mode()
        self._show_amount()

    def relayout(self) -> None:
        self.body.setDirection(box_direction(self.portrait))
        for index, stretch in enumerate((0, 0, 1) if self.portrait else (1, 0, 0)):
            self.body.setStretch(index, stretch)
        self.keypad.set_large(self.portrait)
        if self.model is not None:
            self.show_texts()

    def reset(self) -> None:
        self.amount_fen = None
        self.digits = ""
        self.presets.removeWidget(self.other)
        self.other.hide()
        clear_layout(self.presets)
        self.notice.set_text(None)
