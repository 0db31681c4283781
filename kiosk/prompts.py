"""What the terminal says on each screen, in the screen's language: catalog texts with numbers as spoken words.

`prompt_for(screen, mode)` is the whole prompt of a screen; `news(old, new, mode)` is what to say when the journey
shows the same screen again with something changed (a receipt printed, a notice), or None when nothing a resident
needs to hear changed; `warning_prompt(seconds)` is the spoken "Need more time?". Amounts, dates, counts and house
numbers go through `kiosk.spoken`, so a placeholder in a catalog text receives words ("一百元", "building three"),
never digits a speech engine reads badly.

A prompt is a few sentences, the ones a resident must hear before acting first; `act_after` counts them. Elderly
mode says more: every meter, the fees, the amounts offered, the time left, how to stop or hear it again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from babel.lists import format_list

from kiosk.clock import to_local, utc_now
from kiosk.domain import Account, HouseRef, Meter
from kiosk.forecast import Forecast
from kiosk.i18n import N_, _, current
from kiosk.messages import (
    account_kind_text,
    last_payment_text,
    loading_text,
    notice_text,
    outcome_detail,
    outcome_title,
    receipt_failed,
    receipt_text,
    reprint_text,
)
from kiosk.screens import (
    AmountScreen,
    CodePayment,
    HouseNumberScreen,
    IdleScreen,
    LoadingScreen,
    Mode,
    Notice,
    Outcome,
    OutOfServiceScreen,
    OverviewScreen,
    PaymentScreen,
    ReceiptState,
    ResultScreen,
    Screen,
)
from kiosk.spoken import count_words, date_words, digits_words, house_parts, money_words

# A meter as said in a sentence ("the lighting meter"); the on-screen names are capitalised labels.
_METERS = {
    "lighting": N_("lighting meter"),
    "air_conditioning": N_("air-conditioning meter"),
    "public": N_("shared-areas meter"),
}
_STOPS = ".!?。！？"


@dataclass(frozen=True)
class Prompt:
    """Sentences to speak in `language`; a resident can act once the first `act_after` of them have been said."""

    language: str
    sentences: tuple[str, ...]
    act_after: int

    @property
    def text(self) -> str:
        return " ".join(self.sentences)

    @property
    def before_action(self) -> str:
        """What a resident hears before they can act: the sentences up to the one that tells them how."""
        return " ".join(self.sentences[: self.act_after])


class _Sentences:
    """Collects a prompt's sentences; `must=True` marks one a resident needs before acting."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.act_after = 0

    def add(self, text: str, *, must: bool = False) -> None:
        text = sentence(text)
        if text:
            self.items.append(text)
            if must:
                self.act_after = len(self.items)

    def prompt(self) -> Prompt:
        items = tuple(self.items)
        # Nothing to act on (a loading screen, out of service): the whole prompt is what there is to hear.
        return Prompt(current().language, items, self.act_after or len(items))


def sentence(text: str) -> str:
    """A catalog text as one spoken sentence: a trailing ellipsis or a missing stop becomes a full stop, so the
    voice pauses before the next sentence ("。" after Chinese, "." otherwise)."""
    text = text.strip().removesuffix("…").rstrip()
    if text and text[-1] not in _STOPS:
        text += "。" if _wide(text[-1]) else "."
    return text


def _wide(char: str) -> bool:
    return ord(char) >= 0x2E80  # CJK and its punctuation


# ---- spoken values ------------------------------------------------------------------------------------------


def _language() -> str:
    return current().language


def _money(amount_fen: int) -> str:
    return money_words(amount_fen, _language())


def _house(house: HouseRef) -> str:
    parts = house_parts(house.building, house.unit, house.room, _language())
    return _("Building {building}, unit {unit}, room {room}").format(**parts)


def _meter(meter: Meter) -> str:
    known = _METERS.get(meter.use)
    if known:
        return _(known)
    return _("meter {number}").format(number=digits_words(meter.number, _language()))


def _spelled(code: str) -> str:
    """An order number character by character, digits as words."""
    return " ".join(digits_words(c, _language()) for c in code)


def _numbers_in(text: str) -> str:
    """Numbers inside a free text from the configuration ("1号楼物业服务中心") as words."""
    return re.sub(r"\d+", lambda m: count_words(int(m.group()), _language()), text)


