"""Catalog texts for the codes the core puts in screen models, receipts and (later) voice prompts."""

from __future__ import annotations

from kiosk.i18n import N_, Translator, _, current
from kiosk.screens import Loading, Notice, Outcome, ReceiptState

_NOTICES = {
    Notice.UNKNOWN_CARD: N_("This card is not registered to a home here. Please ask the property office."),
    Notice.UNKNOWN_HOUSE: N_("We could not find that house number. Please check building, unit and room."),
    Notice.UNKNOWN_HOUSE_CODE: N_("This house code is not known here. Please type your house number instead."),
    Notice.UNKNOWN_BILL: N_("This bill is not known here. Please type your house number instead."),
    Notice.QR_NOT_OURS: N_("This QR code is not a house or bill code. Scan the code on your door or bill."),
    Notice.QR_UNREADABLE: N_("The code could not be read. Please scan it again."),
    Notice.HOUSE_NUMBER_INCOMPLETE: N_("Please enter building, unit and room."),
    Notice.HQ_UNREACHABLE: N_("The payment service cannot be reached right now. Please try again later."),
    Notice.HQ_SLOW: N_("The payment service is not answering. Please try again in a moment."),
    Notice.HQ_ERROR: N_("Something went wrong at the payment service. Please try again later."),
    Notice.AMOUNT_TOO_SMALL: N_("The smallest amount is {minimum}."),
    Notice.AMOUNT_TOO_LARGE: N_("The largest amount is {maximum}."),
    Notice.CONNECTION_TROUBLE: N_("Connection trouble. If you have paid, the payment is safe."),
    Notice.PAYMENT_CODE_TOO_EARLY: N_("Choose the amount first, then show your payment code."),
    Notice.NOT_A_PAYMENT_CODE: N_("This code cannot pay. Scan the QR code, or show your payment code."),
    Notice.PAYMENT_CODE_REFUSED: N_("Payment code not accepted; nothing was charged. Show a new code or scan the QR."),
}

_LOADING = {
    Loading.FINDING_HOUSE: N_("Finding your home…"),
    Loading.CREATING_ORDER: N_("Preparing your payment…"),
    Loading.CANCELLING: N_("Cancelling…"),
    Loading.CHECKING_PAYMENT: N_("Checking your payment…"),
}

_OUTCOMES = {
    Outcome.PAID: N_("Payment successful"),
    Outcome.DECLINED: N_("Payment declined"),
    Outcome.EXPIRED: N_("Payment not made in time"),
    Outcome.CANCELLED: N_("Payment cancelled"),
    Outcome.NOT_STARTED: N_("Payment not possible right now"),
    Outcome.UNKNOWN: N_("Payment being confirmed"),
}

_OUTCOME_DETAILS = {
    Outcome.PAID: N_("Your meter has been recharged."),
    Outcome.DECLINED: N_("Nothing was charged. You can try again."),
    Outcome.EXPIRED: N_("Nothing was charged. You can start again."),
    Outcome.CANCELLED: N_("Nothing was charged."),
    Outcome.NOT_STARTED: N_("Nothing was charged. Please try again later."),
    Outcome.UNKNOWN: N_("If you paid, the recharge completes by itself. Keep your order number."),
}

_RECEIPTS = {
    ReceiptState.NONE: "",
    ReceiptState.PRINTING: N_("Printing your receipt…"),
    ReceiptState.PRINTED: N_("Please take your receipt."),
    ReceiptState.PAPER_OUT: N_("The printer is out of paper. Scan the code for your electronic receipt."),
    ReceiptState.FAILED: N_("The receipt could not be printed. Scan the code for your electronic receipt."),
}

# Paid, but the paper receipt did not come out and HQ gave no electronic receipt to show instead.
_RECEIPTS_NO_URL = {
    ReceiptState.PAPER_OUT: N_("The printer is out of paper, so no paper receipt. Your payment is complete."),
    ReceiptState.FAILED: N_("The paper receipt could not be printed. Your payment is complete."),
}

