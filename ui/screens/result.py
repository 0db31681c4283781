"""How the payment ended: a clear icon and title, the details, the receipt, and "Done".

While the outcome is unknown the order number is what the resident keeps, so it gets a panel of its own, and the
printing line speaks of the slip that carries it (there is no electronic receipt for it).

When the paper receipt cannot be printed the payment stands: the line says so beside a warning icon (never by
colour alone), and the electronic receipt's QR (HQ's receipt_url) is what the resident takes instead.
"""

from __future__ import annotations

from kiosk.i18n import _, current
from kiosk.messages import notice_text, outcome_detail, outcome_title, receipt_failed, receipt_text
from kiosk.screens import Outcome, ReceiptState, ResultScreen
from ui.journey_api import JourneyApi
from ui.qt import QBoxLayout, QFrame, QGridLayout, QHBoxLayout, QSizePolicy, Qt, QVBoxLayout, QWidget
from ui.screens.base import ScreenView, box_direction, clear_layout, make_label
from ui.texts import house_text, meter_name, money
from ui.theme import Theme, set_style_property
from ui.widgets.banner import Banner
from ui.widgets.buttons import BigButton
from ui.widgets.icons import IconView
from ui.widgets.qr_code import QrCodeView


def outcome_icon(theme: Theme, outcome: Outcome) -> tuple[str, str]:
    """Icon name and colour: tick for paid, clock while unsettled, cross when nothing was charged."""
    p = theme.palette
    if outcome is Outcome.PAID:
        return "tick", p.success
    if outcome in (Outcome.EXPIRED, Outcome.UNKNOWN):
        return "clock", p.warning_edge
    return "cross", p.error_edge