def _list(items: Sequence[str]) -> str:
    return format_list(list(items), locale=current().locale)


def _notice(notice: Notice, minimum: int = 0, maximum: int = 0) -> str:
    return notice_text(notice, minimum=_money(minimum), maximum=_money(maximum))


# ---- the screens ------------------------------------------------------------------------------------------


def prompt_for(screen: Screen, mode: Mode, now: datetime | None = None) -> Prompt:
    """The whole prompt of `screen` in the current language; `now` (aware UTC) for the time left to pay."""
    s = _Sentences()
    elderly = mode is Mode.ELDERLY
    if isinstance(screen, IdleScreen):
        _idle(s, screen, elderly)
    elif isinstance(screen, HouseNumberScreen):
        _house_number(s, screen, elderly)
    elif isinstance(screen, LoadingScreen):
        s.add(loading_text(screen.what))
        if elderly:
            s.add(_("Please wait a moment."))
    elif isinstance(screen, OverviewScreen):
        _overview(s, screen, elderly)
    elif isinstance(screen, AmountScreen):
        _amount(s, screen, elderly)
    elif isinstance(screen, PaymentScreen):
        _payment(s, screen, elderly, now or utc_now())
    elif isinstance(screen, ResultScreen):
        _result(s, screen, elderly)
    elif isinstance(screen, OutOfServiceScreen):
        s.add(_("This terminal is out of service"))
        s.add(_("We are sorry. Staff are working on it."))
        s.add(_("Please pay at {place}.").format(place=_numbers_in(screen.where_in(_language()))))
        s.add(_("Payments made here before are safe."))
    return s.prompt()


def _idle(s: _Sentences, screen: IdleScreen, elderly: bool) -> None:
    if screen.notice is not None:
        s.add(_notice(screen.notice), must=True)
    if not screen.online:
        s.add(_("Payment is not possible right now. Please try again later."))
    if elderly:
        s.add(_("Welcome"))
    card, qr = screen.card_reader_ready, screen.qr_scanner_ready
    if card and qr:
        ways = _("Tap your resident card, scan the QR code on your door or bill, or type your house number.")
    elif card:
        ways = _("Tap your resident card, or type your house number.")
    elif qr:
        ways = _("Scan the QR code on your door or bill, or type your house number.")
    else:
        ways = _("Type your house number to start.")
    s.add(ways, must=True)
    if elderly:
        s.add(_("To hear this again, tap the loudspeaker button."))
    else:
        s.add(_("For large text and spoken help, tap Elderly mode."))


def _house_number(s: _Sentences, screen: HouseNumberScreen, elderly: bool) -> None:
    if screen.notice is not None:
        s.add(_notice(screen.notice), must=True)
        if screen.building and screen.unit and screen.room:
            parts = house_parts(screen.building, screen.unit, screen.room, _language())
            s.add(_("You typed building {building}, unit {unit}, room {room}.").format(**parts))
    s.add(_("Type your building, unit and room numbers, then tap Find my home."), must=True)
    if elderly:
        s.add(_("Tap a box, then type its number on the keypad."))


def _days_left(forecast: Forecast) -> str:
    days = forecast.days_left
    if days is None:
        return ""
    if days <= 0:
        return _("The balance has run out.")
    words = count_words(days, _language())
    if forecast.low:
        return current().ngettext(
            "Balance is low: about {days} day left.", "Balance is low: about {days} days left.", days
        ).format(days=words)
    return current().ngettext("About {days} day left", "About {days} days left", days).format(days=words)


def _balance(s: _Sentences, meter: Meter) -> None:
    s.add(_("Balance of the {meter}: {amount}.").format(meter=_meter(meter), amount=_money(meter.balance_fen)))


def _forecast(s: _Sentences, forecast: Forecast | None, elderly: bool) -> None:
    if forecast is None:
        return
    s.add(_days_left(forecast))
    if elderly and forecast.recharge_by is not None and forecast.low:
        s.add(_("Recharge by {date}").format(date=date_words(forecast.recharge_by, _language())))
    if elderly and forecast.abnormal_rise:
        s.add(_("Use this month is much higher than usual."))


