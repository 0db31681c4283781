"""The resident's journey: identify the home, see it, pick an amount, pay, get the result and receipt.

`Journey` is the one place that decides which screen comes next. It runs on the GUI thread but never blocks:
HQ calls, database writes and printing go to `Runner` lanes and come back as callbacks. Each journey has a
generation number; a callback from a journey that has since ended is dropped (its durable effects, written by
the worker itself, are kept).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from devices.base import PrinterError, Receipt, ReceiptPrinter
from kiosk.clock import to_local, utc_now
from kiosk.code_payment import CodeAnswer, pay_with_code
from kiosk.config import Config
from kiosk.domain import FoundHouse, HouseOverview, HouseRef, Meter, Order, OrderStatus, ProtocolError
from kiosk.elderly import simpler_overview, usual_presets
from kiosk.forecast import forecast
from kiosk.hq_client import HqClient, HqError, HqFailure, HqNoAnswer, HqUnreachable
from kiosk.i18n import Translator
from kiosk.outbox_worker import Intent, OutboxWorker, QueueStatus
from kiosk.qr_payload import Payload, PayloadKind, Rejection
from kiosk.qr_payload import parse as parse_qr
from kiosk.receipts import build_pending_slip, build_receipt, reprint_receipt, reprintable
from kiosk.screens import (
    AmountScreen,
    CodePayment,
    HouseNumberScreen,
    IdleScreen,
    LastPayment,
    Loading,
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
from kiosk.tasks import Runner, TimerHandle, Timers
from kiosk.usage import UsageCounter
from offline_queue.models import OutboxKind
from offline_queue.states import InvalidTransition, TxState
from offline_queue.store import TransactionRecord, TransactionStore

log = logging.getLogger(__name__)

ScreenListener = Callable[[Screen], None]
Interceptor = Callable[[str, str], bool]
WarningListener = Callable[[int | None], None]

_IDENTIFY_ERRORS = {
    "unknown_card": Notice.UNKNOWN_CARD,
    "unknown_house": Notice.UNKNOWN_HOUSE,
    "unknown_house_code": Notice.UNKNOWN_HOUSE_CODE,
    "unknown_bill": Notice.UNKNOWN_BILL,
}
_INVALID_VALUE = {
    "card": Notice.UNKNOWN_CARD,
    "house_number": Notice.UNKNOWN_HOUSE,
    "house_code": Notice.UNKNOWN_HOUSE_CODE,
    "bill": Notice.UNKNOWN_BILL,
}
_SETTLED = {
    OrderStatus.PAID: (TxState.PAID, Outcome.PAID),
    OrderStatus.DECLINED: (TxState.DECLINED, Outcome.DECLINED),
    OrderStatus.EXPIRED: (TxState.EXPIRED, Outcome.EXPIRED),
    OrderStatus.CANCELLED: (TxState.CANCELLED, Outcome.CANCELLED),
}
MAX_CARD_ID = 64
LAST_PAYMENT_WINDOW = timedelta(days=30)
_OUTCOME_OF = {
    TxState.PAID: Outcome.PAID,
    TxState.DECLINED: Outcome.DECLINED,
    TxState.EXPIRED: Outcome.EXPIRED,
    TxState.CANCELLED: Outcome.CANCELLED,
    TxState.ABANDONED: Outcome.NOT_STARTED,
}


def failure_notice(exc: Exception) -> Notice:
    """The resident-facing notice for a failed HQ call."""
    if isinstance(exc, HqUnreachable):
        return Notice.HQ_UNREACHABLE
    if isinstance(exc, HqNoAnswer):
        return Notice.HQ_SLOW
    return Notice.HQ_ERROR


class Journey:
    """Drives one resident at a time through the recharge journey and emits the screen to show."""

    def __init__(
        self,
        *,
        config: Config,
        hq: HqClient,
        store: TransactionStore,
        printer: ReceiptPrinter,
        runner: Runner,
        worker: OutboxWorker,
        timers: Timers,
        translator: Translator,
        receipt_translator: Translator,
        clock: Callable[[], datetime] = utc_now,
        watch_client: Callable[[], HqClient] | None = None,
    ) -> None:
        """``watch_client`` makes the client of each payment status long poll, which runs on a thread of its own
        (the runner's detached "watch" lane): a poll stuck on a dead connection holds up no other, and a requests
        session is never shared between threads. Without it, the status is checked every
        ``payment.poll_interval_s`` on the hq lane, as with ``payment.long_poll_s = 0``."""
        self._config = config
        self._hq = hq
        self._watch_client = watch_client
        self._store = store
        self._printer = printer
        self._runner = runner
        self._worker = worker
        self._timers = timers
        self._translator = translator
        self._receipt_translator = receipt_translator
        # Receipts and slips print in the language the resident chose; one translator per language, never switched,
        # since the printer lane uses it on its own thread.
        self._receipt_translators = {receipt_translator.language: receipt_translator}
        self._clock = clock
        self._out_of_service = False
        self._mode = Mode(config.ui.mode)
        # The resident chose the mode with the idle screen's switch (not just the default): a card then remembers it.
        self._mode_chosen = False
        self._card_id: str | None = None  # the card that identified this journey's house, if one did
        self.usage = UsageCounter(clock)  # journeys by entry, language, mode and result, for the heartbeat
        self._intercept: Interceptor | None = None  # sees card and scan events first (the maintenance menu)
        self._screen_listeners: list[ScreenListener] = []
        self._warning_listeners: list[WarningListener] = []
        self._generation = 0
        self._online = True
        self._waiting = 0
        self._ready = {"card_reader": True, "qr_scanner": True}  # devices a resident may be invited to use
        self._screen: Screen = IdleScreen(language=translator.language)
        self._overview: HouseOverview | None = None
        self._selected_meter_id: str | None = None
        self._tx: TransactionRecord | None = None
        self._order: Order | None = None
        self._polled_status: OrderStatus | None = None  # the order's status the last status check found
        self._last: LastPayment | None = None
        # The house's last paid transaction here, whose receipt the overview offers to reprint.
        self._reprint_tx: TransactionRecord | None = None
        self._reprint_state = ReceiptState.NONE
        self._inactivity: TimerHandle | None = None
        self._payment_timers: list[TimerHandle] = []
        self._deadline_timer: TimerHandle | None = None
        self._warning_left: int | None = None
        self._warning_tick: TimerHandle | None = None
        self._payment_warning: TimerHandle | None = None  # elderly mode: "more time?" before the QR's time ends

    # ---- listeners and state -------------------------------------------------------------------------

    def add_screen_listener(self, listener: ScreenListener) -> None:
        self._screen_listeners.append(listener)

    def add_time_warning_listener(self, listener: WarningListener) -> None:
        self._warning_listeners.append(listener)

    @property
    def screen(self) -> Screen:
        return self._screen

    @property
    def online(self) -> bool:
        return self._online

    @property
    def mode(self) -> Mode:
        """The current journey's mode; back to the configured default when a journey ends."""
        return self._mode

    def set_mode(self, mode: Mode) -> None:
        """Switch between standard and elderly mode (the idle screen's 长辈版 switch); the screen is shown again.

        A resident's choice lasts their journey; a card they identify with next remembers it at HQ.
        """
        self._mode_chosen = True
        if mode == self._mode:
            return
        self._mode = mode
        self._show(self._screen)

    @property
    def elderly(self) -> bool:
        return self._mode is Mode.ELDERLY

    def _show(self, screen: Screen) -> None:
        if self._out_of_service and isinstance(screen, IdleScreen):
            screen = self._out_of_service_screen()
        self._screen = screen
        self._hide_warning()
        self._arm_inactivity()
        for listener in list(self._screen_listeners):
            listener(screen)
        self._arm_payment_warning()

    def _guard(self, callback: Callable[[Any], None]) -> Callable[[Any], None]:
        """Wrap a callback so that it does nothing once this journey has ended."""
        generation = self._generation

        def guarded(value: Any) -> None:
            if generation == self._generation:
                callback(value)

        return guarded

    def set_online(self, online: bool) -> None:
        """Record whether HQ answers; the idle screen shows it at once."""
        if online == self._online:
            return
        self._online = online
        if isinstance(self._screen, IdleScreen):
            self._show(replace(self._screen, online=online))

    def set_queue(self, status: QueueStatus) -> None:
        """The outbox worker's count of payments still being settled; the idle screen shows it."""
        if status.waiting == self._waiting:
            return
        self._waiting = status.waiting
        if isinstance(self._screen, IdleScreen):
            self._show(replace(self._screen, waiting=status.waiting))

    def set_device_ready(self, kind: str, ready: bool) -> None:
        """Whether the card reader or the QR scanner ("card_reader", "qr_scanner") can be used now; the idle
        screen invites residents to use only those that can."""
        if kind not in self._ready or self._ready[kind] == ready:
            return
        self._ready[kind] = ready
        log.info("%s %s", kind, "ready" if ready else "down: not offered on the idle screen")
        if isinstance(self._screen, IdleScreen):
            self._show(replace(self._screen, card_reader_ready=self._ready["card_reader"],
                               qr_scanner_ready=self._ready["qr_scanner"]))

    # ---- start and end ---------------------------------------------------------------------------------

    def _idle(self, notice: Notice | None = None) -> IdleScreen:
        return IdleScreen(
            online=self._online, language=self._translator.language, notice=notice, waiting=self._waiting,
            card_reader_ready=self._ready["card_reader"], qr_scanner_ready=self._ready["qr_scanner"],
        )

    def start(self) -> None:
        self._show(self._idle())

    def finish(self, notice: Notice | None = None) -> None:
        """End the journey: forget the resident and go back to idle."""
        if isinstance(self._screen, PaymentScreen):
            self.cancel_payment()
            return
        self._end_journey()
        self._mode = Mode(self._config.ui.mode)  # the next resident starts in the default mode
        self._mode_chosen = False
        if self._translator.language != self._config.ui.language:
            # ...and in the terminal's language: a switch is one resident's (their receipt is already built).
            self._translator.set_language(self._config.ui.language)
        self._show(self._idle(notice))

    # ---- out of service, and what the maintenance menu needs ------------------------------------------

    @property
    def out_of_service(self) -> bool:
        return self._out_of_service

    def set_out_of_service(self, on: bool) -> None:
        """Out of service: the idle screen becomes one saying so and where else to pay. A journey under way
        finishes first; it ends on that screen instead of the idle one."""
        if on == self._out_of_service:
            return
        self._out_of_service = on
        if isinstance(self._screen, IdleScreen | OutOfServiceScreen):
            self._show(self._idle())

    def _out_of_service_screen(self) -> OutOfServiceScreen:
        where = self._config.out_of_service
        return OutOfServiceScreen(where=(("zh_CN", where.where_zh_CN), ("en", where.where_en)))

    @property
    def at_rest(self) -> bool:
        """No resident is being served: the idle (or out-of-service) screen is showing."""
        return isinstance(self._screen, IdleScreen | OutOfServiceScreen)

    def set_interceptor(self, intercept: Interceptor | None) -> None:
        """`intercept(kind, value)` sees every card ("card"), scan ("scan") and unreadable scan ("unreadable")
        first, and returns True when it took the event (a staff card, a device self-test)."""
        self._intercept = intercept

    def apply_config(self, config: Config) -> None:
        """Settings changed at the terminal (time-outs...): used from the next screen on."""
        self._config = config
        if isinstance(self._screen, OutOfServiceScreen):
            self._show(self._idle())  # where else to pay may have changed

    def _end_journey(self) -> None:
        self._generation += 1
        self.usage.journey_closed()
        self._cancel_payment_timers()
        self._overview = None
        self._selected_meter_id = None
        self._tx = None
        self._order = None
        self._polled_status = None
        self._last = None
        self._reprint_tx = None
        self._reprint_state = ReceiptState.NONE
        self._card_id = None

    def set_language(self, language: str) -> None:
        """Switch the screen's language; only offered on the idle screen."""
        self._translator.set_language(language)
        if isinstance(self._screen, IdleScreen):
            self._show(replace(self._screen, language=language, notice=None))
        else:
            self._show(self._screen)

    def back(self) -> None:
        screen = self._screen
        if isinstance(screen, AmountScreen) and self._overview is not None:
            self._show_overview()
        elif isinstance(screen, HouseNumberScreen | OverviewScreen | ResultScreen):
            self.finish()

    # ---- identification ----------------------------------------------------------------------------------

    def _accepts_identification(self) -> bool:
        return not isinstance(self._screen, LoadingScreen | PaymentScreen | OutOfServiceScreen)

    def card_inserted(self, card_id: str) -> None:
        if self._intercept is not None and self._intercept("card", card_id):
            return
        if not self._accepts_identification():
            log.info("card ignored during %s", type(self._screen).__name__)
            return
        card_id = card_id.strip()
        if not card_id or len(card_id) > MAX_CARD_ID or not card_id.isalnum():
            self.finish(Notice.UNKNOWN_CARD)
            return
        self._identify("card", card_id)

    def qr_scanned(self, raw: str) -> None:
        if self._intercept is not None and self._intercept("scan", raw):
            return
        result = parse_qr(raw)
        if isinstance(result, Payload) and result.kind is PayloadKind.PAYMENT_CODE:
            self._payment_code_scanned(result)
            return
        if isinstance(self._screen, PaymentScreen):
            self._not_a_payment_code(result)
            return
        if not self._accepts_identification():
            log.info("scan ignored during %s", type(self._screen).__name__)
            return
        if isinstance(result, Payload):
            method = "house_code" if result.kind is PayloadKind.HOUSE else "bill"
            self._identify(method, result.code)
            return
        not_ours = result in (Rejection.NOT_OURS, Rejection.BAD_PAYMENT_CODE)
        notice = Notice.QR_NOT_OURS if not_ours else Notice.QR_UNREADABLE
        if isinstance(self._screen, HouseNumberScreen):
            self._show(replace(self._screen, notice=notice))
        else:
            self.finish(notice)

    def qr_unreadable(self, reason: str) -> None:
        """The scanner saw a code it could not read (too long, not text, cut short): said like a bad code."""
        if self._intercept is not None and self._intercept("unreadable", reason):
            return
        if not self._accepts_identification():
            log.info("unreadable scan (%s) ignored during %s", reason, type(self._screen).__name__)
            return
        if isinstance(self._screen, HouseNumberScreen):
            self._show(replace(self._screen, notice=Notice.QR_UNREADABLE))
        else:
            self.finish(Notice.QR_UNREADABLE)

    def enter_house_number(self) -> None:
        if isinstance(self._screen, OutOfServiceScreen):
            return
        self._end_journey()
        self._show(HouseNumberScreen())

    def submit_house_number(self, building: str, unit: str, room: str) -> None:
        typed = HouseNumberScreen(building.strip(), unit.strip(), room.strip())
        parts = (typed.building, typed.unit, typed.room)
        if not all(p.isdigit() and len(p) <= 6 for p in parts):
            self._show(replace(typed, notice=Notice.HOUSE_NUMBER_INCOMPLETE))
            return
        self._identify("house_number", "-".join(str(int(p)) for p in parts), typed=typed)

    def _identify(self, method: str, value: str, typed: HouseNumberScreen | None = None) -> None:
        self._end_journey()
        self.usage.journey_started(method, self._translator.language, self._mode.value)
        self._show(LoadingScreen(Loading.FINDING_HOUSE))

        def work() -> tuple[HouseOverview, LastPayment | None, TransactionRecord | None, FoundHouse]:
            found = self._hq.find_house(method, value)
            house = found.house
            last = self._last_payment(house.house_id)
            return self._hq.overview(house.house_id), last, reprintable(
                self._store, house.house_id, self._config.terminal.id
            ), found

        def failed(exc: Exception) -> None:
            if isinstance(exc, HqError) and exc.code in _IDENTIFY_ERRORS:
                notice = _IDENTIFY_ERRORS[exc.code]
            elif isinstance(exc, HqError) and exc.code == "invalid_request":
                notice = _INVALID_VALUE[method]
            else:
                log.warning("identify by %s failed: %s", method, exc)
                notice = failure_notice(exc)
            self._note_reachability(exc)
            if typed is not None:
                self._show(replace(typed, notice=notice))
            else:
                self.finish(notice)

        card = value if method == "card" else None
        self._runner.submit(
            "hq", work, self._guard(lambda found: self._house_found(found, card)), self._guard(failed)
        )

    def _last_payment(self, house_id: str) -> LastPayment | None:
        """The house's last payment here, if the resident left before seeing how it ended (worker thread)."""
        tx = self._store.last_for_house(house_id)
        if tx is None or self._clock() - tx.created_at > LAST_PAYMENT_WINDOW:
            return None
        if not any(e.to_state is TxState.UNKNOWN for e in self._store.history(tx.id)):
            return None
        return LastPayment(_OUTCOME_OF.get(tx.state, Outcome.UNKNOWN), tx.amount_fen, tx.created_at, tx.order_no)

    def _house_found(
        self, found: tuple[HouseOverview, LastPayment | None, TransactionRecord | None, FoundHouse],
        card: str | None = None,
    ) -> None:
        self.set_online(True)
        overview, self._last, self._reprint_tx, house = found
        self._overview = overview
        if card is not None:
            self._card_id = card
            self._card_mode(card, house.preferred_mode)
        last = overview.last_recharge
        meter_ids = [m.meter_id for m in overview.meters]
        self._selected_meter_id = last.meter_id if last and last.meter_id in meter_ids else meter_ids[0]
        self._show_overview()

    def _card_mode(self, card: str, preferred: str | None) -> None:
        """A resident card: the mode its holder chose on the idle screen just now is remembered at HQ; else the
        mode they chose last time is taken up (before the house's screen is shown)."""
        if not self._mode_chosen:
            if preferred in (Mode.STANDARD.value, Mode.ELDERLY.value) and preferred != self._mode.value:
                log.info("card's remembered mode: %s", preferred)
                self.usage.mode_changed(self._mode.value, preferred)
                self._mode = Mode(preferred)
            return
        stored = Mode(preferred) if preferred else Mode.STANDARD
        if stored is self._mode:
            return
        mode = self._mode.value

        def failed(exc: Exception) -> None:
            # Only the next visit's convenience is lost: never the resident's journey.
            log.warning("the card's mode (%s) was not remembered at HQ: %s", mode, exc)

        # On the hq lane like every HQ call; the resident already sees their house and waits for nothing.
        self._runner.submit(
            "hq", lambda: self._hq.set_card_mode(card, mode),
            lambda _none: log.info("card's mode remembered: %s", mode), failed,
        )

    # ---- overview and amount ---------------------------------------------------------------------------------

    def _quick_amount(self) -> int | None:
        last = self._overview.last_recharge if self._overview else None
        payment = self._config.payment
        if last is None or last.meter_id != self._selected_meter_id:
            return None
        return last.amount_fen if payment.min_fen <= last.amount_fen <= payment.max_fen else None

    def _show_overview(self) -> None:
        assert self._overview is not None and self._selected_meter_id is not None
        today = to_local(self._clock(), self._config.terminal.timezone).date()
        elderly = self.elderly  # fewer choices: the frequent fees only, no reprint (kiosk/elderly.py)
        self._show(
            OverviewScreen(
                overview=simpler_overview(self._overview) if elderly else self._overview,
                forecasts={m.meter_id: forecast(m, today) for m in self._overview.meters},
                selected_meter_id=self._selected_meter_id,
                quick_amount_fen=self._quick_amount(),
                last_payment=self._last,
                reprint_available=self._reprint_tx is not None and not elderly,
                reprint=self._reprint_state,
            )
        )

    def reprint_last_receipt(self) -> None:
        """Print the house's last paid receipt again (offered on the overview); the payment is not touched."""
        tx = self._reprint_tx
        if not isinstance(self._screen, OverviewScreen) or tx is None or self._reprint_state is ReceiptState.PRINTING:
            return
        overview = self._overview

        def work() -> ReceiptState:
            try:
                reprint_receipt(
                    store=self._store, printer=self._printer, translator=self._resident_receipts(), tx_id=tx.id,
                    overview=overview,
                )
            except PrinterError as exc:
                log.warning("reprint of %s failed: %s", tx.id, exc)
                return ReceiptState.PAPER_OUT if exc.reason == "paper_out" else ReceiptState.FAILED
            return ReceiptState.PRINTED

        def done(state: ReceiptState) -> None:
            self._reprint_state = state
            if isinstance(self._screen, OverviewScreen):
                self._show_overview()

        def failed(exc: Exception) -> None:
            log.error("reprint crashed: %s", exc)
            done(ReceiptState.FAILED)

        done(ReceiptState.PRINTING)
        self._runner.submit("printer", work, self._guard(done), self._guard(failed))

    def _selected_meter(self) -> Meter:
        assert self._overview is not None and self._selected_meter_id is not None
        return self._overview.meter(self._selected_meter_id)

    def select_meter(self, meter_id: str) -> None:
        if not isinstance(self._screen, OverviewScreen) or self._overview is None:
            return
        if meter_id not in {m.meter_id for m in self._overview.meters}:
            return
        self._selected_meter_id = meter_id
        self._show_overview()

    def quick_pay(self) -> None:
        amount = self._quick_amount()
        if isinstance(self._screen, OverviewScreen) and amount is not None:
            self._start_payment(amount)

    def other_amount(self) -> None:
        if isinstance(self._screen, OverviewScreen):
            self._show_amount(None, self._quick_amount())

    def _show_amount(self, notice: Notice | None, selected: int | None) -> None:
        assert self._overview is not None
        payment = self._config.payment
        presets = tuple(p for p in payment.presets_fen if payment.min_fen <= p <= payment.max_fen)
        if self.elderly:  # the amounts this house usually recharges, at most three
            presets = usual_presets(
                self._overview, self._selected_meter().meter_id, presets, payment.min_fen, payment.max_fen
            )
        self._show(
            AmountScreen(
                house=self._overview.house,
                meter=self._selected_meter(),
                presets_fen=presets,
                min_fen=payment.min_fen,
                max_fen=payment.max_fen,
                selected_fen=selected,
                notice=notice,
            )
        )

    def choose_amount(self, amount_fen: int) -> None:
        if not isinstance(self._screen, AmountScreen):
            return
        payment = self._config.payment
        if amount_fen < payment.min_fen:
            self._show_amount(Notice.AMOUNT_TOO_SMALL, None)
        elif amount_fen > payment.max_fen:
            self._show_amount(Notice.AMOUNT_TOO_LARGE, None)
        else:
            self._start_payment(amount_fen)

    # ---- payment ----------------------------------------------------------------------------------------

    def _start_payment(self, amount_fen: int) -> None:
        assert self._overview is not None
        house, meter = self._overview.house, self._selected_meter()
        terminal_id = self._config.terminal.id
        self._show(LoadingScreen(Loading.CREATING_ORDER))

        def work() -> tuple[TransactionRecord, Order]:
            # Written before anything goes on the wire, so a crash or a lost answer leaves a record to settle.
            tx = self._store.create(
                terminal_id=terminal_id,
                service="electricity",
                house_id=house.house_id,
                house_label=house.number,
                meter_id=meter.meter_id,
                meter_label=f"{meter.use}:{meter.number}",
                amount_fen=amount_fen,
            )
            sent = [m.id for m in self._store.outbox_for(tx.id) if m.kind is OutboxKind.CREATE_ORDER]
            try:
                order = self._hq.create_order(
                    idempotency_key=tx.idempotency_key,
                    terminal_id=terminal_id,
                    house_id=house.house_id,
                    meter_id=meter.meter_id,
                    amount_fen=amount_fen,
                )
            except (HqFailure, ProtocolError) as exc:
                if record_create_failure(self._store, tx.id, exc, sent):
                    self._worker.wake()
                raise
            tx = self._store.transition(
                tx.id,
                TxState.AWAITING_PAYMENT,
                reason="order_created",
                order_no=order.order_no,
                pay_url=order.pay_url,
                receipt_url=order.receipt_url,
                sent=sent,
            )
            return tx, order

        def created(result: tuple[TransactionRecord, Order]) -> None:
            self.set_online(True)
            self._tx, self._order = result
            self._polled_status = self._order.status
            payment = self._config.payment
            countdown = timedelta(seconds=payment.elderly_countdown_s if self.elderly else payment.countdown_s)
            deadline = min(self._order.expires_at, self._clock() + countdown)
            self._show(
                PaymentScreen(
                    house=house,
                    meter=meter,
                    amount_fen=amount_fen,
                    order_no=self._order.order_no,
                    pay_url=self._order.pay_url,
                    deadline=deadline,
                )
            )
            self._arm_deadline(deadline)
            self._schedule_poll()

        def failed(exc: Exception) -> None:
            log.warning("order not created: %s", exc)
            self._note_reachability(exc)
            self._show(
                ResultScreen(Outcome.NOT_STARTED, house, meter, amount_fen, notice=failure_notice(exc))
            )

        self._runner.submit("hq", work, self._guard(created), self._guard(failed))

    def _guarded_call(self, callback: Callable[[], None]) -> Callable[[], None]:
        guarded = self._guard(lambda _value: callback())
        return lambda: guarded(None)

    def _arm_deadline(self, deadline: datetime) -> None:
        seconds = max((deadline - self._clock()).total_seconds(), 0.0)
        self._deadline_timer = self._timers.call_later(seconds, self._guarded_call(self._deadline))
        self._payment_timers.append(self._deadline_timer)

    def _cancel_payment_timers(self) -> None:
        for timer in self._payment_timers:
            timer.cancel()
        self._payment_timers.clear()

    def _long_poll_s(self) -> float:
        """How long each status check waits at HQ (0: checked every poll_interval_s instead)."""
        return self._config.payment.long_poll_s if self._watch_client is not None else 0.0

    def _schedule_poll(self, after_failure: bool = False) -> None:
        """The next status check: with the long poll at once (one call at a time, each waiting at HQ for the
        order to change), after a pause if the last one failed; else every poll_interval_s."""
        payment = self._config.payment
        delay = 0.0 if self._long_poll_s() > 0 and not after_failure else payment.poll_interval_s
        self._payment_timers.append(self._timers.call_later(delay, self._guarded_call(self._poll)))

    def _poll(self) -> None:
        if not isinstance(self._screen, PaymentScreen) or self._tx is None or self._order is None:
            return
        if self._long_poll_s() > 0:
            self._long_poll()
            return
        tx, order_no = self._tx, self._order.order_no

        def work() -> Order:
            order = self._hq.order(order_no)
            self._record_settlement(tx, order)
            return order

        def answered(order: Order) -> None:
            if not isinstance(self._screen, PaymentScreen):
                return
            self.set_online(True)
            if order.status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.CONFIRMING):  # the payer may still pay
                self._still_open(order)
            else:
                self._settled(order)

        self._runner.submit("hq", work, self._guard(answered), self._guard(self._poll_failed))

    def _long_poll(self) -> None:
        """One status check that HQ answers when the order changes (or after long_poll_s), on a thread and a client
        of its own (the watch lane), so a cancel or a payment code on the hq lane never waits for it, nor does the
        next payment's check wait for one stuck on a dead connection. It only asks: HQ's
        final answer is written to the store on the hq lane, in order with everything else of the payment, while
        the payment is still open there (awaiting payment or paying): once a cancel, the deadline or a code's lost
        answer handed it to the outbox worker, the worker settles it as it would have (cancelled or expired)."""
        assert self._watch_client is not None and self._tx is not None and self._order is not None
        new_client, wait_s, seen = self._watch_client, self._long_poll_s(), self._polled_status
        tx, order_no = self._tx, self._order.order_no

        def ask() -> Order:
            client = new_client()
            try:
                return client.order(order_no, wait_s=wait_s, seen=seen)
            finally:
                client.close()

        def record(order: Order) -> Order:
            if self._store.get(tx.id).state in (TxState.AWAITING_PAYMENT, TxState.PAYING):
                self._record_settlement(tx, order)
            return order

        def settled(order: Order) -> None:
            if isinstance(self._screen, PaymentScreen):  # else a cancel, the deadline or a code's answer did
                self.set_online(True)
                self._settled(order)

        def still_open(order: Order) -> None:
            if isinstance(self._screen, PaymentScreen):
                self.set_online(True)
                self._still_open(order)

        on_settled, on_open, on_failed = self._guard(settled), self._guard(still_open), self._guard(self._poll_failed)

        def answered(order: Order) -> None:
            if order.status in _SETTLED:
                self._runner.submit("hq", lambda: record(order), on_settled, on_failed)
            else:
                on_open(order)

        self._runner.submit("watch", ask, answered, on_failed)

    def _still_open(self, order: Order) -> None:
        """A status check found the order still open: show what it says, check again."""
        assert isinstance(self._screen, PaymentScreen)
        self._polled_status = order.status  # the next long poll waits for a change from this
        if order.status is OrderStatus.CONFIRMING and self._screen.code is None:
            # The payer is confirming on the phone (a payment code shown elsewhere, or an answer this terminal
            # lost): no time limit from now on; the order's own end at HQ is what the poll will see.
            if self._deadline_timer is not None:
                self._deadline_timer.cancel()
            self._show(replace(self._screen, code=CodePayment.CONFIRMING, connection_ok=True, notice=None))
        elif not self._screen.connection_ok:
            self._show(replace(self._screen, connection_ok=True))
        self._schedule_poll()

    def _poll_failed(self, exc: Exception) -> None:
        if not isinstance(self._screen, PaymentScreen):
            return
        log.info("payment status check failed: %s", exc)
        if self._screen.connection_ok:
            self._show(replace(self._screen, connection_ok=False))
        self._schedule_poll(after_failure=True)

    def _record_settlement(self, tx: TransactionRecord, order: Order) -> None:
        """Write HQ's final answer to the store (on a worker thread)."""
        if order.status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.CONFIRMING):
            return
        state, _outcome = _SETTLED[order.status]
        self._store.transition(
            tx.id, state, reason=f"hq_{order.status.value}", new_balance_fen=order.new_balance_fen
        )

    # ---- paying with a wallet's payment code ------------------------------------------------------------

    def _payment_code_scanned(self, payload: Payload) -> None:
        """A wallet's payment code: it pays the order on the payment screen; anywhere else it is too early."""
        screen = self._screen
        if isinstance(screen, PaymentScreen):
            if screen.code is None:
                self._pay_with_code(payload)
            else:
                log.info("payment code %s ignored: a payment code is already under way", payload.masked)
            return
        if isinstance(screen, LoadingScreen):
            log.info("payment code %s ignored during %s", payload.masked, screen.what.value)
            return
        log.info("payment code %s shown on %s: no order to pay yet", payload.masked, type(screen).__name__)
        notice = Notice.PAYMENT_CODE_TOO_EARLY
        keeps_own = isinstance(screen, ResultScreen) and screen.notice not in (None, notice)  # e.g. the slip's
        if isinstance(screen, OverviewScreen):
            self._show_amount(notice, self._quick_amount())  # the amount is what comes first
        elif isinstance(screen, IdleScreen | HouseNumberScreen | AmountScreen | ResultScreen) and not keeps_own:
            self._show(replace(screen, notice=notice))

    def _not_a_payment_code(self, result: Payload | Rejection) -> None:
        screen = self._screen
        assert isinstance(screen, PaymentScreen)
        if screen.code is not None:
            return
        unreadable = result in (Rejection.EMPTY, Rejection.TOO_LONG, Rejection.MALFORMED)
        self._show(replace(screen, notice=Notice.QR_UNREADABLE if unreadable else Notice.NOT_A_PAYMENT_CODE))

    def _pay_with_code(self, payload: Payload) -> None:
        """Submit the code on the hq lane, written down before it is sent (kiosk/code_payment.py)."""
        screen = self._screen
        assert isinstance(screen, PaymentScreen) and self._tx is not None and self._order is not None
        tx_id, order_no = self._tx.id, self._order.order_no
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()  # no time-out while a payment is being made
        self._show(replace(screen, code=CodePayment.CHECKING, notice=None))

        def answered(answer: CodeAnswer) -> None:
            if not isinstance(self._screen, PaymentScreen):
                return  # a status poll already showed how the order ended (and printed its receipt)
            self._tx = answer.tx
            state = answer.tx.state
            if answer.failure is None:
                self.set_online(True)
            if state is TxState.PAYING:
                # The wallet asks the resident to confirm on the phone; the status poll sees how it ends.
                self._show(replace(self._screen, code=CodePayment.CONFIRMING, connection_ok=True))
            elif state is TxState.AWAITING_PAYMENT:
                if answer.failure is not None:
                    self._note_reachability(answer.failure)
                refused = not isinstance(answer.failure, HqUnreachable)
                notice = Notice.PAYMENT_CODE_REFUSED if refused else Notice.HQ_UNREACHABLE
                self._show(replace(self._screen, code=None, notice=notice))
                self._arm_deadline(self._screen.deadline)  # the QR is still there to scan
            elif state is TxState.UNKNOWN:
                self._settle_unknown_payment(tx_id)
            elif answer.order is not None and answer.order.status in _SETTLED:
                self._settled(answer.order)
            else:
                self._closed(answer.tx)  # settled meanwhile (a status poll saw the QR payment)

        def failed(exc: Exception) -> None:
            log.error("payment code not recorded: %s", exc)
            self._cancel_payment_timers()
            self._close_failed(exc)

        self._runner.submit(
            "hq", lambda: pay_with_code(self._store, self._hq, tx_id, order_no, payload),
            self._guard(answered), self._guard(failed),
        )

    def _settle_unknown_payment(self, tx_id: str) -> None:
        """No answer to the payment code: the worker asks HQ at once; if HQ cannot say, the resident takes a slip."""
        self._cancel_payment_timers()
        self._show(LoadingScreen(Loading.CHECKING_PAYMENT))
        done = self._guard(self._closed)
        self._worker.settle_now(tx_id, lambda settled: self._runner.dispatch(lambda: done(settled)))

    def cancel_payment(self) -> None:
        # Not while a payment code is with HQ (a moment): its answer decides what a cancel would have to undo.
        if isinstance(self._screen, PaymentScreen) and self._screen.code is not CodePayment.CHECKING:
            self._close_order(Outcome.CANCELLED)

    def _deadline(self) -> None:
        if isinstance(self._screen, PaymentScreen) and self._screen.code is None:
            self._close_order(Outcome.EXPIRED)

    def _close_order(self, wanted: Outcome) -> None:
        """Hand the order to the outbox worker to cancel; HQ's answer is the outcome (a raced payment wins)."""
        assert self._tx is not None and self._order is not None
        self._cancel_payment_timers()
        tx_id = self._tx.id
        intent = Intent.EXPIRE if wanted is Outcome.EXPIRED else Intent.CANCEL
        self._show(LoadingScreen(Loading.CANCELLING))

        def work() -> TransactionRecord:
            try:
                return self._store.transition(
                    tx_id, TxState.UNKNOWN, reason=f"{intent}_requested", outbox=(OutboxKind.SETTLE, {"intent": intent})
                )
            except InvalidTransition:
                return self._store.get(tx_id)  # a status check recorded the payment first: that stands

        def queued(record: TransactionRecord) -> None:
            if record.is_terminal:
                self._closed(record)
                return
            done = self._guard(self._closed)
            self._worker.settle_now(tx_id, lambda settled: self._runner.dispatch(lambda: done(settled)))

        self._runner.submit("hq", work, self._guard(queued), self._guard(self._close_failed))

    def _close_failed(self, exc: Exception) -> None:
        log.error("could not record the cancel: %s", exc)
        self._show_result(Outcome.UNKNOWN, notice=Notice.CONNECTION_TROUBLE)
        self._print_pending_slip()

    def _closed(self, record: TransactionRecord) -> None:
        self._tx = record
        outcome = _OUTCOME_OF.get(record.state)
        if outcome is None:  # HQ could not be asked now; the worker keeps trying by itself
            self._note_reachability_of(self._worker.online)
            self._show_result(Outcome.UNKNOWN, notice=Notice.CONNECTION_TROUBLE)
            self._print_pending_slip()
            return
        if self._order is not None and record.state is TxState.PAID:
            self._order = replace(self._order, status=OrderStatus.PAID, new_balance_fen=record.new_balance_fen)
        self._show_result(outcome)
        if outcome is Outcome.PAID:
            self._print_receipt()

    def _settled(self, order: Order) -> None:
        self._cancel_payment_timers()
        if order.status not in _SETTLED:
            self._show_result(Outcome.UNKNOWN, notice=Notice.HQ_ERROR)
            return
        _state, outcome = _SETTLED[order.status]
        self._order = order
        self._show_result(outcome)
        if outcome is Outcome.PAID:
            self._print_receipt()

    def _show_result(self, outcome: Outcome, notice: Notice | None = None) -> None:
        assert self._overview is not None and self._tx is not None
        self.usage.journey_ended(outcome.value)
        order = self._order
        paid = outcome is Outcome.PAID and order is not None
        self._show(
            ResultScreen(
                outcome=outcome,
                house=self._overview.house,
                meter=self._overview.meter(self._tx.meter_id),
                amount_fen=self._tx.amount_fen,
                order_no=order.order_no if order else None,
                new_balance_fen=order.new_balance_fen if paid and order else None,
                paid_at=order.paid_at if paid and order else None,
                receipt_url=order.receipt_url if paid and order else None,
                receipt=ReceiptState.PRINTING if paid else ReceiptState.NONE,
                notice=notice,
            )
        )

    def _resident_receipts(self) -> Translator:
        """The translator for this resident's paper: the screen's language (`receipt.language` is staff's)."""
        language = self._translator.language
        if language not in self._receipt_translators:
            self._receipt_translators[language] = Translator(language, self._receipt_translator.timezone)
        return self._receipt_translators[language]

    def _print_receipt(self) -> None:
        assert self._overview is not None and self._tx is not None and self._order is not None
        receipt = build_receipt(
            translator=self._resident_receipts(),
            overview=self._overview,
            meter=self._overview.meter(self._tx.meter_id),
            order=self._order,
            terminal_id=self._config.terminal.id,
        )
        self._print(receipt, record=True)

    def _print(self, receipt: Receipt, *, record: bool) -> None:
        """Print on the printer lane and show how it went; `record` notes it as the transaction's receipt."""
        assert self._tx is not None
        tx_id = self._tx.id

        def work() -> ReceiptState:
            try:
                self._printer.print_receipt(receipt)
            except PrinterError as exc:
                log.warning("receipt for %s not printed: %s", tx_id, exc)
                if record:
                    self._store.set_receipt_status(tx_id, "failed")
                return ReceiptState.PAPER_OUT if exc.reason == "paper_out" else ReceiptState.FAILED
            if record:
                self._store.set_receipt_status(tx_id, "printed")
            return ReceiptState.PRINTED

        def done(state: ReceiptState) -> None:
            if isinstance(self._screen, ResultScreen):
                self._screen = replace(self._screen, receipt=state)
                for listener in list(self._screen_listeners):
                    listener(self._screen)

        def failed(exc: Exception) -> None:
            log.error("printing crashed: %s", exc)
            done(ReceiptState.FAILED)

        done(ReceiptState.PRINTING)
        self._runner.submit("printer", work, self._guard(done), self._guard(failed))

    def _print_pending_slip(self) -> None:
        """A slip with the order reference, for a payment whose outcome the terminal could not learn."""
        assert self._overview is not None and self._tx is not None
        slip = build_pending_slip(
            translator=self._resident_receipts(),
            overview=self._overview,
            meter=self._overview.meter(self._tx.meter_id),
            tx=self._tx,
            terminal_id=self._config.terminal.id,
        )
        self._print(slip, record=False)

    def _note_reachability(self, exc: Exception) -> None:
        if isinstance(exc, HqUnreachable):
            self.set_online(False)

    def _note_reachability_of(self, online: bool) -> None:
        if not online:
            self.set_online(False)

    # ---- inactivity ---------------------------------------------------------------------------------

    def _timeout_for(self, screen: Screen) -> float | None:
        ui = self._config.ui
        if isinstance(screen, IdleScreen | LoadingScreen | PaymentScreen | OutOfServiceScreen):
            return None  # nothing to time out; the payment screen has its own deadline, off while confirming
        if isinstance(screen, ResultScreen):
            return ui.elderly_result_s if self.elderly else ui.result_s
        return ui.elderly_inactivity_s if self.elderly else ui.inactivity_s

    def _warning_s(self) -> int:
        ui = self._config.ui
        return ui.elderly_warning_s if self.elderly else ui.warning_s

    def _arm_inactivity(self) -> None:
        if self._inactivity is not None:
            self._inactivity.cancel()
            self._inactivity = None
        seconds = self._timeout_for(self._screen)
        if seconds is not None:
            self._inactivity = self._timers.call_later(seconds, self._guarded_call(self._warn))

    def _warn(self) -> None:
        self._warning_left = self._warning_s()
        self._tell_warning()

    # Elderly mode asks "more time?" before the payment QR's own time ends too, and each yes gives the full
    # countdown again, up to the order's validity at HQ (which the terminal cannot extend).
    def _extended_deadline(self, order: Order, asked_at: datetime) -> datetime:
        """The QR's deadline after a "yes" at `asked_at`: its full time again, within the order's validity."""
        return min(order.expires_at, asked_at + timedelta(seconds=self._config.payment.elderly_countdown_s))

    def _awaiting_scan(self) -> PaymentScreen | None:
        screen = self._screen
        if self.elderly and isinstance(screen, PaymentScreen) and screen.code is None and self._order is not None:
            return screen
        return None

    def _arm_payment_warning(self) -> None:
        if self._payment_warning is not None:
            self._payment_warning.cancel()
            self._payment_warning = None
        screen = self._awaiting_scan()
        if screen is None or self._order is None:
            return  # standard mode: the countdown on screen says how long is left
        # Whether a "yes" would give more time is judged when the question would be asked, not now.
        asked_at = max(self._clock(), screen.deadline - timedelta(seconds=self._warning_s()))
        if self._extended_deadline(self._order, asked_at) <= screen.deadline + timedelta(seconds=1):
            return  # nothing more to give: the order ends at HQ with the QR
        delay = (screen.deadline - self._clock()).total_seconds() - self._warning_s()
        if delay <= 0:
            self._warn_payment()
        else:
            self._payment_warning = self._timers.call_later(delay, self._guarded_call(self._warn_payment))
            self._payment_timers.append(self._payment_warning)

    def _warn_payment(self) -> None:
        screen = self._awaiting_scan()
        if screen is None or self._warning_left is not None:
            return
        self._warning_left = max(1, math.ceil((screen.deadline - self._clock()).total_seconds()))
        self._tell_warning()

    def _time_out(self) -> None:
        if isinstance(self._screen, PaymentScreen):
            self._deadline()  # the QR's time is up: the order is closed as expired
        else:
            self.finish()

    def _tell_warning(self) -> None:
        left = self._warning_left
        for listener in list(self._warning_listeners):
            listener(left)
        if left is None:
            return
        if left <= 0:
            self._time_out()  # its screen change hides the question
            return
        self._warning_tick = self._timers.call_later(1.0, self._guarded_call(self._tick_warning))

    def _tick_warning(self) -> None:
        if self._warning_left is not None:
            self._warning_left -= 1
            self._tell_warning()

    def _hide_warning(self) -> None:
        if self._warning_tick is not None:
            self._warning_tick.cancel()
            self._warning_tick = None
        if self._warning_left is not None:
            self._warning_left = None
            for listener in list(self._warning_listeners):
                listener(None)

    def user_activity(self) -> None:
        """Any touch: the resident is still there."""
        if self._warning_left is not None and self._awaiting_scan() is not None:
            self.more_time()  # a touch while asked about the QR's time is a yes
            return
        self._hide_warning()
        self._arm_inactivity()

    def more_time(self) -> None:
        """The resident asked for more time (one tap, as often as they like): the question goes, the time-out
        starts again; on the payment screen in elderly mode, the QR gets its full time again."""
        screen = self._awaiting_scan()
        extended = self._extended_deadline(self._order, self._clock()) if screen and self._order else None
        if screen is not None and extended is not None and extended > screen.deadline:
            if self._deadline_timer is not None:
                self._deadline_timer.cancel()
            self._show(replace(screen, deadline=extended))
            self._arm_deadline(extended)
            return
        self._hide_warning()
        self._arm_inactivity()

    @property
    def current_house(self) -> HouseRef | None:
        return self._overview.house if self._overview else None


def record_create_failure(
    store: TransactionStore, tx_id: str, exc: HqFailure | ProtocolError, sent: list[int]
) -> bool:
    """Write down how a create-order request failed; True when the outcome is unknown and the worker must settle it.

    Refused (a 4xx) or never delivered (HQ unreachable): HQ made no order, so the transaction is abandoned. No
    answer, a garbled one or a 5xx (a gateway in front of HQ can give up after HQ made the order): HQ may hold the
    order, so the worker asks under the key and cancels it, since no QR was shown.
    """
    if isinstance(exc, HqUnreachable) or (isinstance(exc, HqError) and exc.status < 500):
        reason = exc.code if isinstance(exc, HqError) else "hq_unreachable"
        store.transition(tx_id, TxState.ABANDONED, reason=reason, last_error=str(exc)[:500], sent=sent)
        return False
    store.transition(
        tx_id, TxState.UNKNOWN, reason="create_no_answer", last_error=str(exc)[:500], sent=sent,
        outbox=(OutboxKind.SETTLE, {"intent": Intent.CREATE_UNKNOWN}),
    )
    return True
