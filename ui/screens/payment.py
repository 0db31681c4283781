"""Scan to pay: the payment QR, the amount, a live countdown and Cancel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kiosk.clock import utc_now
from kiosk.i18n import _
from kiosk.messages import notice_text
from kiosk.screens import Notice, PaymentScreen
from ui.journey_api import JourneyApi
from ui.qt import QBoxLayout, QSizePolicy, Qt, QVBoxLayout, QWidget
from ui.screens.base import ScreenView, box_direction, make_label
from ui.texts import house_text, meter_name, money
from ui.theme import Theme
from ui.widgets.banner import Banner
from ui.widgets.buttons import BigButton
from ui.widgets.countdown import CountdownLabel
from ui.widgets.qr_code import QrCodeView


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
        self.qr.setMinimumSize(theme.px(560), theme.px(560))
        self.body.addWidget(self.qr, 1)
        details = QVBoxLayout()
        details.setSpacing(theme.px(16))
        details.addStretch(1)
        self.amount_caption = make_label(role="muted", centre=True)
        self.amount = make_label(role="huge", wrap=False, centre=True)
        self.for_line = make_label(centre=True)
        self.countdown_caption = make_label(role="muted", centre=True)
        self.countdown = CountdownLabel(now)
        self.connection = Banner(theme, "warning")
        for widget in (self.amount_caption, self.amount, self.for_line, self.countdown_caption, self.countdown):
            details.addWidget(widget)
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
        self.countdown.set_deadline(model.deadline)

    def header_title(self) -> str:
        model: PaymentScreen = self.model
        return house_text(model.house)

    def show_texts(self) -> None:
        model: PaymentScreen = self.model
        self.instruction.setText(_("Scan with WeChat or Alipay to pay"))
        self.amount_caption.setText(_("Amount to pay"))
        self.amount.setText(money(model.amount_fen))
        self.for_line.setText(
            _("For: {meter}, meter no. {number}").format(meter=meter_name(model.meter), number=model.meter.number)
        )
        self.countdown_caption.setText(_("Time left to pay"))
        self.connection.set_text(None if model.connection_ok else notice_text(Notice.CONNECTION_TROUBLE))
        self.cancel.setText(_("Cancel payment"))

    def relayout(self) -> None:
        self.body.setDirection(box_direction(self.portrait))

    def reset(self) -> None:
        self.qr.set_data("")
        self.countdown.set_deadline(None)
