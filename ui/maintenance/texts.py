"""Catalog texts for the maintenance menu's codes: staff read these, so they go through the catalogs too."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from devices.base import DeviceState, DeviceStatus, ErrorAction, PaperState
from kiosk.i18n import N_, _, current
from kiosk.maintenance import MenuNotice, PinNotice, Section, SelfTestResult, SelfTestState
from kiosk.maintenance_work import SettleReason
from kiosk.staff import Action
from offline_queue.states import TxState
from ui.widgets.header import LANGUAGE_NAMES

SECTIONS = {
    Section.DEVICES: N_("Devices"),
    Section.QUEUE: N_("Payments"),
    Section.NETWORK: N_("Network"),
    Section.SETTINGS: N_("Settings"),
    Section.RECEIPTS: N_("Receipts"),
    Section.LOG: N_("Log"),
    Section.AUDIT: N_("Staff actions"),
    Section.TERMINAL: N_("Terminal"),
}

_DEVICES = {
    "card_reader": N_("Card reader"),
    "qr_scanner": N_("QR scanner"),
    "receipt_printer": N_("Receipt printer"),
    "speaker": N_("Speaker"),
}
_STATES = {
    DeviceState.ONLINE: N_("Working"),
    DeviceState.OFFLINE: N_("Offline"),
    DeviceState.NO_DEVICE: N_("Not connected"),
    DeviceState.HARDWARE_ERROR: N_("Hardware fault"),
    DeviceState.BUSY: N_("Busy"),
}
_PAPER = {
    PaperState.OK: N_("Paper: enough"),
    PaperState.LOW: N_("Paper: running low"),
    PaperState.OUT: N_("Paper: out"),
    PaperState.UNKNOWN: N_("Paper: unknown"),
}
_ACTIONS_NEEDED = {
    ErrorAction.RESET: N_("Needs: a reset (switch it off and on)"),
    ErrorAction.CLEAR: N_("Needs: clearing (paper jam, card stuck, cover open)"),
    ErrorAction.MAINTENANCE: N_("Needs: a technician"),
    ErrorAction.CONFIGURATION: N_("Needs: its setting checked (docs/devices.md)"),
}
_TEST_STATES = {
    SelfTestState.RUNNING: N_("Testing…"),
    SelfTestState.PASSED: N_("Test passed"),
    SelfTestState.FAILED: N_("Test failed"),
    SelfTestState.TIMED_OUT: N_("Nothing came within 30 seconds"),
}
_WAITING_FOR = {
    "card_reader": N_("Insert or tap any card now…"),
    "qr_scanner": N_("Scan any code now…"),
}
_READ = {
    "card": N_("card {value}"),
    "house": N_("house code {value}"),
    "bill": N_("bill code {value}"),
    "payment_code": N_("payment code {value}"),
    "not_ours": N_("a code that is not ours ({value})"),
    "unreadable": N_("a code it could not read"),
}
_PRINT_FAULTS = {
    "paper_out": N_("out of paper"),
    "offline": N_("printer offline"),
    "cover_open": N_("cover open"),
}
_PIN_NOTICES = {
    PinNotice.LOCKED: N_("Too many wrong PINs. The menu is locked until {time}."),
    PinNotice.NO_STAFF: N_("No staff PIN is set on this terminal. Set one with: kiosk staff set-pin"),
    PinNotice.TOO_SHORT: N_("A PIN has at least 6 digits."),
    PinNotice.ERROR: N_("The PIN could not be checked. Please try again."),
}
_MENU_NOTICES = {
    MenuNotice.RETRY_QUEUED: N_("Retry started: the payment is being settled again under its own key."),
    MenuNotice.SETTLED: N_("Marked as settled."),
    MenuNotice.EXPORTED: N_("Exported to {detail}"),
    MenuNotice.SETTING_SAVED: N_("Saved. In use from now on."),
    MenuNotice.SETTING_INVALID: N_("Not saved: that value is not allowed for {detail}."),
    MenuNotice.SETTINGS_RESET: N_("Back to the values of the configuration file."),
    MenuNotice.REPRINTED: N_("Receipt printed."),
    MenuNotice.REPRINT_FAILED: N_("The receipt could not be printed: {detail}"),
    MenuNotice.OUT_OF_SERVICE: N_("The terminal is out of service. Residents see where else to pay."),
    MenuNotice.BACK_IN_SERVICE: N_("The terminal is back in service."),
    MenuNotice.FAILED: N_("That did not work: {detail}"),
}
_TX_STATES = {
    TxState.NEW: N_("being created"),
    TxState.AWAITING_PAYMENT: N_("awaiting payment"),
    TxState.PAYING: N_("being paid"),
    TxState.UNKNOWN: N_("being confirmed with HQ"),
    TxState.NEEDS_ATTENTION: N_("needs attention"),
    TxState.PAID: N_("paid"),
    TxState.DECLINED: N_("declined"),
    TxState.EXPIRED: N_("expired"),
    TxState.CANCELLED: N_("cancelled"),
    TxState.ABANDONED: N_("not made"),
}
REASONS = {
    SettleReason.CHECKED_WITH_HQ: N_("Checked with HQ"),
    SettleReason.PAYER_RECORD: N_("Payer's phone record"),
    SettleReason.HANDLED_AT_OFFICE: N_("Handled at the office"),
}
_AUDIT_ACTIONS = {
    Action.MENU_OPENED: N_("Opened the menu"),
    Action.MENU_CLOSED: N_("Closed the menu"),
    Action.PIN_WRONG: N_("Wrong PIN"),
    Action.PIN_LOCKED: N_("Wrong PIN: menu locked"),
    Action.DEVICE_TEST: N_("Tested a device"),
    Action.QUEUE_RETRY: N_("Retried a payment"),
    Action.QUEUE_SETTLED: N_("Marked a payment settled"),
    Action.QUEUE_EXPORT: N_("Exported payments"),
    Action.NETWORK_CHECK: N_("Checked the network"),
    Action.SETTING_CHANGED: N_("Changed a setting"),
    Action.SETTINGS_RESET: N_("Reset the settings"),
    Action.RECEIPT_REPRINT: N_("Reprinted a receipt"),
    Action.APP_RESTART: N_("Restarted the app"),
    Action.KIOSK_LEFT: N_("Left kiosk mode"),
    Action.OUT_OF_SERVICE: N_("Out of service"),
    Action.BACK_IN_SERVICE: N_("Back in service"),
    Action.PIN_SET: N_("PIN set"),
    Action.STAFF_REMOVED: N_("PIN removed"),
}
SETTING_NAMES = {
    "speech.volume_pct": N_("Voice volume (%)"),
    "speech.rate_pct": N_("Voice speed (%)"),
    "ui.language": N_("Default language"),
    "ui.mode": N_("Default mode"),
    "ui.inactivity_s": N_("Ask if more time is needed after (seconds)"),
    "ui.warning_s": N_("Then wait for an answer (seconds)"),
    "ui.result_s": N_("Result screen stays (seconds)"),
    "payment.countdown_s": N_("Payment QR valid for (seconds)"),
}
CHOICES = {
    "standard": N_("Standard"),
    "elderly": N_("Elderly mode"),
}


def text_of(table: Mapping[Any, str], key: Any, **values: Any) -> str:
    """The catalog text for `key` (the key itself when the table does not know it), formatted."""
    known = table.get(key)
    text = _(known) if known else str(key)
    return text.format(**values) if values else text


def device_name(kind: str) -> str:
    return text_of(_DEVICES, kind)


def device_state(status: DeviceStatus) -> str:
    return text_of(_STATES, status.state)


def device_details(status: DeviceStatus) -> list[str]:
    """Supplies, the last error and what it needs, one line each."""
    lines = []
    if status.paper is not None:
        lines.append(text_of(_PAPER, status.paper))
    if status.card_present is not None:
        lines.append(_("A card is in the reader") if status.card_present else _("No card in the reader"))
    if status.last_error:
        lines.append(_("Last error: {error}").format(error=status.last_error))
    if status.action is not ErrorAction.NONE:
        lines.append(text_of(_ACTIONS_NEEDED, status.action))
    return lines


def test_text(kind: str, result: SelfTestResult | None) -> str:
    if result is None:
        return ""
    if result.state is SelfTestState.WAITING:
        return text_of(_WAITING_FOR, kind)
    text = text_of(_TEST_STATES, result.state)
    if result.state is SelfTestState.PASSED and result.kind:
        text += ": " + text_of(_READ, result.kind, value=result.value)
    elif result.state is SelfTestState.FAILED and result.kind:
        detail = text_of(_READ, result.kind, value=result.value) if result.kind in _READ else text_of(
            _PRINT_FAULTS, result.kind)
        text += ": " + detail
    if result.at is not None:
        text += "  " + current().time(result.at)
    return text


def pin_notice(notice: PinNotice, tries: int | None, until: datetime | None) -> str:
    if notice is PinNotice.WRONG:
        left = tries or 0
        return current().ngettext("Wrong PIN. {tries} more try before the menu locks.",
                                  "Wrong PIN. {tries} more tries before the menu locks.", left).format(tries=left)
    return text_of(_PIN_NOTICES, notice, time=current().time(until) if until else "")


def menu_notice(notice: MenuNotice, detail: str) -> str:
    if notice is MenuNotice.SETTING_INVALID:
        detail = text_of(SETTING_NAMES, detail)  # the setting's name, not its key
    return text_of(_MENU_NOTICES, notice, detail=detail)


def tx_state(state: TxState) -> str:
    return text_of(_TX_STATES, state)


def audit_action(action: str) -> str:
    return text_of(_AUDIT_ACTIONS, action)


def setting_value(value: Any) -> str:
    if isinstance(value, str):
        return dict(LANGUAGE_NAMES).get(value) or text_of(CHOICES, value)
    return str(value)