def _overview_action(s: _Sentences, screen: OverviewScreen) -> None:
    if screen.quick_amount_fen is not None:
        s.add(_("Tap Recharge {amount} again, or tap Other amount.").format(amount=_money(screen.quick_amount_fen)),
              must=True)
    else:
        s.add(_("Tap Other amount to choose how much to recharge."), must=True)


def _overview(s: _Sentences, screen: OverviewScreen, elderly: bool) -> None:
    """The house, the selected meter's balance and what to tap first; then its forecast and, in elderly mode, the
    other meters and the fees."""
    overview = screen.overview
    s.add(_house(overview.house))
    last = screen.last_payment
    if last is not None:
        day = to_local(last.at, current().timezone).date()
        s.add(last_payment_text(last.outcome, _money(last.amount_fen), date_words(day, _language())), must=True)
    if screen.reprint is not ReceiptState.NONE:
        s.add(reprint_text(screen.reprint))
    selected = overview.meter(screen.selected_meter_id)
    _balance(s, selected)
    _overview_action(s, screen)
    _forecast(s, screen.forecasts.get(selected.meter_id), elderly)
    if len(overview.meters) > 1:
        s.add(_("The {meter} is selected; tap another meter to choose it.").format(meter=_meter(selected)))
    if elderly:
        for meter in overview.meters:
            if meter is not selected:
                _balance(s, meter)
                _forecast(s, screen.forecasts.get(meter.meter_id), elderly)
        for account in overview.accounts:
            for line in _account(account):
                s.add(line)


def _account(account: Account) -> tuple[str, ...]:
    fee = account_kind_text(account.kind)
    if account.due_fen <= 0:
        return (_("{fee}: nothing due.").format(fee=fee),)
    due = _("{fee}: {amount} due.").format(fee=fee, amount=_money(account.due_fen))
    if account.due_date is None:
        return (due,)
    return due, _("Pay by {date}").format(date=date_words(account.due_date, _language()))


def _amount(s: _Sentences, screen: AmountScreen, elderly: bool) -> None:
    if screen.notice is not None:
        s.add(_notice(screen.notice, screen.min_fen, screen.max_fen), must=True)
    if elderly:
        s.add(_("Balance now: {amount}").format(amount=_money(screen.meter.balance_fen)))
    s.add(_("How much do you want to recharge?"))
    if screen.selected_fen is not None:
        s.add(_("Chosen: {amount}. Tap Pay {amount} to go on.").format(amount=_money(screen.selected_fen)),
              must=True)
    s.add(_("Choose an amount from {minimum} to {maximum}, or type it in yuan.").format(
        minimum=_money(screen.min_fen), maximum=_money(screen.max_fen)), must=screen.selected_fen is None)
    if elderly and screen.presets_fen:
        s.add(_("You can choose {amounts}.").format(amounts=_list([_money(p) for p in screen.presets_fen])))


def confirmation(house: HouseRef, meter: Meter, amount_fen: int) -> str:
    """Said before paying: "You are recharging the lighting meter of building three, unit two, room five zero one
    with one hundred yuan" (您正在为三号楼二单元五零一室的照明电表充值一百元)."""
    return _("You are recharging the {meter} of {house} with {amount}.").format(
        meter=_meter(meter), house=_house(house), amount=_money(amount_fen)
    )


def _payment(s: _Sentences, screen: PaymentScreen, elderly: bool, now: datetime) -> None:
    if screen.code is CodePayment.CHECKING:
        s.add(_("Checking your payment code…"), must=True)
        s.add(_("Please keep your phone with you."), must=True)
        return
    if screen.code is CodePayment.CONFIRMING:
        s.add(_("Your phone is asking you to confirm this payment."), must=True)
        s.add(_("Confirm it on your phone. This screen moves on by itself; if you decline, nothing is charged."),
              must=True)
        return
    if screen.notice is not None:
        s.add(_notice(screen.notice), must=True)
    if not screen.connection_ok:
        s.add(_notice(Notice.CONNECTION_TROUBLE))
    s.add(confirmation(screen.house, screen.meter, screen.amount_fen), must=True)
    s.add(_("Scan with WeChat or Alipay to pay"), must=True)
    s.add(_("Or show your WeChat Pay or Alipay payment code to the scanner."))
    if elderly:
        left = max(0.0, (screen.deadline - now).total_seconds())
        minutes = max(1, math.ceil(left / 60))
        s.add(current().ngettext("You have {minutes} minute to pay.", "You have {minutes} minutes to pay.",
                                 minutes).format(minutes=count_words(minutes, _language())))
        s.add(_("To stop, tap Cancel payment."))