class OrderNumberPanel(QFrame):
    """The order number, large, on a card: the reference a resident keeps while a payment is being confirmed."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_style_property(self, "frame", "card")
        layout = QVBoxLayout(self)
        pad = theme.px(20)
        layout.setContentsMargins(pad * 2, pad, pad * 2, pad)
        layout.setSpacing(theme.px(4))
        self.caption = make_label(role="muted")
        # Elderly mode's huge type would make the number wider than a portrait screen.
        self.number = make_label(role="title" if theme.elderly else "huge", wrap=False)
        self.number.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        layout.addWidget(self.caption)
        layout.addWidget(self.number)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Maximum)


class ResultView(ScreenView):
    """Outcome, amount, meter, new balance, order number, time, receipt state and e-receipt QR."""

    def __init__(self, journey: JourneyApi, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(journey, theme, parent)
        root = QVBoxLayout(self)
        m = self.margins()
        root.setContentsMargins(m, m, m, m)
        root.setSpacing(theme.px(theme.gap))
        self.body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.body.setSpacing(theme.px(theme.gap * 2))

        main = QVBoxLayout()
        main.setSpacing(theme.px(16 if theme.elderly else theme.gap))  # elderly: larger lines, less between
        title_row = QHBoxLayout()
        title_row.setSpacing(theme.px(24))
        self.icon = IconView("tick", theme.px(120), theme.palette.success)
        title_row.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        titles = QVBoxLayout()
        self.title = make_label(role="title")
        self.detail = make_label()
        titles.addWidget(self.title)
        titles.addWidget(self.detail)
        title_row.addLayout(titles, 1)
        main.addLayout(title_row)
        self.rows = QGridLayout()
        self.rows.setHorizontalSpacing(theme.px(32))
        self.rows.setVerticalSpacing(theme.px(4 if theme.elderly else 12))  # elderly: larger lines, less between
        self.rows.setColumnStretch(1, 1)
        # The facts, and beside them (below them in portrait) the order number to keep while unconfirmed.
        self.facts = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.facts.setSpacing(theme.px(theme.gap * 2))
        self.facts.addLayout(self.rows, 1)
        self.facts.setAlignment(self.rows, Qt.AlignmentFlag.AlignTop)
        self.order_panel = OrderNumberPanel(theme)
        self.order_panel.hide()
        self.facts.addWidget(self.order_panel, 0, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        main.addLayout(self.facts)
        receipt_row = QHBoxLayout()
        receipt_row.setSpacing(theme.px(16))
        self.receipt_icon = IconView("warning", theme.px(48), theme.palette.warning_edge)
        self.receipt_icon.hide()
        receipt_row.addWidget(self.receipt_icon, 0, Qt.AlignmentFlag.AlignTop)
        self.receipt = make_label(role="heading")
        receipt_row.addWidget(self.receipt, 1)
        main.addLayout(receipt_row)
        self.notice = Banner(theme, "warning")
        main.addWidget(self.notice)
        main.addStretch(1)
        self.body.addLayout(main, 3)

        self.qr_panel = QWidget()
        qr_layout = QVBoxLayout(self.qr_panel)
        qr_layout.setContentsMargins(0, 0, 0, 0)
        qr_layout.setSpacing(theme.px(12))
        self.qr = QrCodeView()
        self.qr.setMinimumSize(theme.px(380), theme.px(380))
        self.qr_caption = make_label(role="heading", centre=True)
        qr_layout.addWidget(self.qr, 1)
        qr_layout.addWidget(self.qr_caption)
        self.qr_panel.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.body.addWidget(self.qr_panel, 2)
        root.addLayout(self.body, 1)

        self.done = BigButton(theme, icon="check", variant="primary")
        self.done.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.done.setMinimumWidth(theme.px(560))
        # Not connected directly: clicked(bool) would hand finish() `False` as its notice.
        self.done.clicked.connect(lambda: self.journey.finish())
        root.addWidget(self.done, 0, Qt.AlignmentFlag.AlignHCenter)

    def load(self, model: ResultScreen) -> None:
        icon, colour = outcome_icon(self.theme, model.outcome)
        self.icon.set_icon(icon, colour)
        self.qr.set_data(model.receipt_url or "")
        self.qr_panel.setVisible(bool(model.receipt_url))
        self.order_panel.setVisible(self._order_kept(model))

    @staticmethod
    def _order_kept(model: ResultScreen) -> bool:
        """Whether the order number is the resident's reference to keep (the outcome is not known yet)."""
        return model.outcome is Outcome.UNKNOWN and bool(model.order_no)

    def header_title(self) -> str:
        model: ResultScreen = self.model
        return house_text(model.house)

    def show_texts(self) -> None:
        model: ResultScreen = self.model
        self.title.setText(outcome_title(model.outcome))
        self.detail.setText(outcome_detail(model.outcome))
        rows: list[tuple[str, str]] = [
            (_("Amount"), money(model.amount_fen)),
            (_("Meter"), meter_name(model.meter)),
        ]
        if model.outcome is Outcome.PAID and model.new_balance_fen is not None:
            rows.append((_("New balance"), money(model.new_balance_fen)))
        if model.order_no and not self._order_kept(model):
            rows.append((_("Order number"), model.order_no))
        if model.paid_at is not None:
            rows.append((_("Time"), current().datetime(model.paid_at)))
        clear_layout(self.rows)
        for i, (name, value) in enumerate(rows):
            self.rows.addWidget(make_label(name, role="muted", wrap=False), i, 0)
            value_label = make_label(value, role="heading")
            value_label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
            self.rows.addWidget(value_label, i, 1)
        self.order_panel.caption.setText(_("Order number"))
        self.order_panel.number.setText(model.order_no or "")
        failed = receipt_failed(model.receipt)
        self.receipt.setText(receipt_text(model.receipt, model.outcome, e_receipt=bool(model.receipt_url)))
        self.receipt.setVisible(model.receipt is not ReceiptState.NONE)
        set_style_property(self.receipt, "role", "warning" if failed else "heading")
        self.receipt_icon.setVisible(failed)
        self.notice.set_text(notice_text(model.notice) if model.notice else None)
        self.qr_caption.setText(_("Scan for your electronic receipt"))
        self.done.setText(_("Done"))

    def relayout(self) -> None:
        self.body.setDirection(box_direction(self.portrait))
        self.facts.setDirection(box_direction(self.portrait))
        # Portrait: the details take their own height and the receipt QR the rest, right below them.
        self.body.setStretch(0, 0 if self.portrait else 3)
        self.body.setStretch(1, 1 if self.portrait else 2)

    def reset(self) -> None:
        clear_layout(self.rows)
        self.qr.set_data("")
        self.order_panel.number.setText("")
