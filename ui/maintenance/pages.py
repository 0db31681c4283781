"""The maintenance menu's pages. Each renders the `MenuScreen` model it is given and calls `MaintenanceMenu` back;
the only state kept here is a choice being made on screen (which payment is being marked settled, a confirmation)."""

from __future__ import annotations

from functools import partial
from typing import Any

from devices.base import DeviceState
from kiosk.i18n import _, current
from kiosk.maintenance import MaintenanceMenu, MenuScreen, QueueRow, SelfTestState, SettingRow
from kiosk.maintenance_work import SettleOutcome, SettleReason
from ui.maintenance.parts import Card, ScrollPage, row_button, small_label
from ui.maintenance.texts import (
    REASONS,
    SETTING_NAMES,
    audit_action,
    device_details,
    device_name,
    device_state,
    setting_value,
    test_text,
    text_of,
    tx_state,
)
from ui.qt import QFontDatabase, QHBoxLayout, QPlainTextEdit, QVBoxLayout, QWidget
from ui.screens.base import make_label
from ui.texts import money
from ui.theme import Theme


def _when(row: QueueRow) -> str:
    return current().datetime(row.created_at)


def _summary(row: QueueRow) -> str:
    parts = [_when(row), row.house_label, money(row.amount_fen)]
    if row.order_no:
        parts.append(_("order {order}").format(order=row.order_no))
    return "  ·  ".join(parts)