# A reprint of the last receipt, asked for on the house's overview.
_REPRINTS = {
    ReceiptState.NONE: "",
    ReceiptState.PRINTING: N_("Printing your last receipt…"),
    ReceiptState.PRINTED: N_("Please take your receipt."),
    ReceiptState.PAPER_OUT: N_("The printer is out of paper. Please ask the property office for a copy."),
    ReceiptState.FAILED: N_("The receipt could not be printed. Please ask the property office for a copy."),
}

# The slip printed for a payment still being confirmed: it carries the order number, and there is no e-receipt.
_SLIPS = {
    ReceiptState.NONE: "",
    ReceiptState.PRINTING: N_("Printing your slip…"),
    ReceiptState.PRINTED: N_("Please take your slip. It shows your order number."),
    ReceiptState.PAPER_OUT: N_("The printer is out of paper. Please write down your order number."),
    ReceiptState.FAILED: N_("The slip could not be printed. Please write down your order number."),
}

_LAST_PAYMENTS = {
    Outcome.PAID: N_("Your last payment of {amount} on {date} went through. Your meter was recharged."),
    Outcome.UNKNOWN: N_(
        "Your last payment of {amount} on {date} is still being confirmed. It completes by itself; "
        "nothing is charged twice."
    ),
}
_LAST_PAYMENT_NOT_THROUGH = N_("Your last payment of {amount} on {date} did not go through. Nothing was charged.")

_METER_USES = {
    "lighting": N_("Lighting"),
    "air_conditioning": N_("Air conditioning"),
    "public": N_("Shared areas"),
}

_ACCOUNT_KINDS = {
    "heating": N_("Heating fee"),
    "property": N_("Property fee"),
    "water": N_("Water fee"),
}


def notice_text(notice: Notice, **values: str) -> str:
    return _(_NOTICES[notice]).format(**values)


def loading_text(what: Loading) -> str:
    return _(_LOADING[what])


def outcome_title(outcome: Outcome) -> str:
    return _(_OUTCOMES[outcome])


def outcome_detail(outcome: Outcome) -> str:
    return _(_OUTCOME_DETAILS[outcome])


def receipt_text(state: ReceiptState, outcome: Outcome | None = None, *, e_receipt: bool = True) -> str:
    """The receipt's printing state; for an outcome still UNKNOWN, the pending slip's (no e-receipt there).

    `e_receipt` says whether the electronic receipt's QR is on screen, which a failed print points to.
    """
    if outcome is not Outcome.UNKNOWN and not e_receipt and state in _RECEIPTS_NO_URL:
        return _(_RECEIPTS_NO_URL[state])
    text = (_SLIPS if outcome is Outcome.UNKNOWN else _RECEIPTS)[state]
    return _(text) if text else ""


def receipt_failed(state: ReceiptState) -> bool:
    """The paper receipt (or slip) did not come out."""
    return state in (ReceiptState.PAPER_OUT, ReceiptState.FAILED)


def reprint_text(state: ReceiptState) -> str:
    """How a reprint of the last receipt is going."""
    text = _REPRINTS[state]
    return _(text) if text else ""


def last_payment_text(outcome: Outcome, amount: str, date: str) -> str:
    """How the house's last payment here ended, for a resident who left before seeing it end."""
    return _(_LAST_PAYMENTS.get(outcome, _LAST_PAYMENT_NOT_THROUGH)).format(amount=amount, date=date)


def waiting_text(count: int, *, online: bool) -> str:
    """Payments the terminal is still settling with HQ: a calm note online, a staff cue with the offline badge."""
    t = current()
    if online:
        text = t.ngettext("{n} payment being confirmed", "{n} payments being confirmed", count)
    else:
        text = t.ngettext("{n} payment waiting to be confirmed", "{n} payments waiting to be confirmed", count)
    return text.format(n=count)


def meter_use_text(use: str, number: str, translator: Translator | None = None) -> str:
    """A meter's name for residents; an unknown use is named by its number."""
    t = (translator or current()).gettext
    known = _METER_USES.get(use)
    return t(known) if known else t(N_("Meter {number}")).format(number=number)


def account_kind_text(kind: str) -> str:
    known = _ACCOUNT_KINDS.get(kind)
    return _(known) if known else kind
