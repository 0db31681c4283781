"""Scan to pay: the payment QR, the amount, a live countdown and Cancel; or the resident's own payment code.

A resident may instead show their wallet's payment code to the scanner. While HQ checks it the screen says so;
while the wallet asks the resident to confirm on the phone, the QR and the countdown give way to that request
(there is no time limit then), and the core moves on by itself when the payment ends.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kiosk.clock import utc_now
from kiosk.i18n import _
from kiosk.messages import notice_text
from kiosk.screens import CodePayment, Notice, PaymentScreen
from ui.journey_api import JourneyApi
from ui.qt import QBoxLayout, QFrame, QGridLayout, QSizePolicy, Qt, QVBoxLayout, QWidget
from ui.screens.base import ScreenView, box_direction, make_label
from ui.texts import house_text, meter_name, money
from ui.theme import Theme, set_style_property
from ui.widgets.banner import Banner
from ui.widgets.buttons import BigButton
from ui.widgets.countdown import CountdownLabel
from ui.widgets.icons import IconView
from ui.widgets.qr_code import QrCodeView
from ui.widgets.spinner import Spinner


class CodePanel(QFrame):
    """In the QR's place while a payment code is under way: a turning indicator or a clock, and what to do."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_style_property(self, "frame", "card")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        layout = QVBoxLayout(self)
        # As large in elderly mode as in standard: the room goes to the larger words.
        pad = theme.standard.px(32)
        layout.setContentsMargins(pad, pad, pad, pad)
        layout.setSpacing(theme.standard.px(theme.gap))
        layout.addStretch(1)
        sign = theme.standard.px(160)
        self.spinner = Spinner(sign, theme.palette.primary)
        layout.addWidget(self.spinner, 0, Qt.AlignmentFlag.AlignHCenter)
        self.clock = IconView("clock", sign, theme.palette.primary)
        layout.addWidget(self.clock, 0, Qt.AlignmentFlag.AlignHCenter)
        self.message = make_label(role="heading", centre=True)
        layout.addWidget(self.message)
        self.detail = make_label(role="muted", centre=True)
        layout.addWidget(self.detail)
        layout.addStretch(1)

    def show_step(self, step: CodePayment) -> None:
        # The clock says "waiting for you" without colour; the spinner says "the terminal is busy".
        self.spinner.setVisible(step is CodePayment.CHECKING)
        self.clock.setVisible(step is CodePayment.CONFIRMING)
        if step is CodePayment.CHECKING:
            self.message.setText(_("Checking your payment code…"))
            self.detail.setText(_("Please keep your phone with you."))
        else:
            self.message.setText(_("Your phone is asking you to confirm this payment."))
            self.detail.setText(
                _("Confirm it on your phone. This screen moves on by itself; if you decline, nothing is charged.")
            )


class PaymentView(ScreenView):
    """The pay QR with instructions; the core watches the payment and moves on by itself."""

    home_visible = False  # an order is open: leaving goes through Cancel, so the core can close it

    def __init__(
        self, journey: JourneyApi, theme: Theme, parent: QWidget | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(journey, theme, parent)
        root = QVBoxLayout(self)
        m = self.margins()
        root.setContentsMargins(m, theme.px(28), m, m)
        root.setSpacing(theme.px(theme.gap))
        self.instruction = make_label(role="title", centre=True)
        root.addWidget(self.instruction)
        self.body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.body.setSpacing(theme.px(theme.gap * 2))
        self.qr = QrCodeView()
        qr_side = theme.standard.px(560)  # a phone reads it as well in either mode: the room goes to the text
        self.qr.setMinimumSize(qr_side, qr_side)
        self.body.addWidget(self.qr, 1)
        self.code_panel = CodePanel(theme)
        self.code_panel.setMinimumSize(qr_side, qr_side)
        self.code_panel.hide()
        self.body.addWidget(self.code_panel, 1)
        details = QVBoxLayout()
        details.setSpacing(theme.px(16))
        details.addStretch(1)
        self.amount_caption = make_label(role="muted", centre=True)
        self.amount = make_label(role="huge", wrap=False, centre=True)
        self.for_line = make_label(centre=True)
        self.countdown_caption = make_label(role="muted", centre=True)
        self.countdown = CountdownLabel(now)
        self.code_hint = make_label(role="muted", centre=True)
        self.notice = Banner(theme, "error")
        self.connection = Banner(theme, "warning")
        if theme.elderly:
            # The larger type leaves no room for four lines of figures: the amount and the time left side by side.
            figures = QGridLayout()
            figures.setSpacing(theme.px(16))
            figures.addWidget(self.amount_caption, 0, 0)
            figures.addWidget(self.amount, 1, 0)
            figures.addWidget(self.countdown_caption, 0, 1)
            figures.addWidget(self.countdown, 1, 1)
            details.addLayout(figures)
            details.addWidget(self.for_line)
        else:
            for widget in (self.amount_caption, self.amount, self.for_line, self.countdown_caption, self.countdown):
                details.addWidget(widget)
        details.addWidget(self.code_hint)
        details.addWidget(self.notice)
        details.addWidget(self.connection)
        details.addStretch(1)
        self.body.addLayout(details, 1)
        root.addLayout(self.body, 1)
        self.cancel = BigButton(theme, icon="cross")
        self.cancel.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.cancel.setMinimumWidth(theme.px(480))
        self.cancel.clicked.connect(self.journey.cancel_payment)
        root.addWidget(self.cancel, 0, Qt.AlignmentFlag.AlignHCenter)

    def load(self, model: PaymentScreen) -> None:
        self.qr.set_data(model.pay_url)
        by_qr = model.code is None
        # No countdown while a payment code is under way: the resident must never be timed out mid-payment.
        self.countdown.set_deadline(model.deadline if by_qr else None)
        self.qr.setVisible(by_qr)
        self.code_panel.setVisible(not by_qr)
        for widget in (self.countdown_caption, self.countdown):
            widget.setVisible(by_qr)
        # A notice, or the connection warning, says what matters more; the panel has no room for both.
        self.code_hint.setVisible(by_qr and model.notice is None and model.connection_ok)
        # While HQ checks the code there is nothing to cancel yet; the answer comes within a moment.
        self.cancel.setEnabled(model.code is not CodePayment.CHECKING)

    def header_title(self) -> str:
        model: PaymentScreen = self.model
        return house_text(model.house)

    def show_texts(self) -> None:
        model: PaymentScreen = self.model
        if model.code is None:
            self.instruction.setText(_("Scan with WeChat or Alipay to pay"))
        elif model.code is CodePayment.CHECKING:
            self.instruction.setText(_("Paying with your payment code"))
        else:
            self.instruction.setText(_("Please confirm the payment on your phone"))
        if model.code is not None:
            self.code_panel.show_step(model.code)
        self.amount_caption.setText(_("Amount to pay"))
        self.amount.setText(money(model.amount_fen))
        self.for_line.setText(
            _("For: {meter}, meter no. {number}").format(meter=meter_name(model.meter), number=model.meter.number)
        )
        self.countdown_caption.setText(_("Time left to pay"))
        self.code_hint.setText(_("Or show your WeChat Pay or Alipay payment code to the scanner."))
        self.notice.set_text(notice_text(model.notice) if model.notice else None)
        self.connection.set_text(None if model.connection_ok else notice_text(Notice.CONNECTION_TROUBLE))
        self.cancel.setText(_("Cancel payment"))

    def relayout(self) -> None:
        self.body.setDirection(box_direction(self.portrait))

    def reset(self) -> None:
        self.qr.set_data("")
        self.countdown.set_deadline(None)
