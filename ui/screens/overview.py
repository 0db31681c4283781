"""The house at a glance: every meter with balance and forecast, the fees due, and one-touch recharge.

Elderly mode (a theme with `elderly`) shows less of each: a meter's name, balance and how long it lasts (with a
warning when low), a fee's name and what is due; no meter numbers, usage figures, dates to recharge by or unusual
use, which a resident can see in standard mode. The core already left out the rarer fees and the reprint.
"""

from __future__ import annotations

from kiosk.clock import to_local
from kiosk.domain import Account, Meter
from kiosk.forecast import Forecast
from kiosk.i18n import _, current
from kiosk.messages import account_kind_text, last_payment_text, receipt_failed, reprint_text
from kiosk.screens import LastPayment, Outcome, OverviewScreen, ReceiptState
from ui.journey_api import JourneyApi
from ui.qt import (
    QBoxLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QMouseEvent,
    QScrollArea,
    QSizePolicy,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from ui.screens.base import ScreenView, box_direction, clear_layout, make_label
from ui.texts import house_text, meter_name, meter_number_text, money
from ui.theme import Theme, set_style_property
from ui.widgets.banner import NoteBanner
from ui.widgets.buttons import BigButton
from ui.widgets.icons import IconView

ACCOUNT_ICONS = {"heating": "heating", "property": "property", "water": "water"}


def last_payment_kind(outcome: Outcome) -> str:
    """The banner's look: went through (success), still being confirmed (info), else did not go through."""
    if outcome is Outcome.PAID:
        return "success"
    if outcome is Outcome.UNKNOWN:
        return "info"
    return "warning"


def last_payment_banner_text(last: LastPayment) -> str:
    t = current()
    day = to_local(last.at, t.timezone).date()  # the resident's calendar day, not UTC's
    return last_payment_text(last.outcome, money(last.amount_fen), t.date(day))


def days_left_text(forecast: Forecast) -> str | None:
    """ "About 12 days left", a low-balance warning, or None when there is too little history."""
    days = forecast.days_left
    if days is None:
        return None
    if days <= 0:
        return _("The balance has run out.")
    if forecast.low:
        return current().ngettext(
            "Balance is low: about {days} day left.", "Balance is low: about {days} days left.", days
        ).format(days=days)
    return current().ngettext("About {days} day left", "About {days} days left", days).format(days=days)


class WarningLine(QWidget):
    """A warning icon beside words: the warning never rests on colour alone."""

    def __init__(self, theme: Theme, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.px(12))
        layout.addWidget(IconView("warning", theme.px(40), theme.palette.warning_edge), 0, Qt.AlignmentFlag.AlignTop)
        self.label = make_label(text, role="warning")
        layout.addWidget(self.label, 1)


def add_selection(theme: Theme, row: QHBoxLayout, selected: bool) -> None:
    """Whether the meter is the chosen one, in words and a tick, not only in the frame's colour."""
    if selected:
        row.addWidget(IconView("tick", theme.px(36), theme.palette.primary))
    row.addWidget(make_label(_("Selected") if selected else _("Tap to choose"),
                             role="heading" if selected else "muted", wrap=False))


def balance_row(theme: Theme, meter: Meter) -> QHBoxLayout:
    """"Balance" and the amount, large, on one baseline."""
    row = QHBoxLayout()
    row.setSpacing(theme.px(16))
    row.addWidget(make_label(_("Balance"), role="muted", wrap=False), 0, Qt.AlignmentFlag.AlignBaseline)
    row.addWidget(make_label(money(meter.balance_fen), role="huge", wrap=False), 1, Qt.AlignmentFlag.AlignBaseline)
    return row


class MeterCard(QFrame):
    """One meter: name, balance, this month's use and the forecast. Tap to select it."""

    clicked = Signal(str)

    def __init__(
        self, theme: Theme, meter: Meter, forecast: Forecast | None, selected: bool, choosable: bool,
        wide: bool, parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.meter_id = meter.meter_id
        self.selected = selected
        set_style_property(self, "frame", "card")
        set_style_property(self, "selected", "true" if selected else "false")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        pad = theme.px(24)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(pad, pad, pad, pad)
        layout.setSpacing(theme.px(6))
        self.setAccessibleName(f"{meter_name(meter)} {money(meter.balance_fen)}")
        if theme.elderly:
            self._build_simple(theme, layout, meter, forecast, selected, choosable, wide)
            return

        top = QHBoxLayout()
        top.setSpacing(theme.px(12))
        top.addWidget(IconView("electricity", theme.px(52), theme.palette.primary))
        top.addWidget(make_label(meter_name(meter), role="heading"), 1)
        identity = QVBoxLayout()
        identity.setSpacing(theme.px(6))
        identity.addLayout(top)
        number_row = QHBoxLayout()
        number_row.addWidget(make_label(meter_number_text(meter), role="small", wrap=False), 1)
        if choosable:
            add_selection(theme, number_row, selected)
        identity.addLayout(number_row)
        identity.addLayout(balance_row(theme, meter))
        identity.addStretch(1)

        details = QVBoxLayout()
        details.setSpacing(theme.px(6))
        kwh = current().number(meter.month_to_date_kwh)
        if forecast is not None and forecast.month_estimate_fen is not None:
            use = _("This month: {kwh} kWh, about {amount}").format(
                kwh=kwh, amount=money(forecast.month_estimate_fen)
            )
        else:
            use = _("This month: {kwh} kWh").format(kwh=kwh)
        details.addWidget(make_label(use))
        if forecast is not None:
            days = days_left_text(forecast)
            if days and (forecast.low or (forecast.days_left or 0) <= 0):
                details.addWidget(WarningLine(theme, days))
            elif days:
                details.addWidget(make_label(days))
            if forecast.recharge_by is not None:
                recharge_by = _("Recharge by {date}").format(date=current().date(forecast.recharge_by))
                details.addWidget(make_label(recharge_by, role="warning" if forecast.low else "muted"))
            if forecast.abnormal_rise:
                details.addWidget(WarningLine(theme, _("Use this month is much higher than usual.")))
        details.addStretch(1)
        # Wide cards (one per row) put the forecast beside the balance, so two meters fit on a portrait panel.
        body = QHBoxLayout() if wide else QVBoxLayout()
        body.setSpacing(theme.px(32) if wide else theme.px(6))
        body.addLayout(identity, 1)
        body.addLayout(details, 1)
        layout.addLayout(body)

    def _build_simple(
        self, theme: Theme, layout: QVBoxLayout, meter: Meter, forecast: Forecast | None, selected: bool,
        choosable: bool, wide: bool,
    ) -> None:
        """Elderly mode: name, whether it is the one chosen, balance, and how long it lasts."""
        top = QHBoxLayout()
        top.setSpacing(theme.px(12))
        top.addWidget(IconView("electricity", theme.px(52), theme.palette.primary))
        top.addWidget(make_label(meter_name(meter), role="heading"), 1)
        layout.addLayout(top)
        if choosable:
            # Selection shows in words and a tick, not only in the frame's colour. A wide card (one per row)
            # has it on the name's line, so two meters fit a portrait panel without scrolling.
            if wide:
                add_selection(theme, top, selected)
            else:
                state = QHBoxLayout()
                state.setSpacing(theme.px(10))
                add_selection(theme, state, selected)
                state.addStretch(1)
                layout.addLayout(state)
        layout.addLayout(balance_row(theme, meter))
        days = days_left_text(forecast) if forecast is not None else None
        if forecast is not None and days and (forecast.low or (forecast.days_left or 0) <= 0):
            layout.addWidget(WarningLine(theme, days))
        elif days:
            layout.addWidget(make_label(days))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.rect().contains(event.position().toPoint()):
            self.clicked.emit(self.meter_id)
        super().mouseReleaseEvent(event)


class AccountRow(QFrame):
    """A fee account: kind and period, then the amount due and by when (or "Nothing due")."""

    def __init__(self, theme: Theme, account: Account, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_style_property(self, "frame", "card")
        pad = theme.px(20)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(pad, pad, pad, pad)
        layout.setSpacing(theme.px(16))
        icon = IconView(ACCOUNT_ICONS.get(account.kind, "property"), theme.px(48), theme.palette.primary)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        lines = QVBoxLayout()
        lines.setSpacing(theme.px(4))
        name = QHBoxLayout()
        name.setSpacing(theme.px(16))
        name.addWidget(make_label(account_kind_text(account.kind), role="heading", wrap=False), 0 if
                       not theme.elderly else 1)
        if not theme.elderly:  # elderly mode: the fee and what is due, no period or dates
            name.addWidget(make_label(account.period, role="small", wrap=False), 1, Qt.AlignmentFlag.AlignBaseline)
        lines.addLayout(name)
        if account.due_fen > 0:
            lines.addWidget(make_label(_("Due: {amount}").format(amount=money(account.due_fen)), wrap=False))
            if account.due_date is not None and not theme.elderly:
                when = _("Pay by {date}").format(date=current().date(account.due_date))
                lines.addWidget(make_label(when, role="small"))
        else:
            nothing = QHBoxLayout()
            nothing.setSpacing(theme.px(10))
            nothing.addWidget(IconView("tick", theme.px(32), theme.palette.success))
            nothing.addWidget(make_label(_("Nothing due"), role="success", wrap=False), 1)
            lines.addLayout(nothing)
        lines.addStretch(1)  # beside a taller card, the lines stay at the top
        layout.addLayout(lines, 1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)


class OverviewView(ScreenView):
    """Meters (tap to select), fees, "Recharge ¥X again", "Other amount" and Back."""

    def __init__(self, journey: JourneyApi, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(journey, theme, parent)
        root = QVBoxLayout(self)
        m = self.margins()
        root.setContentsMargins(m, theme.px(28), m, m)
        root.setSpacing(theme.px(theme.gap))
        self.last_payment = NoteBanner(theme)
        root.addWidget(self.last_payment)
        self.body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.body.setSpacing(theme.px(theme.gap * 1.5))

        meters_column = QVBoxLayout()
        meters_column.setSpacing(theme.px(16))
        self.meters_heading = make_label(role="heading")
        meters_column.addWidget(self.meters_heading)
        self.meters = QGridLayout()
        self.meters.setSpacing(theme.px(theme.gap))
        meters_box = QWidget()
        box_layout = QVBoxLayout(meters_box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.addLayout(self.meters)
        box_layout.addStretch(1)
        # A house with many meters scrolls rather than pushing the buttons off the screen.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(meters_box)
        scroll.setStyleSheet("QScrollArea, QScrollArea > QWidget > QWidget { background: transparent; }")
        meters_column.addWidget(scroll, 1)

        fees_column = QVBoxLayout()
        fees_column.setSpacing(theme.px(16))
        self.fees_heading = make_label(role="heading")
        fees_column.addWidget(self.fees_heading)
        self.accounts = QGridLayout()
        self.accounts.setSpacing(theme.px(16))
        fees_column.addLayout(self.accounts)
        # The house's last payment here was paid: its receipt can be printed again (kiosk/receipts.py).
        self.reprint = BigButton(theme, variant="secondary")
        self.reprint.clicked.connect(self.journey.reprint_last_receipt)
        fees_column.addWidget(self.reprint)
        reprint_row = QHBoxLayout()
        reprint_row.setSpacing(theme.px(12))
        self.reprint_icon = IconView("warning", theme.px(40), theme.palette.warning_edge)
        reprint_row.addWidget(self.reprint_icon, 0, Qt.AlignmentFlag.AlignTop)
        self.reprint_state = make_label()
        reprint_row.addWidget(self.reprint_state, 1)
        fees_column.addLayout(reprint_row)
        fees_column.addStretch(1)
        self.fees_panel = QWidget()
        self.fees_panel.setLayout(fees_column)

        self.body.addLayout(meters_column, 2)
        self.body.addWidget(self.fees_panel, 1, Qt.AlignmentFlag.AlignTop)
        root.addLayout(self.body, 1)

        actions = QGridLayout()
        actions.setSpacing(theme.px(theme.gap))
        self.back = BigButton(theme, icon="back")
        self.back.clicked.connect(self.journey.back)
        self.other = BigButton(theme)
        self.other.clicked.connect(self.journey.other_amount)
        self.quick = BigButton(theme, icon="electricity", variant="primary")
        self.quick.clicked.connect(self.journey.quick_pay)
        self.action_row = actions
        self._place_actions()
        root.addLayout(actions)
        # What the cards were last built for: coming Back from the amount screen shows the same house, and
        # rebuilding every card then cost a visible frame or two.
        self._built_for: tuple[object, ...] | None = None

    def _place_actions(self) -> None:
        """Landscape: Back, Other amount, Recharge in one row. Portrait: Recharge across, the others below."""
        for button in (self.back, self.other, self.quick):
            self.action_row.removeWidget(button)
        for column in range(3):
            self.action_row.setColumnStretch(column, 0)
        if self.portrait:
            self.action_row.addWidget(self.quick, 0, 0, 1, 2)
            self.action_row.addWidget(self.back, 1, 0)
            self.action_row.addWidget(self.other, 1, 1)
            stretches = (1, 1, 0)
        else:
            self.action_row.addWidget(self.back, 0, 0)
            self.action_row.addWidget(self.other, 0, 1)
            self.action_row.addWidget(self.quick, 0, 2)
            stretches = (2, 3, 4)
        for column, stretch in enumerate(stretches):
            self.action_row.setColumnStretch(column, stretch)

    def header_title(self) -> str:
        model: OverviewScreen = self.model
        return house_text(model.overview.house)

    def show_texts(self) -> None:
        model: OverviewScreen = self.model
        key = (model.overview, model.forecasts, model.selected_meter_id, current().language, self.portrait)
        if key != self._built_for:
            self._build_cards(model)
            self._built_for = key
        last = model.last_payment
        # Landscape leaves little height above the meters: the last payment's banner keeps to one line there.
        self.last_payment.set_compact(not self.portrait)
        if last is not None:
            self.last_payment.set_kind(last_payment_kind(last.outcome))
        self.last_payment.set_text(last_payment_banner_text(last) if last is not None else None)
        self.back.setText(_("Back"))
        self.other.setText(_("Other amount"))
        quick = model.quick_amount_fen
        self.quick.setVisible(quick is not None)
        if quick is not None:
            self.quick.setText(_("Recharge {amount} again").format(amount=money(quick)))
        # Without a one-touch amount, "Other amount" is the way on, so it takes the primary look.
        self.other.set_variant("secondary" if quick is not None else "primary")
        self.reprint.setText(_("Reprint last receipt"))
        self.reprint.setVisible(model.reprint_available)
        self.reprint.setEnabled(model.reprint is not ReceiptState.PRINTING)
        self.reprint_state.setText(reprint_text(model.reprint))
        self.reprint_state.setVisible(model.reprint is not ReceiptState.NONE)
        failed = receipt_failed(model.reprint)
        set_style_property(self.reprint_state, "role", "warning" if failed else "")
        self.reprint_icon.setVisible(failed)
        self.fees_panel.setVisible(bool(model.overview.accounts) or model.reprint_available)

    def _build_cards(self, model: OverviewScreen) -> None:
        """The meter cards and the fee rows, with their texts in the current language."""
        overview = model.overview
        clear_layout(self.meters)
        count = len(overview.meters)
        columns = 1 if self.portrait or count == 1 else 2
        for i, meter in enumerate(overview.meters):
            card = MeterCard(
                self.theme, meter, model.forecasts.get(meter.meter_id),
                meter.meter_id == model.selected_meter_id, choosable=count > 1, wide=columns == 1,
            )
            card.clicked.connect(self.journey.select_meter)
            self.meters.addWidget(card, i // columns, i % columns, Qt.AlignmentFlag.AlignTop)
        self.meters_heading.setText(_("Electricity"))
        clear_layout(self.accounts)
        # Portrait: fees two by two, which leaves the meters the height of a row of fees more.
        fee_columns = 2 if self.portrait else 1
        for column in range(2):
            self.accounts.setColumnStretch(column, 1 if column < fee_columns else 0)
        for i, account in enumerate(overview.accounts):
            row = AccountRow(self.theme, account)
            if fee_columns > 1:  # side by side, both as tall as the taller
                row.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            self.accounts.addWidget(row, i // fee_columns, i % fee_columns)
        self.fees_heading.setText(_("Fees"))
        self.fees_heading.setVisible(bool(overview.accounts))

    def relayout(self) -> None:
        self.body.setDirection(box_direction(self.portrait))
        # Landscape: meters take two thirds of the width. Portrait: the fees take only the height they need.
        self.body.setStretch(0, 1 if self.portrait else 2)
        self.body.setStretch(1, 0 if self.portrait else 1)
        self._place_actions()
        if self.model is not None:
            self.show_texts()

    def reset(self) -> None:
        self._built_for = None
        clear_layout(self.meters)
        clear_layout(self.accounts)
        self.last_payment.set_text(None)
