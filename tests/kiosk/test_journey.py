"""The recharge journey against the real HQ on loopback: every path, every bad input, the store kept consistent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import requests
from journey_rig import Rig, pay_in_sandbox

from devices.base import PaperState
from hq.seed import LOW_BALANCE_HOUSE, MAIN_HOUSE, MAIN_LAST_RECHARGE_FEN, NEW_HOUSE
from kiosk.screens import (
    AmountScreen,
    HouseNumberScreen,
    IdleScreen,
    LoadingScreen,
    Notice,
    Outcome,
    OverviewScreen,
    PaymentScreen,
    ReceiptState,
    ResultScreen,
)
from offline_queue.states import TxState

RigFactory = Callable[..., Rig]


def states(rig: Rig, tx_id: str) -> list[str]:
    return [event.to_state for event in rig.store.history(tx_id)]


def to_payment(rig: Rig, card: str = MAIN_HOUSE.card_id) -> PaymentScreen:
    rig.journey.card_inserted(card)
    rig.wait_for(OverviewScreen)
    rig.journey.quick_pay()
    return rig.wait_for(PaymentScreen)  # type: ignore[no-any-return]


def test_repeat_recharge_by_card_takes_one_touch(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.journey.card_inserted(MAIN_HOUSE.card_id)
    assert isinstance(rig.journey.screen, LoadingScreen)
    overview = rig.wait_for(OverviewScreen)
    assert overview.overview.house.number == "3-2-501"
    lighting = next(m for m in overview.overview.meters if m.use == "lighting")
    assert overview.selected_meter_id == lighting.meter_id
    assert overview.quick_amount_fen == MAIN_LAST_RECHARGE_FEN
    assert overview.forecasts[lighting.meter_id].days_left is not None

    rig.journey.quick_pay()  # the one touch
    payment = rig.wait_for(PaymentScreen)
    assert payment.amount_fen == MAIN_LAST_RECHARGE_FEN
    assert payment.pay_url.endswith(payment.order_no)
    seconds_left = (payment.deadline - datetime.now(UTC)).total_seconds()
    assert rig.config.payment.countdown_s - 5 < seconds_left <= rig.config.payment.countdown_s

    paid = pay_in_sandbox(payment.pay_url)
    result = rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.PAID
    assert result.new_balance_fen == paid["new_balance_fen"] == lighting.balance_fen + MAIN_LAST_RECHARGE_FEN
    assert result.receipt_url and result.order_no == payment.order_no

    [printed] = rig.printer.wait_for_receipts(1)
    rig.wait(lambda: rig.journey.screen.receipt is ReceiptState.PRINTED)  # type: ignore[union-attr]
    assert payment.order_no in printed.text and "阳光花园" in printed.text and "Electricity recharge" in printed.text
    assert printed.parsed.qr_payloads == [result.receipt_url]

    record = rig.store.last_for_house(MAIN_HOUSE.house_id)
    assert record is not None and record.state is TxState.PAID and record.receipt_status == "printed"
    assert record.order_no == payment.order_no and record.new_balance_fen == result.new_balance_fen
    assert states(rig, record.id) == ["new", "awaiting_payment", "paid"]

    rig.journey.finish()
    assert isinstance(rig.journey.screen, IdleScreen) and rig.journey.current_house is None


def test_house_number_path_and_other_amount(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.journey.enter_house_number()
    assert isinstance(rig.journey.screen, HouseNumberScreen)
    building, unit, room = NEW_HOUSE.number.split("-")
    rig.journey.submit_house_number(building, unit, room)
    overview = rig.wait_for(OverviewScreen)
    assert overview.overview.house.number == NEW_HOUSE.number
    assert overview.overview.last_recharge is None and overview.quick_amount_fen is None
    rig.journey.quick_pay()  # nothing to repeat: no effect
    assert isinstance(rig.journey.screen, OverviewScreen)
    rig.journey.other_amount()
    amount = rig.wait_for(AmountScreen)
    assert amount.presets_fen == (2000, 5000, 10000, 20000) and amount.selected_fen is None
    rig.journey.choose_amount(5000)
    payment = rig.wait_for(PaymentScreen)
    assert payment.amount_fen == 5000


def test_house_qr_and_bill_qr_find_the_house(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.journey.qr_scanned(f"CPK:H:{MAIN_HOUSE.house_code}\r\n")
    assert rig.wait_for(OverviewScreen).overview.house.number == "3-2-501"
    rig.journey.finish()
    rig.journey.qr_scanned(f"CPK:B:{LOW_BALANCE_HOUSE.heating_bill_no}")
    overview = rig.wait_for(OverviewScreen)
    assert overview.overview.house.number == LOW_BALANCE_HOUSE.number
    assert any(f.low for f in overview.forecasts.values())


def test_meter_selection_changes_the_offer(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.journey.card_inserted(MAIN_HOUSE.card_id)
    overview = rig.wait_for(OverviewScreen)
    other = next(m for m in overview.overview.meters if m.meter_id != overview.selected_meter_id)
    rig.journey.select_meter(other.meter_id)
    assert rig.journey.screen.selected_meter_id == other.meter_id  # type: ignore[union-attr]
    assert rig.journey.screen.quick_amount_fen is None  # type: ignore[union-attr]
    rig.journey.select_meter("no-such-meter")
    assert rig.journey.screen.selected_meter_id == other.meter_id  # type: ignore[union-attr]
    rig.journey.other_amount()
    assert rig.wait_for(AmountScreen).meter.meter_id == other.meter_id
    rig.journey.back()
    assert isinstance(rig.journey.screen, OverviewScreen)


def test_unknown_card_and_house_and_bad_qr(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.journey.card_inserted("FFFFFFFF00")
    assert rig.wait_for(IdleScreen).notice is Notice.UNKNOWN_CARD
    rig.journey.card_inserted("not a card!")  # refused without asking HQ
    assert rig.journey.screen == IdleScreen(notice=Notice.UNKNOWN_CARD, language="en")

    rig.journey.enter_house_number()
    rig.journey.submit_house_number("9", "9", "999")
    screen = rig.wait_for(HouseNumberScreen)
    rig.wait(lambda: getattr(rig.journey.screen, "notice", None) is not None)
    screen = rig.journey.screen
    assert screen.notice is Notice.UNKNOWN_HOUSE and (screen.building, screen.unit, screen.room) == ("9", "9", "999")
    rig.journey.submit_house_number("3", "", "501")
    assert rig.journey.screen.notice is Notice.HOUSE_NUMBER_INCOMPLETE  # type: ignore[union-attr]

    rig.journey.qr_scanned("https://weixin.qq.com/r/abc")
    assert rig.journey.screen.notice is Notice.QR_NOT_OURS  # type: ignore[union-attr]
    rig.journey.finish()
    rig.journey.qr_scanned("CPK:H:\x00\x01garbage")
    assert rig.journey.screen.notice is Notice.QR_UNREADABLE  # type: ignore[union-attr]
    rig.journey.qr_scanned("CPK:H:ZZZZZZZZ")
    rig.wait(lambda: getattr(rig.journey.screen, "notice", None) is Notice.UNKNOWN_HOUSE_CODE)
    rig.journey.qr_scanned("CPK:B:B000000000000")
    rig.wait(lambda: getattr(rig.journey.screen, "notice", None) is Notice.UNKNOWN_BILL)
    assert sum(rig.store.count_by_state().values()) == 0


def test_amount_out_of_range_creates_nothing(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.journey.card_inserted(MAIN_HOUSE.card_id)
    rig.wait_for(OverviewScreen)
    rig.journey.other_amount()
    rig.journey.choose_amount(rig.config.payment.min_fen - 1)
    assert rig.journey.screen.notice is Notice.AMOUNT_TOO_SMALL  # type: ignore[union-attr]
    rig.journey.choose_amount(rig.config.payment.max_fen + 100)
    assert rig.journey.screen.notice is Notice.AMOUNT_TOO_LARGE  # type: ignore[union-attr]
    assert sum(rig.store.count_by_state().values()) == 0


def test_declined_payment(make_rig: RigFactory) -> None:
    rig = make_rig()
    payment = to_payment(rig)
    pay_in_sandbox(payment.pay_url, "decline")
    result = rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.DECLINED and result.receipt is ReceiptState.NONE
    record = rig.store.get_by_key(rig.store.last_for_house(MAIN_HOUSE.house_id).idempotency_key)  # type: ignore[union-attr]
    assert record is not None and record.state is TxState.DECLINED
    assert rig.printer.printed == []


def test_countdown_ends_unpaid(make_rig: RigFactory) -> None:
    rig = make_rig()
    payment = to_payment(rig)
    rig.loop.advance(rig.config.payment.countdown_s + 1)
    result = rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.EXPIRED
    record = rig.store.last_for_house(MAIN_HOUSE.house_id)
    assert record is not None and record.state is TxState.EXPIRED
    status = requests.get(payment.pay_url, timeout=5)
    assert status.status_code == 200  # the page still opens, and says the order can no longer be paid
    order = requests.get(f"{rig.config.hq.url}/api/v1/orders/{payment.order_no}", timeout=5).json()
    assert order["status"] == "cancelled"


def test_cancel_and_a_payment_racing_the_cancel(make_rig: RigFactory) -> None:
    rig = make_rig()
    to_payment(rig)
    rig.journey.cancel_payment()
    assert rig.wait_for(ResultScreen).outcome is Outcome.CANCELLED
    record = rig.store.last_for_house(MAIN_HOUSE.house_id)
    assert record is not None and states(rig, record.id) == ["new", "awaiting_payment", "unknown", "cancelled"]
    assert [m.sent_at is not None for m in rig.store.outbox_for(record.id)] == [True, True]

    # The phone pays while the terminal has not yet seen it; the resident presses cancel: the payment wins.
    rig = make_rig(payment={"poll_interval_s": 600})
    payment = to_payment(rig)
    pay_in_sandbox(payment.pay_url)
    rig.journey.cancel_payment()
    result = rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.PAID and result.new_balance_fen is not None
    assert rig.store.last_for_house(MAIN_HOUSE.house_id).state is TxState.PAID  # type: ignore[union-attr]


def test_printer_out_of_paper_offers_the_electronic_receipt(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.printer.set_paper(PaperState.OUT)
    payment = to_payment(rig)
    pay_in_sandbox(payment.pay_url)
    rig.wait(lambda: getattr(rig.journey.screen, "receipt", None) is ReceiptState.PAPER_OUT)
    result = rig.journey.screen
    assert isinstance(result, ResultScreen) and result.outcome is Outcome.PAID and result.receipt_url
    record = rig.store.last_for_house(MAIN_HOUSE.house_id)
    assert record is not None and record.state is TxState.PAID and record.receipt_status == "failed"
    assert requests.get(result.receipt_url, timeout=5).status_code == 200


def test_hq_unreachable_says_so_and_goes_offline(make_rig: RigFactory, dead_url: str) -> None:
    rig = make_rig(dead_url)
    rig.journey.card_inserted(MAIN_HOUSE.card_id)
    idle = rig.wait_for(IdleScreen)
    rig.wait(lambda: not rig.journey.online)
    idle = rig.journey.screen
    assert isinstance(idle, IdleScreen) and idle.notice is Notice.HQ_UNREACHABLE and not idle.online


def test_hq_slow_keeps_the_terminal_responsive(make_rig: RigFactory, silent_url: str) -> None:
    rig = make_rig(silent_url, hq={"read_timeout_s": 0.3})
    rig.journey.card_inserted(MAIN_HOUSE.card_id)
    assert isinstance(rig.journey.screen, LoadingScreen)  # returned at once; the wait is on the hq lane
    rig.wait(lambda: getattr(rig.journey.screen, "notice", None) is Notice.HQ_SLOW)


def test_hq_lost_before_the_order_is_created(make_rig: RigFactory, dead_url: str) -> None:
    rig = make_rig()
    rig.journey.card_inserted(MAIN_HOUSE.card_id)
    rig.wait_for(OverviewScreen)
    rig.hq.base_url = dead_url
    rig.journey.quick_pay()
    result = rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.NOT_STARTED and result.notice is Notice.HQ_UNREACHABLE
    record = rig.store.last_for_house(MAIN_HOUSE.house_id)
    assert record is not None and record.state is TxState.ABANDONED
    assert states(rig, record.id) == ["new", "abandoned"]


def test_hq_lost_while_waiting_for_the_payment(make_rig: RigFactory, dead_url: str) -> None:
    # Short long polls: the one waiting at HQ when the URL changes comes back soon, and the next finds no HQ.
    rig = make_rig(payment={"long_poll_s": 0.5})
    payment = to_payment(rig)
    real_url = rig.cut_hq(dead_url)
    rig.wait(lambda: not rig.journey.screen.connection_ok)  # type: ignore[union-attr]
    pay_in_sandbox(payment.pay_url)  # the phone still reaches the payment service
    rig.cut_hq(real_url)
    result = rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.PAID


def test_hq_lost_at_the_deadline_leaves_the_outcome_unknown(make_rig: RigFactory, dead_url: str) -> None:
    rig = make_rig()
    payment = to_payment(rig)
    real_url = rig.cut_hq(dead_url)
    rig.journey.cancel_payment()
    result = rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.UNKNOWN and result.order_no == payment.order_no
    record = rig.store.last_for_house(MAIN_HOUSE.house_id)
    assert record is not None and record.state is TxState.UNKNOWN  # settled by asking HQ later, never repeated

    [slip] = rig.printer.wait_for_receipts(1)  # the resident takes the order reference with them
    assert payment.order_no in slip.text and "Payment being confirmed" in slip.text
    rig.wait(lambda: getattr(rig.journey.screen, "receipt", None) is ReceiptState.PRINTED)

    rig.journey.finish()
    rig.wait(lambda: rig.journey.screen.waiting == 1)  # type: ignore[union-attr]
    assert not rig.journey.screen.online  # type: ignore[union-attr]
    rig.cut_hq(real_url)
    rig.worker.set_online(True)  # what the connectivity monitor does when HQ answers again
    rig.wait(lambda: rig.store.get(record.id).state is TxState.CANCELLED)
    assert requests.get(f"{real_url}/api/v1/orders/{payment.order_no}", timeout=5).json()["status"] == "cancelled"

    # The resident's next visit says how it ended.
    rig.journey.card_inserted(MAIN_HOUSE.card_id)
    overview = rig.wait_for(OverviewScreen)
    assert overview.last_payment is not None and overview.last_payment.outcome is Outcome.CANCELLED


def test_need_more_time_then_home(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.journey.card_inserted(MAIN_HOUSE.card_id)
    rig.wait_for(OverviewScreen)
    rig.loop.advance(rig.config.ui.inactivity_s)
    rig.wait(lambda: rig.warnings and rig.warnings[-1] == rig.config.ui.warning_s)
    rig.journey.more_time()
    assert rig.warnings[-1] is None and isinstance(rig.journey.screen, OverviewScreen)
    for _ in range(10):  # asked again and again: always more time
        rig.loop.advance(rig.config.ui.inactivity_s)
        rig.wait(lambda: rig.warnings[-1] == rig.config.ui.warning_s)
        rig.journey.more_time()
    rig.loop.advance(rig.config.ui.inactivity_s)
    rig.wait(lambda: rig.warnings[-1] == rig.config.ui.warning_s)
    for left in range(rig.config.ui.warning_s - 1, -1, -1):
        rig.loop.advance(1.0)
        rig.wait(lambda left=left: rig.warnings[-1] in (left, None))  # type: ignore[misc]
    idle = rig.wait_for(IdleScreen)
    assert idle.notice is None and rig.warnings[-1] is None and rig.journey.current_house is None


def test_no_time_out_while_a_payment_is_being_confirmed(make_rig: RigFactory) -> None:
    rig = make_rig(payment={"countdown_s": 600})
    to_payment(rig)
    rig.loop.advance(rig.config.ui.inactivity_s * 3)
    rig.drain()
    assert isinstance(rig.journey.screen, PaymentScreen) and not any(w for w in rig.warnings if w)


def test_a_late_answer_from_an_ended_journey_is_dropped(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.journey.card_inserted(MAIN_HOUSE.card_id)
    rig.journey.finish()  # the resident walks away before HQ answers
    rig.journey.enter_house_number()
    rig.drain()
    assert isinstance(rig.journey.screen, HouseNumberScreen)
    assert not any(isinstance(s, OverviewScreen) for s in rig.screens)