class Page(ScrollPage):
    """A page of the menu: `build(model)` makes its content afresh for each model."""

    def __init__(self, menu: MaintenanceMenu, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.menu = menu
        self.model: MenuScreen | None = None

    def show_model(self, model: MenuScreen) -> None:
        self.model = model
        self.clear()
        self.build(model)
        self.finish()

    def build(self, model: MenuScreen) -> None:
        raise NotImplementedError

    def tools(self, *buttons: QWidget) -> None:
        row = QHBoxLayout()
        row.setSpacing(self.theme.px(16))
        for button in buttons:
            row.addWidget(button)
        row.addStretch(1)
        holder = QWidget()
        holder.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        self.add(holder)


class DevicesPage(Page):
    def build(self, model: MenuScreen) -> None:
        t = self.theme
        for device in model.devices:
            card = Card(t)
            top = card.row(t)
            top.addWidget(make_label(device_name(device.kind), role="heading", wrap=False))
            ok = device.status.state is DeviceState.ONLINE
            top.addWidget(make_label(device_state(device.status), role="success" if ok else "error", wrap=False))
            top.addStretch(1)
            if device.kind in ("card_reader", "qr_scanner", "receipt_printer", "speaker"):
                busy = device.test is not None and device.test.state in (SelfTestState.RUNNING, SelfTestState.WAITING)
                test = row_button(t, _("Test"), partial(self.menu.test_device, device.kind), "primary")
                test.setObjectName(f"test:{device.kind}")
                test.setEnabled(not busy)
                top.addWidget(test)
            for line in device_details(device.status):
                card.body.addWidget(small_label(line))
            result = test_text(device.kind, device.test)
            if result:
                state = device.test.state if device.test else None
                role = {SelfTestState.PASSED: "success", SelfTestState.FAILED: "error",
                        SelfTestState.TIMED_OUT: "error"}.get(state, "warning") if state else "warning"
                label = make_label(result, role=role)
                label.setObjectName(f"result:{device.kind}")
                card.body.addWidget(label)
            self.add(card)


class QueuePage(Page):
    """Payments that need attention (retry, or mark settled with a reason) and those still being confirmed."""

    def __init__(self, menu: MaintenanceMenu, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(menu, theme, parent)
        self.settling: str | None = None  # the payment being marked settled
        self.outcome: SettleOutcome | None = None
        self.reason: SettleReason | None = None

    def build(self, model: MenuScreen) -> None:
        t = self.theme
        export = row_button(t, _("Export all to CSV"), self.menu.export_csv)
        export.setObjectName("export")
        export.setEnabled("export" not in model.busy)
        self.tools(export, row_button(t, _("Refresh"), self.menu.refresh))
        self.add(make_label(_("Needs attention: {n}").format(n=len(model.attention)), role="heading"))
        if not model.attention:
            self.add(make_label(_("Nothing needs attention."), role="muted"))
        for row in model.attention:
            self.add(self._attention_card(row, model))
        self.add(make_label(_("Being confirmed with HQ: {n}").format(n=len(model.waiting)), role="heading"))
        if not model.waiting:
            self.add(make_label(_("No payment is waiting."), role="muted"))
        for row in model.waiting:
            card = Card(t)
            card.body.addWidget(make_label(_summary(row)))
            card.body.addWidget(small_label(tx_state(row.state)))
            self.add(card)

    def _attention_card(self, row: QueueRow, model: MenuScreen) -> Card:
        t = self.theme
        card = Card(t)
        card.setObjectName(f"tx:{row.tx_id}")
        card.body.addWidget(make_label(_summary(row)))
        attempts = current().ngettext("{n} attempt", "{n} attempts", row.attempts).format(n=row.attempts)
        card.body.addWidget(small_label(f"{attempts}  ·  {row.last_error or ''}".strip(" ·")))
        busy = f"retry:{row.tx_id}" in model.busy or f"settle:{row.tx_id}" in model.busy
        if self.settling != row.tx_id:
            buttons = card.row(t)
            retry = row_button(t, _("Retry now"), lambda: self.menu.retry(row.tx_id), "primary")
            retry.setObjectName("retry")
            settle = row_button(t, _("Mark settled…"), lambda: self._start_settling(row.tx_id))
            settle.setObjectName("settle")
            for button in (retry, settle):
                button.setEnabled(not busy)
                buttons.addWidget(button)
            buttons.addStretch(1)
            return card
        card.body.addWidget(small_label(_("What happened to this payment?"), role="muted"))
        outcomes = card.row(t)
        for outcome, text in ((SettleOutcome.PAID, _("It was paid")), (SettleOutcome.NOT_PAID, _("It was not paid"))):
            choice = row_button(t, text, partial(self._choose, outcome=outcome), "choice", checkable=True)
            choice.setObjectName(f"outcome:{outcome.value}")
            choice.setChecked(self.outcome is outcome)
            outcomes.addWidget(choice)
        outcomes.addStretch(1)
        card.body.addWidget(small_label(_("How do you know?"), role="muted"))
        reasons = card.row(t)
        for reason in SettleReason:
            choice = row_button(t, text_of(REASONS, reason), partial(self._choose, reason=reason), "choice",
                                checkable=True)
            choice.setObjectName(f"reason:{reason.value}")
            choice.setChecked(self.reason is reason)
            reasons.addWidget(choice)
        reasons.addStretch(1)
        actions = card.row(t)
        confirm = row_button(t, _("Confirm"), lambda: self._confirm(row.tx_id), "primary")
        confirm.setObjectName("confirm")
        confirm.setEnabled(self.outcome is not None and self.reason is not None and not busy)
        actions.addWidget(confirm)
        actions.addWidget(row_button(t, _("Cancel"), self._stop_settling))
        actions.addStretch(1)
        return card

    def _start_settling(self, tx_id: str) -> None:
        self.settling, self.outcome, self.reason = tx_id, None, None
        self._rerender()

    def _stop_settling(self) -> None:
        self.settling = None
        self._rerender()

    def _choose(self, outcome: SettleOutcome | None = None, reason: SettleReason | None = None) -> None:
        self.outcome = outcome or self.outcome
        self.reason = reason or self.reason
        self._rerender()

    def _confirm(self, tx_id: str) -> None:
        if self.outcome is not None and self.reason is not None:
            outcome, reason = self.outcome, self.reason
            self.settling = None
            self.menu.mark_settled(tx_id, outcome, reason)

    def _rerender(self) -> None:
        if self.model is not None:
            self.show_model(self.model)


class NetworkPage(Page):
    def build(self, model: MenuScreen) -> None:
        t = self.theme
        check = row_button(t, _("Check now"), self.menu.check_network, "primary")
        check.setObjectName("check")
        check.setEnabled("network" not in model.busy)
        self.tools(check)
        card = Card(t)
        card.body.addWidget(make_label(_("Terminal: {id}").format(id=model.terminal_id)))
        card.body.addWidget(make_label(_("HQ address: {url}").format(url=model.hq_url)))
        info = model.network
        if info is None:
            card.body.addWidget(make_label(_("Checking…"), role="muted"))
        elif info.reachable:
            text = _("HQ answers, in {ms} ms.").format(ms=info.latency_ms)
            card.body.addWidget(make_label(text, role="success"))
        else:
            card.body.addWidget(make_label(_("HQ does not answer."), role="error"))
            card.body.addWidget(small_label(info.error))
        if info is not None:
            card.body.addWidget(small_label(_("This computer: {name}, address {address}").format(
                name=info.host_name, address=info.local_address or _("no route to HQ"))))
        self.add(card)
        note = _("Payments can be taken: HQ was reachable at the last check.") if model.online else _(
            "Payments cannot be taken now: HQ was unreachable at the last check. Waiting payments are kept.")
        self.add(make_label(note, role="muted"))


class SettingsPage(Page):
    def build(self, model: MenuScreen) -> None:
        t = self.theme
        for row in model.settings:
            self.add(self._setting_card(row))
        reset = row_button(t, _("Back to the configuration file's values"), self.menu.reset_settings)
        reset.setObjectName("reset")
        reset.setEnabled(any(row.overridden for row in model.settings))
        self.tools(reset)

    def _setting_card(self, row: SettingRow) -> Card:
        """One line: the setting's name, "changed here" when it is, and its buttons."""
        t = self.theme
        card = Card(t)
        card.setObjectName(f"setting:{row.item.key}")
        line = card.row(t)
        names = QVBoxLayout()
        names.setSpacing(t.px(4))
        names.addWidget(make_label(text_of(SETTING_NAMES, row.item.key)))
        if row.overridden:
            names.addWidget(small_label(_("changed here (the file says otherwise)"), role="muted"))
        elif not row.item.choices:
            names.addWidget(small_label(_("{minimum} to {maximum}").format(
                minimum=row.item.minimum, maximum=row.item.maximum)))
        line.addLayout(names, 1)
        key = row.item.key
        if row.item.choices:
            for choice in row.item.choices:
                button = row_button(t, setting_value(choice), partial(self.menu.change_setting, key, choice),
                                    "choice", checkable=True)
                button.setObjectName(f"choice:{choice}")
                button.setChecked(row.value == choice)
                line.addWidget(button)
            return card
        value = int(row.value)
        less = row_button(t, "−", lambda: self.menu.change_setting(key, value - row.item.step))
        less.setObjectName("less")
        less.setAccessibleName(_("Less"))
        less.setEnabled(value - row.item.step >= row.item.minimum)
        more = row_button(t, "+", lambda: self.menu.change_setting(key, value + row.item.step))
        more.setObjectName("more")
        more.setAccessibleName(_("More"))
        more.setEnabled(value + row.item.step <= row.item.maximum)
        shown = make_label(current().number(value, 0), role="heading", wrap=False, centre=True)
        shown.setObjectName("value")
        shown.setMinimumWidth(t.px(150))
        for button in (less, more):
            button.setMinimumWidth(t.px(120))
            button.setStyleSheet(button.styleSheet() + f" QPushButton {{ font-size: {t.px(t.heading_pt)}px; }}")
        for widget in (less, shown, more):
            line.addWidget(widget)
        return card


class ReceiptsPage(Page):
    def build(self, model: MenuScreen) -> None:
        t = self.theme
        self.add(make_label(_("Paid at this terminal in the last 7 days, newest first."), role="muted"))
        if not model.receipts:
            self.add(make_label(_("No paid payments to reprint."), role="muted"))
        for row in model.receipts:
            card = Card(t)
            line = card.row(t)
            line.addWidget(make_label(_summary(row)), 1)
            button = row_button(t, _("Reprint"), partial(self.menu.reprint, row.tx_id), "primary")
            button.setObjectName(f"reprint:{row.tx_id}")
            button.setEnabled(f"reprint:{row.tx_id}" not in model.busy)
            line.addWidget(button)
            self.add(card)


class TextPage(QWidget):
    """A read-only list of lines (the log, the audit log), with a Refresh button."""

    def __init__(self, menu: MaintenanceMenu, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.menu = menu
        self.theme = theme
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.px(16))
        self.refresh = row_button(theme, "", menu.refresh)
        top = QHBoxLayout()
        top.addWidget(self.refresh)
        top.addStretch(1)
        layout.addLayout(top)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPixelSize(theme.px(26))
        self.text.setFont(font)
        self.text.verticalScrollBar().setStyleSheet(f"QScrollBar:vertical {{ width: {theme.px(48)}px; }}")
        layout.addWidget(self.text, 1)

    def set_lines(self, lines: list[str], newest_last: bool) -> None:
        self.refresh.setText(_("Refresh"))
        text = "\n".join(lines) if lines else _("Nothing yet.")
        if text == self.text.toPlainText():
            return  # another part of the menu changed: keep the place staff scrolled to
        self.text.setPlainText(text)
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum() if newest_last else 0)

    def show_model(self, model: MenuScreen) -> None:
        raise NotImplementedError


class LogPage(TextPage):
    def show_model(self, model: MenuScreen) -> None:
        self.set_lines(list(model.log_lines), newest_last=True)


class AuditPage(TextPage):
    def show_model(self, model: MenuScreen) -> None:
        lines = []
        for entry in model.audit:
            detail = ", ".join(f"{k}={v}" for k, v in entry.detail.items())
            who = entry.staff_id or "-"
            lines.append(f"{current().datetime(entry.at)}  {who}  {audit_action(entry.action)}  {detail}".rstrip())
        self.set_lines(lines, newest_last=False)


class TerminalPage(Page):
    """Out of service and back, restart the app, leave kiosk mode (the last two ask to be pressed twice)."""

    def __init__(self, menu: MaintenanceMenu, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(menu, theme, parent)
        self.confirming: str | None = None

    def build(self, model: MenuScreen) -> None:
        t = self.theme
        card = Card(t)
        if model.out_of_service:
            card.body.addWidget(make_label(_("Out of service"), role="error"))
            card.body.addWidget(small_label(_("Residents see that this terminal is out of service and where else "
                                              "to pay.")))
            button = row_button(t, _("Put back in service"), lambda: self._service(False), "primary")
        else:
            card.body.addWidget(make_label(_("In service"), role="success"))
            card.body.addWidget(small_label(_("Residents can pay here.")))
            button = row_button(t, _("Take out of service"), lambda: self._service(True), "primary")
        button.setObjectName("service")
        button.setEnabled("service" not in model.busy)
        card.body.addWidget(button)
        self.add(card)
        for key, text, confirm, action in (
            ("restart", _("Restart the app"), _("Press again to restart the app"), self.menu.restart_app),
            ("leave", _("Leave kiosk mode"), _("Press again to leave kiosk mode"), self.menu.leave_kiosk),
        ):
            card = Card(t)
            pressed_once = self.confirming == key
            button = row_button(t, confirm if pressed_once else text,
                                partial(self._press, key, action), "primary" if pressed_once else "secondary")
            button.setObjectName(key)
            card.body.addWidget(button)
            if key == "leave":
                card.body.addWidget(small_label(_("The desktop is shown; residents cannot use the terminal until it "
                                                  "starts again.")))
            self.add(card)

    def _service(self, on: bool) -> None:
        self.confirming = None
        self.menu.set_out_of_service(on)

    def _press(self, key: str, action: Any) -> None:
        if self.confirming == key:
            self.confirming = None
            action()
            return
        self.confirming = key
        if self.model is not None:
            self.show_model(self.model)

    def reset(self) -> None:
        self.confirming = None

