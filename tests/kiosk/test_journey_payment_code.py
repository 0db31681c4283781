"""Paying with a wallet's payment code, end to end against the real HQ sandbox: every outcome, every refusal, a lost
answer settled by asking, and the code never written down or logged whole."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fault_proxy import CUT_AFTER_REQUEST, DROP, FaultProxy, gateway_error
from journey_rig import Rig, pay_in_sandbox
from sqlalchemy import select

from hq.context import hq_context
from hq.models import Meter, Order
from hq.seed import DEMO_HOUSES, LOW_BALANCE_HOUSE, MAIN_HOUSE, NEW_HOUSE, DemoHouse
from hq.server import HqServer
from kiosk.outbox_worker import RetryPolicy
from kiosk.screens import (
    AmountScreen,
    CodePayment,
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
from offline_queue.models import OutboxKind
from offline_queue.states import TxState

RigFactory = Callable[..., Rig]

PAYS = "134567890123456781"  # last digit 1: paid at once (WeChat Pay)
CONFIRMS = "286543210987654328"  # 8: the payer is asked to confirm on the phone (Alipay)
DECLINES = "101234567890123459"  # 9: declined at once
PAYMENT_CODE = r"/api/v1/orders/[A-Z0-9]+/payment-code"
AMOUNT_FEN = 3000

# Houses no other test of the journey uses, one per test that charges, so balances are easy to follow.
_SPARE = [h for h in DEMO_HOUSES if h not in (MAIN_HOUSE, NEW_HOUSE, LOW_BALANCE_HOUSE)][::-1]


@pytest.fixture
def house(request: pytest.FixtureRequest) -> DemoHouse:
    index = sum(ord(c) for c in request.node.name) % len(_SPARE)
    return _SPARE[index]


def balance(hq: HqServer, meter_id: str) -> int:
    assert hq.app is not None
    with hq_context(hq.app).sessions() as session:
        value = session.scalar(select(Meter.balance_fen).where(Meter.id == meter_id))
    assert value is not None
    return value


def hq_order(hq: HqServer, order_no: str) -> Order:
    assert hq.app is not None
    with hq_context(hq.app).sessions() as session:
        order = session.get(Order, order_no)
    assert order is not None
    return order


def to_payment(rig: Rig, house: DemoHouse) -> PaymentScreen:
    rig.journey.card_inserted(house.card_id)
    rig.wait_for(OverviewScreen)
    rig.journey.select_meter(house.lighting_meter_id)
    rig.journey.other_amount()
    rig.journey.choose_amount(AMOUNT_FEN)
    return rig.wait_for(PaymentScreen)  # type: ignore[no-any-return]


def the_tx(rig: Rig, house: DemoHouse):  # type: ignore[no-untyped-def]
    tx = rig.store.last_for_house(house.house_id)
    assert tx is not None
    return tx


def states(rig: Rig, tx_id: str) -> list[str]:
    return [e.to_state.value for e in rig.store.history(tx_id)]


def stored_bytes(rig: Rig) -> bytes:
    """Everything the terminal's database holds on disk, WAL included."""
    path = Path(rig.store.path)
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_paid_at_once(make_rig: RigFactory, hq_server: HqServer, house: DemoHouse,
                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    rig = make_rig()
    before = balance(hq_server, house.lighting_meter_id)
    payment = to_payment(rig, house)
    rig.journey.qr_scanned(PAYS + "\r\n")
    assert rig.journey.screen == replace(payment, code=CodePayment.CHECKING)
    result = rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.PAID and result.order_no == payment.order_no
    assert result.new_balance_fen == before + AMOUNT_FEN == balance(hq_server, house.lighting_meter_id)
    [printed] = rig.printer.wait_for_receipts(1)
    assert payment.order_no in printed.text
    rig.wait(lambda: rig.journey.screen.receipt is ReceiptState.PRINTED)  # type: ignore[union-attr]

    tx = the_tx(rig, house)
    assert tx.state is TxState.PAID and tx.new_balance_fen == before + AMOUNT_FEN
    assert states(rig, tx.id) == ["new", "awaiting_payment", "paying", "paid"]
    [create, code] = rig.store.outbox_for(tx.id)
    assert (create.kind, code.kind) == (OutboxKind.CREATE_ORDER, OutboxKind.PAYMENT_CODE)
    assert code.sent_at is not None and code.payload["order_no"] == payment.order_no
    assert code.payload["wallet"] == "wechat_pay" and code.payload["code"] == "****6781"
    assert code.payload["idempotency_key"] != tx.idempotency_key  # the submission has a key of its own
    paying = rig.store.history(tx.id)[2]
    assert paying.detail == {"wallet": "wechat_pay", "code": "****6781"}
    order = hq_order(hq_server, payment.order_no)
    assert (order.status, order.method) == ("paid", "wechat_pay")

    # The code is a bearer credential: never on disk, never in a log line.
    assert PAYS.encode() not in stored_bytes(rig)
    assert all(PAYS not in record.getMessage() for record in caplog.records)
    assert any("****6781" in record.getMessage() for record in caplog.records)


def test_waiting_for_the_payer_then_confirmed(make_rig: RigFactory, hq_server: HqServer, house: DemoHouse) -> None:
    rig = make_rig()
    before = balance(hq_server, house.lighting_meter_id)
    payment = to_payment(rig, house)
    rig.journey.qr_scanned(CONFIRMS)
    rig.wait(lambda: getattr(rig.journey.screen, "code", None) is CodePayment.CONFIRMING)
    assert hq_order(hq_server, payment.order_no).status == "confirming"
    assert the_tx(rig, house).state is TxState.PAYING

    # No time-out while the payer confirms: the countdown and the inactivity question are both off.
    rig.loop.advance(rig.config.payment.countdown_s + rig.config.ui.inactivity_s + 60)
    rig.drain()
    rig.drain()
    screen = rig.journey.screen
    assert isinstance(screen, PaymentScreen) and screen.code is CodePayment.CONFIRMING
    assert rig.warnings == []

    pay_in_sandbox(payment.pay_url)  # the phone's "confirm"
    result = rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.PAID and result.new_balance_fen == before + AMOUNT_FEN
    assert balance(hq_server, house.lighting_meter_id) == before + AMOUNT_FEN
    rig.printer.wait_for_receipts(1)
    assert states(rig, the_tx(rig, house).id) == ["new", "awaiting_payment", "paying", "paid"]


def test_waiting_for_the_payer_then_declined(make_rig: RigFactory, hq_server: HqServer, house: DemoHouse) -> None:
    rig = make_rig()
    before = balance(hq_server, house.lighting_meter_id)
    payment = to_payment(rig, house)
    rig.journey.qr_scanned(CONFIRMS)
    rig.wait(lambda: getattr(rig.journey.screen, "code", None) is CodePayment.CONFIRMING)
    pay_in_sandbox(payment.pay_url, "decline")
    result = rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.DECLINED and result.receipt is ReceiptState.NONE
    assert balance(hq_server, house.lighting_meter_id) == before
    assert states(rig, the_tx(rig, house).id) == ["new", "awaiting_payment", "paying", "declined"]


def test_resident_cancels_while_confirming(make_rig: RigFactory, hq_server: HqServer, house: DemoHouse) -> None:
    rig = make_rig()
    before = balance(hq_server, house.lighting_meter_id)
    payment = to_payment(rig, house)
    rig.journey.qr_scanned(CONFIRMS)
    rig.wait(lambda: getattr(rig.journey.screen, "code", None) is CodePayment.CONFIRMING)
    rig.journey.cancel_payment()
    result = rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.CANCELLED
    assert hq_order(hq_server, payment.order_no).status == "cancelled"  # the wallet's payment is reversed
    assert pay_in_sandbox(payment.pay_url)["status"] == "cancelled"  # confirming too late changes nothing
    assert balance(hq_server, house.lighting_meter_id) == before
    assert states(rig, the_tx(rig, house).id) == ["new", "awaiting_payment", "paying", "unknown", "cancelled"]


def test_declined_at_once(make_rig: RigFactory, hq_server: HqServer, house: DemoHouse) -> None:
    rig = make_rig()
    before = balance(hq_server, house.lighting_meter_id)
    to_payment(rig, house)
    rig.journey.qr_scanned(DECLINES)
    result = rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.DECLINED
    assert balance(hq_server, house.lighting_meter_id) == before
    tx = the_tx(rig, house)
    assert states(rig, tx.id) == ["new", "awaiting_payment", "paying", "declined"]
    assert all(m.sent_at is not None for m in rig.store.outbox_for(tx.id))


def test_a_code_after_the_qr_was_paid_charges_nothing_more(
    make_rig: RigFactory, hq_server: HqServer, house: DemoHouse
) -> None:
    rig = make_rig(payment={"poll_interval_s": 600})  # the poll has not noticed the QR payment yet
    before = balance(hq_server, house.lighting_meter_id)
    payment = to_payment(rig, house)
    pay_in_sandbox(payment.pay_url)
    rig.journey.qr_scanned(PAYS)  # HQ refuses it (409) and says the order is paid: that is the outcome
    result = rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.PAID
    assert balance(hq_server, house.lighting_meter_id) == before + AMOUNT_FEN
    tx = the_tx(rig, house)
    assert tx.state is TxState.PAID and states(rig, tx.id)[-2:] == ["paying", "paid"]
    assert hq_order(hq_server, payment.order_no).method == "qr"


def test_hq_unreachable_leaves_the_qr_to_scan(make_rig: RigFactory, hq_server: HqServer, house: DemoHouse,
                                              dead_url: str) -> None:
    rig = make_rig()
    payment = to_payment(rig, house)
    real = rig.cut_hq(dead_url)
    rig.journey.qr_scanned(PAYS)
    rig.wait(lambda: getattr(rig.journey.screen, "notice", None) is Notice.HQ_UNREACHABLE)
    screen = rig.journey.screen
    assert isinstance(screen, PaymentScreen) and screen.code is None and screen.pay_url == payment.pay_url
    tx = the_tx(rig, house)
    assert tx.state is TxState.AWAITING_PAYMENT
    assert states(rig, tx.id) == ["new", "awaiting_payment", "paying", "awaiting_payment"]
    assert hq_order(hq_server, payment.order_no).status == "awaiting_payment"  # nothing reached HQ
    rig.cut_hq(real)
    rig.loop.advance(rig.config.payment.countdown_s + 1)  # the countdown runs again: it ends the payment
    assert rig.wait_for(ResultScreen).outcome is Outcome.EXPIRED
    assert hq_order(hq_server, payment.order_no).status == "cancelled"


def test_other_codes_on_the_payment_screen_get_a_notice(make_rig: RigFactory, house: DemoHouse) -> None:
    rig = make_rig()
    to_payment(rig, house)
    for raw, notice in (
        (f"CPK:H:{MAIN_HOUSE.house_code}", Notice.NOT_A_PAYMENT_CODE),  # not the start of another journey
        ("https://weixin.qq.com/x", Notice.NOT_A_PAYMENT_CODE),
        ("164567890123456781", Notice.NOT_A_PAYMENT_CODE),  # digits, but no wallet's
        ("CPK:H:x", Notice.QR_UNREADABLE),
    ):
        rig.journey.qr_scanned(raw)
        screen = rig.journey.screen
        assert isinstance(screen, PaymentScreen) and screen.notice is notice and screen.code is None, raw
    assert the_tx(rig, house).state is TxState.AWAITING_PAYMENT


def test_a_payment_code_anywhere_else_says_choose_the_amount_first(make_rig: RigFactory, house: DemoHouse) -> None:
    rig = make_rig()
    rig.journey.qr_scanned(PAYS)
    assert isinstance(rig.journey.screen, IdleScreen) and rig.journey.screen.notice is Notice.PAYMENT_CODE_TOO_EARLY
    rig.journey.enter_house_number()
    rig.journey.qr_scanned(CONFIRMS)
    screen = rig.journey.screen
    assert isinstance(screen, HouseNumberScreen) and screen.notice is Notice.PAYMENT_CODE_TOO_EARLY
    rig.journey.card_inserted(house.card_id)
    rig.journey.qr_scanned(PAYS)  # while the house loads: ignored
    assert isinstance(rig.journey.screen, LoadingScreen)
    rig.wait_for(OverviewScreen)
    rig.journey.qr_scanned(PAYS)  # on the overview: the amount comes first, so that is where it goes
    amount = rig.journey.screen
    assert isinstance(amount, AmountScreen) and amount.notice is Notice.PAYMENT_CODE_TOO_EARLY
    rig.journey.qr_scanned(DECLINES)
    assert rig.journey.screen == amount
    assert rig.store.last_for_house(house.house_id) is None  # none of it started a payment


# ---- a lost answer: asked for, never repeated -----------------------------------------------------------------


@pytest.fixture
def proxied(make_rig: RigFactory, hq_server: HqServer) -> Iterator[tuple[Rig, FaultProxy, FaultProxy]]:
    with (
        FaultProxy(hq_server.base_url, name="journey") as journey,
        FaultProxy(hq_server.base_url, name="worker") as worker,
    ):
        rig = make_rig(journey.url, hq={"connect_timeout_s": 0.5, "read_timeout_s": 0.5})
        rig.worker_hq.base_url = worker.url
        rig.worker.policy = RetryPolicy(max_attempts=3, base_s=0.02, cap_s=0.1)
        rig.worker.recheck_s = 0.05
        yield rig, journey, worker
        assert journey.errors == [] and worker.errors == []


@pytest.mark.parametrize("fault", ["cut_after_request", "gateway_502"])
def test_lost_answer_to_a_paid_code_is_asked_for_and_charged_once(
    proxied: tuple[Rig, FaultProxy, FaultProxy], hq_server: HqServer, house: DemoHouse, fault: str
) -> None:
    rig, journey, worker = proxied
    before = balance(hq_server, house.lighting_meter_id)
    payment = to_payment(rig, house)
    journey.add_rule(CUT_AFTER_REQUEST if fault == "cut_after_request" else gateway_error(502),
                     method="POST", path=PAYMENT_CODE, times=1)
    rig.journey.qr_scanned(PAYS)
    result = rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.PAID  # the worker asked HQ at once, and HQ knew
    assert balance(hq_server, house.lighting_meter_id) == before + AMOUNT_FEN
    tx = the_tx(rig, house)
    assert tx.state is TxState.PAID
    assert states(rig, tx.id) == ["new", "awaiting_payment", "paying", "unknown", "paid"]
    submissions = [s for p in (journey, worker) for s in p.seen() if s.method == "POST" and "payment-code" in s.target]
    assert len(submissions) == 1  # never sent again
    asks = [s for s in worker.seen() if s.method == "GET" and s.target == f"/api/v1/orders/{payment.order_no}"]
    assert len(asks) == 1
    assert all(m.sent_at is not None for m in rig.store.outbox_for(tx.id))


def test_lost_answer_with_hq_out_of_reach_gives_a_slip_and_settles_later(
    proxied: tuple[Rig, FaultProxy, FaultProxy], hq_server: HqServer, house: DemoHouse, dead_url: str
) -> None:
    rig, journey, worker = proxied
    before = balance(hq_server, house.lighting_meter_id)
    payment = to_payment(rig, house)
    journey.add_rule(CUT_AFTER_REQUEST, method="POST", path=PAYMENT_CODE, times=1)
    rig.worker_hq.base_url = dead_url  # and the worker cannot reach HQ to ask: the outcome stays unknown for now
    rig.journey.qr_scanned(PAYS)
    result = rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.UNKNOWN and result.notice is Notice.CONNECTION_TROUBLE
    assert result.order_no == payment.order_no
    [slip] = rig.printer.wait_for_receipts(1)
    assert payment.order_no in slip.text
    tx = the_tx(rig, house)
    assert tx.state is TxState.UNKNOWN and not rig.worker.online  # held: no attempt spent while unreachable

    rig.worker_hq.base_url = worker.url
    rig.worker.set_online(True)  # what the connectivity monitor does when HQ answers again
    rig.wait(lambda: the_tx(rig, house).state is TxState.PAID)
    assert balance(hq_server, house.lighting_meter_id) == before + AMOUNT_FEN
    submissions = [s for p in (journey, worker) for s in p.seen() if s.method == "POST" and "payment-code" in s.target]
    assert len(submissions) == 1
    settles = [m for m in rig.store.outbox_for(the_tx(rig, house).id) if m.kind is OutboxKind.SETTLE]
    assert all(m.attempts <= 3 for m in settles)


def test_lost_answer_while_the_payer_confirms_waits_for_the_payer(
    proxied: tuple[Rig, FaultProxy, FaultProxy], hq_server: HqServer, house: DemoHouse
) -> None:
    rig, journey, worker = proxied
    before = balance(hq_server, house.lighting_meter_id)
    payment = to_payment(rig, house)
    journey.add_rule(CUT_AFTER_REQUEST, method="POST", path=PAYMENT_CODE, times=1)
    rig.journey.qr_scanned(CONFIRMS)
    result = rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.UNKNOWN  # HQ says the payer is still deciding: a slip for now
    tx = the_tx(rig, house)
    rig.wait(lambda: len([s for s in worker.seen() if s.target == f"/api/v1/orders/{payment.order_no}"]) >= 3)
    assert the_tx(rig, house).state is TxState.UNKNOWN  # asked again and again, never cancelled
    assert all(m.attempts == 0 for m in rig.store.outbox_for(tx.id) if m.kind is OutboxKind.SETTLE)
    assert not [s for s in worker.seen() if s.target.endswith("/cancel")]
    pay_in_sandbox(payment.pay_url)  # the payer confirms on the phone
    rig.wait(lambda: the_tx(rig, house).state is TxState.PAID)
    assert balance(hq_server, house.lighting_meter_id) == before + AMOUNT_FEN


def test_code_never_delivered_settles_as_nothing_charged(
    proxied: tuple[Rig, FaultProxy, FaultProxy], hq_server: HqServer, house: DemoHouse
) -> None:
    rig, journey, _worker = proxied
    before = balance(hq_server, house.lighting_meter_id)
    payment = to_payment(rig, house)
    journey.add_rule(DROP, method="POST", path=PAYMENT_CODE, times=1)  # read, then the connection drops
    rig.journey.qr_scanned(PAYS)
    result = rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.CANCELLED  # asked: HQ never had it, so the order was closed
    assert hq_order(hq_server, payment.order_no).status == "cancelled"
    assert balance(hq_server, house.lighting_meter_id) == before