def _receipt(screen: ResultScreen) -> str:
    return receipt_text(screen.receipt, screen.outcome, e_receipt=screen.receipt_url is not None)


def _result(s: _Sentences, screen: ResultScreen, elderly: bool) -> None:
    s.add(outcome_title(screen.outcome), must=True)
    s.add(outcome_detail(screen.outcome), must=True)
    if screen.notice is not None:
        s.add(_notice(screen.notice))
    if elderly and screen.outcome is Outcome.PAID and screen.new_balance_fen is not None:
        s.add(_("The new balance is {amount}.").format(amount=_money(screen.new_balance_fen)))
    s.add(_receipt(screen))
    if elderly and _order_number_needed(screen):
        s.add(_("Your order number is {number}.").format(number=_spelled(screen.order_no or "")))
    s.add(_("When you are finished, tap Done."))


def _order_number_needed(screen: ResultScreen) -> bool:
    """A payment still being confirmed whose slip did not print: the resident must write the number down."""
    return screen.outcome is Outcome.UNKNOWN and screen.order_no is not None and receipt_failed(screen.receipt)


def warning_prompt(seconds: int) -> Prompt:
    """The spoken "Need more time?", with the seconds left before the screen goes back to the start."""
    s = _Sentences()
    s.add(_("Do you need more time?"))
    s.add(current().ngettext(
        "Otherwise the screen goes back to the start in {seconds} second.",
        "Otherwise the screen goes back to the start in {seconds} seconds.", seconds,
    ).format(seconds=count_words(seconds, _language())))
    s.add(_("If you do, tap Yes, more time."), must=True)
    return s.prompt()


# ---- what changed -----------------------------------------------------------------------------------------


def news(old: Screen, new: Screen, mode: Mode, now: datetime | None = None) -> Prompt | None:
    """What to say when the journey shows `new` after `old`: the whole prompt for another screen; for the same
    screen updated, only what changed that a resident needs to hear; None when nothing such changed (a count on
    the idle screen, the connection coming back)."""
    if type(old) is not type(new):
        return prompt_for(new, mode, now)
    s = _Sentences()
    if isinstance(new, IdleScreen | HouseNumberScreen | AmountScreen) and isinstance(
        old, IdleScreen | HouseNumberScreen | AmountScreen
    ):
        return prompt_for(new, mode, now) if new.notice is not None and new.notice != old.notice else None
    if isinstance(new, LoadingScreen) and isinstance(old, LoadingScreen):
        return prompt_for(new, mode, now) if new.what is not old.what else None
    if isinstance(new, OverviewScreen) and isinstance(old, OverviewScreen):
        if new.selected_meter_id != old.selected_meter_id:
            meter = new.overview.meter(new.selected_meter_id)
            _balance(s, meter)
            _overview_action(s, new)
            _forecast(s, new.forecasts.get(meter.meter_id), mode is Mode.ELDERLY)
        elif new.reprint is not old.reprint:
            s.add(reprint_text(new.reprint), must=True)
    elif isinstance(new, PaymentScreen) and isinstance(old, PaymentScreen):
        if new.code is not old.code or (new.notice is not None and new.notice != old.notice):
            return prompt_for(new, mode, now)
        if old.connection_ok and not new.connection_ok:
            s.add(_notice(Notice.CONNECTION_TROUBLE), must=True)
    elif isinstance(new, ResultScreen) and isinstance(old, ResultScreen):
        if new.notice != old.notice or new.outcome is not old.outcome:
            return prompt_for(new, mode, now)
        if new.receipt is not old.receipt:
            s.add(_receipt(new), must=True)
            if mode is Mode.ELDERLY and _order_number_needed(new):
                s.add(_("Your order number is {number}.").format(number=_spelled(new.order_no or "")))
    elif isinstance(new, OutOfServiceScreen) and isinstance(old, OutOfServiceScreen):
        return prompt_for(new, mode, now) if new.where != old.where else None
    prompt = s.prompt()
    return prompt if prompt.sentences else None

