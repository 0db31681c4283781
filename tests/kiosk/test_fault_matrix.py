"""Never lose a payment, never charge twice, whatever the network does.

The terminal (journey and outbox worker, the real HqClient, store and retry logic) talks to the real HQ through
fault proxies; the resident's phone pays at HQ directly. Each fault (drop, reset, a delay past the read timeout,
blackhole, an answer cut after HQ acted, a gateway's 502 after HQ acted) strikes one step of a payment: the order
request, the status poll, and the worker's requests settling it (order by key, order status, cancel), with the
phone paying or not. Then the network heals, the worker settles everything by itself, and the invariants are
checked on both sides:

- one HQ order per idempotency key (none for an abandoned transaction), and no HQ order the terminal does not know;
- at most one charge per key, and the meter's balance moved by exactly the paid orders;
- every transaction is in the store, with a full history from `new`, and ended in a terminal state;
- both sides agree: PAID <=> paid, CANCELLED/EXPIRED <=> cancelled, ABANDONED <=> no order;
- the order request is never sent twice, and at most three tries per settle message;
- the resident is never told a paid order failed, nor an unpaid one paid.

The journey and the worker each have their own proxy (their own HqClient, as on the terminal), so a fault can hit
the worker's status request and not the journey's poll of the same URL.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fault_proxy import (
    BLACKHOLE,
    CUT_AFTER_REQUEST,
    DROP,
    PASS,
    RESET,
    Fault,
    FaultProxy,
    Rule,
    Seen,
    delay,
    gateway_error,
)
from journey_rig import Rig, pay_in_sandbox
from sqlalchemy import func, select

from hq.context import hq_context
from hq.models import Meter, Order
from hq.seed import DEMO_HOUSES, LOW_BALANCE_HOUSE, MAIN_HOUSE, NEW_HOUSE, DemoHouse
from hq.server import HqServer
from kiosk.outbox_worker import RetryPolicy
from kiosk.screens import Outcome, OverviewScreen, PaymentScreen, ResultScreen
from offline_queue.models import OutboxKind, TransactionRow
from offline_queue.states import TERMINAL_STATES, TxState
from offline_queue.store import TransactionRecord

RigFactory = Callable[..., Rig]

AMOUNT_FEN = 2000
READ_TIMEOUT_S = 1.0  # what a dropped answer costs; 0.5 s was too tight on a loaded machine (an identify timed out)
MAX_ATTEMPTS = 3

FAULTS: dict[str, Fault] = {
    "drop": DROP,
    "reset": RESET,
    "delay": delay(READ_TIMEOUT_S * 2),  # past the read timeout: HQ acts, the answer comes too late
    "blackhole": BLACKHOLE,
    "cut_after_request": CUT_AFTER_REQUEST,
    "gateway_502": gateway_error(502),  # a reverse proxy in front of HQ gives up after HQ acted
}
FORWARDED = {"delay", "cut_after_request", "gateway_502"}  # faults that let HQ act on the request

CREATE = r"/api/v1/orders"
BY_KEY = r"/api/v1/orders\?idempotency_key=[A-Za-z0-9_-]+"
STATUS = r"/api/v1/orders/[A-Z0-9]+(\?wait_s=[0-9.]+(&seen_status=[a-z_]+)?)?"  # the journey's is a long poll
LONG_POLL_S = 0.2  # the journey's status checks wait this long at HQ: the faults strike the next ones soon
CANCEL = r"/api/v1/orders/[A-Z0-9]+/cancel"

_OUTCOMES = {
    TxState.PAID: Outcome.PAID,
    TxState.CANCELLED: Outcome.CANCELLED,
    TxState.EXPIRED: Outcome.EXPIRED,
    TxState.DECLINED: Outcome.DECLINED,
}

# A fresh house (and lighting meter) per case, never one of the houses other tests use.
_HOUSES = itertools.cycle([h for h in DEMO_HOUSES if h not in (MAIN_HOUSE, NEW_HOUSE, LOW_BALANCE_HOUSE)])


@dataclass
class Network:
    """The terminal's way to HQ: one proxy for the journey's client, one for the worker's."""

    journey: FaultProxy
    worker: FaultProxy

    def set_mode(self, fault: Fault) -> None:
        self.journey.set_mode(fault)
        self.worker.set_mode(fault)

    def heal(self) -> None:
        self.journey.heal()
        self.worker.heal()


@pytest.fixture
def net(hq_server: HqServer) -> Iterator[Network]:
    with (
        FaultProxy(hq_server.base_url, name="journey") as journey,
        FaultProxy(hq_server.base_url, name="worker") as worker,
    ):
        yield Network(journey, worker)
        assert journey.errors == [] and worker.errors == []  # e.g. the phone's payments made from inside a proxy


@pytest.fixture
def terminal(net: Network, make_rig: RigFactory) -> Rig:
    rig = make_rig(net.journey.url, hq={"connect_timeout_s": READ_TIMEOUT_S, "read_timeout_s": READ_TIMEOUT_S},
                   payment={"long_poll_s": LONG_POLL_S})
    rig.worker_hq.base_url = net.worker.url
    rig.worker.policy = RetryPolicy(max_attempts=MAX_ATTEMPTS, base_s=0.02, cap_s=0.1)  # backoff, but short
    return rig


# ---- HQ's side, read from its database -------------------------------------------------------------------------


def _hq_orders(hq: HqServer, *where: Any) -> list[Order]:
    assert hq.app is not None
    with hq_context(hq.app).sessions() as session:
        return list(session.scalars(select(Order).where(*where)))


def _hq_balance(hq: HqServer, meter_id: str) -> int:
    assert hq.app is not None
    with hq_context(hq.app).sessions() as session:
        balance = session.scalar(select(Meter.balance_fen).where(Meter.id == meter_id))
    assert balance is not None
    return balance


def _hq_count_by_key(hq: HqServer, key: str) -> int:
    assert hq.app is not None
    with hq_context(hq.app).sessions() as session:
        return session.scalar(select(func.count()).select_from(Order).where(Order.idempotency_key == key)) or 0


# ---- one payment case ----------------------------------------------------------------------------------------------


@dataclass
class Case:
    """One resident's visit(s) with the network misbehaving, and everything needed to check it afterwards."""

    rig: Rig
    net: Network
    hq: HqServer
    house: DemoHouse = field(default_factory=lambda: next(_HOUSES))
    phone: list[dict[str, Any]] = field(default_factory=list)  # HQ's answers to the phone's payments
    payments: int = 0  # payments the resident started

    def __post_init__(self) -> None:
        self.meter_id = self.house.lighting_meter_id
        self.start_balance = _hq_balance(self.hq, self.meter_id)
        self.orders_before = {o.order_no for o in _hq_orders(self.hq, Order.house_id == self.house.house_id)}
        self._lock = threading.Lock()

    def start_payment(self) -> PaymentScreen | ResultScreen:
        """Identify by card, pick the lighting meter and an amount; the payment screen, or the result if none."""
        rig = self.rig
        rig.journey.card_inserted(self.house.card_id)
        rig.wait_for(OverviewScreen)
        rig.journey.select_meter(self.meter_id)
        rig.journey.other_amount()
        rig.journey.choose_amount(AMOUNT_FEN)
        self.payments += 1
        rig.wait(lambda: isinstance(rig.journey.screen, PaymentScreen | ResultScreen))
        screen = rig.journey.screen
        assert isinstance(screen, PaymentScreen | ResultScreen)
        return screen

    def pay(self, pay_url: str) -> None:
        """The resident's phone pays, straight at HQ."""
        answer = pay_in_sandbox(pay_url)
        with self._lock:
            self.phone.append(answer)

    def pays_once(self, pay_url: str) -> Callable[[Seen], None]:
        """An on_match callback: the phone pays when the fault first strikes (the payment races the fault)."""
        done = threading.Event()

        def on_match(_seen: Seen) -> None:
            if not done.is_set():
                done.set()
                self.pay(pay_url)

        return on_match

    def wait_hits(self, rule: Rule, hits: int) -> None:
        self.rig.wait(lambda: rule.hits >= hits)

    def expire(self) -> None:
        """Let the payment countdown run out without waiting for it."""
        self.rig.loop.advance(self.rig.config.payment.countdown_s + 1)

    def close(self, how: str) -> TxState:
        """The resident cancels, or the countdown ends; returns the state an unpaid order then ends in."""
        if how == "cancel":
            self.rig.journey.cancel_payment()
            return TxState.CANCELLED
        self.expire()
        return TxState.EXPIRED

    def records(self) -> list[TransactionRecord]:
        with self.rig.store.engine.connect() as connection:
            ids = connection.scalars(select(TransactionRow.id).order_by(TransactionRow.created_at)).all()
        return [self.rig.store.get(tx_id) for tx_id in ids]

    def results(self) -> list[ResultScreen]:
        return [s for s in self.rig.screens if isinstance(s, ResultScreen)]

    def heal_and_settle(self, timeout: float = 15.0) -> list[TransactionRecord]:
        """Network back; the connectivity monitor tells the worker; wait until every transaction has ended."""
        self.net.heal()
        self.rig.worker.set_online(True)  # nothing else wakes the worker: its own backoff must bring it back
        self.rig.wait(lambda: all(r.state in TERMINAL_STATES for r in self.records()), timeout)
        return self.records()

    # ---- the invariants ---------------------------------------------------------------------------------

    def check(self, expected: list[TxState]) -> None:
        records = self.heal_and_settle()
        assert [r.state for r in records] == expected, [(r.state, r.last_error) for r in records]
        assert len(records) == self.payments  # none lost, none made up

        hq_new = [o for o in _hq_orders(self.hq, Order.house_id == self.house.house_id)
                  if o.order_no not in self.orders_before]
        by_key = {o.idempotency_key: o for o in hq_new}
        keys = {r.idempotency_key for r in records}
        assert len(by_key) == len(hq_new) and set(by_key) <= keys, "an HQ order the terminal does not know of"

        for record in records:
            self._check_history(record)
            self._check_attempts(record)
            order = by_key.get(record.idempotency_key)
            count = _hq_count_by_key(self.hq, record.idempotency_key)
            if record.state is TxState.ABANDONED:
                assert order is None and count == 0, f"abandoned, but HQ has order {order and order.order_no}"
                continue
            assert order is not None and count == 1
            assert record.order_no == order.order_no
            hq_status = {
                TxState.PAID: "paid", TxState.CANCELLED: "cancelled", TxState.EXPIRED: "cancelled",
                TxState.DECLINED: "declined",
            }[record.state]
            assert order.status == hq_status, f"terminal {record.state}, HQ {order.status}"
            if record.state is TxState.PAID:
                assert record.new_balance_fen == order.new_balance_fen

        sent = [s for proxy in (self.net.journey, self.net.worker) for s in proxy.seen()]
        creates = [s for s in sent if s.method == "POST" and s.target == "/api/v1/orders"]
        assert len(creates) == self.payments, "an order request was sent again"

        paid = [o for o in hq_new if o.status == "paid"]
        assert len(paid) == sum(1 for answer in self.phone if answer["status"] == "paid")  # charged once per pay
        assert _hq_balance(self.hq, self.meter_id) == self.start_balance + sum(o.amount_fen for o in paid)
        assert sum(r.amount_fen for r in records if r.state is TxState.PAID) == sum(o.amount_fen for o in paid)
        self._check_screens(records, {o.order_no: o for o in hq_new})

    def _check_history(self, record: TransactionRecord) -> None:
        history = self.rig.store.history(record.id)
        assert history[0].from_state is None and history[0].to_state is TxState.NEW
        for before, after in itertools.pairwise(history):
            assert after.from_state is before.to_state
        assert history[-1].to_state is record.state

    def _check_attempts(self, record: TransactionRecord) -> None:
        messages = self.rig.store.outbox_for(record.id)
        assert all(m.sent_at is not None for m in messages), "a message left to send"
        settles = [m for m in messages if m.kind is OutboxKind.SETTLE]
        assert all(m.attempts <= MAX_ATTEMPTS for m in settles)
        # What HQ was asked, as the worker's proxy saw it: each try of a settle message asks once.
        asks = [
            s for s in self.net.worker.seen()
            if s.method == "GET" and (
                s.target == f"/api/v1/orders?idempotency_key={record.idempotency_key}"
                or (record.order_no is not None and s.target == f"/api/v1/orders/{record.order_no}")
            )
        ]
        assert len(asks) <= MAX_ATTEMPTS * len(settles), f"{len(asks)} tries for {len(settles)} settle message(s)"

    def _check_screens(self, records: list[TransactionRecord], orders: dict[str, Order]) -> None:
        """Never "failed" for a paid order, never "paid" for an unpaid one; a slip (UNKNOWN) when not known yet."""
        results = self.results()
        never_shown = [r for r in records
                       if TxState.AWAITING_PAYMENT not in [e.to_state for e in self.rig.store.history(r.id)]]
        not_started = [s for s in results if s.outcome is Outcome.NOT_STARTED]
        assert len(not_started) == len(never_shown)  # "nothing charged": and indeed none of them was
        assert all(s.order_no is None for s in not_started)
        assert all(r.state is not TxState.PAID for r in never_shown)
        allowed = {state: {outcome, Outcome.UNKNOWN} for state, outcome in _OUTCOMES.items()}
        by_order = {r.order_no: r for r in records if r.order_no is not None}
        for screen in results:
            if screen.order_no is None:
                continue
            record, order = by_order[screen.order_no], orders[screen.order_no]
            if order.status == "paid":  # the resident's money went: never "failed"
                assert screen.outcome in (Outcome.PAID, Outcome.UNKNOWN), f"paid, but the resident read {screen}"
            assert screen.outcome in allowed[record.state], f"{record.state}, but the resident read {screen.outcome}"
        shown_orders = {s.order_no for s in results}
        for record in records:
            if record not in never_shown:
                assert record.order_no in shown_orders, "the resident saw a QR and never a result"


@pytest.fixture
def case(terminal: Rig, net: Network, hq_server: HqServer) -> Case:
    return Case(terminal, net, hq_server)


# ---- the matrix: fault x step x (phone pays or not) -------------------------------------------------------------


@pytest.mark.parametrize("then", ["gives_up", "tries_again_and_pays"])
@pytest.mark.parametrize("fault", FAULTS)
def test_fault_at_create_order(case: Case, fault: str, then: str) -> None:
    """The order request gets no answer: "nothing charged"; an order HQ made anyway is found by key and cancelled."""
    case.net.journey.add_rule(FAULTS[fault], method="POST", path=CREATE, times=1)
    result = case.start_payment()
    assert isinstance(result, ResultScreen) and result.outcome is Outcome.NOT_STARTED
    first = TxState.CANCELLED if fault in FORWARDED else TxState.ABANDONED
    expected = [first]
    if then == "tries_again_and_pays":  # a new payment, a new key; the first never charges
        case.rig.journey.finish()
        payment = case.start_payment()
        assert isinstance(payment, PaymentScreen)
        case.pay(payment.pay_url)
        assert case.rig.wait_for(ResultScreen).outcome is Outcome.PAID
        expected.append(TxState.PAID)
    case.check(expected)


@pytest.mark.parametrize("phone", ["pays", "does_not_pay"])
@pytest.mark.parametrize("fault", FAULTS)
def test_fault_at_status_poll(case: Case, fault: str, phone: str) -> None:
    """Polls fail twice while the QR is shown; the phone pays meanwhile, or the countdown ends."""
    payment = case.start_payment()
    assert isinstance(payment, PaymentScreen)
    on_match = case.pays_once(payment.pay_url) if phone == "pays" else None
    rule = case.net.journey.add_rule(FAULTS[fault], method="GET", path=STATUS, times=2, on_match=on_match)
    if phone == "pays":
        result = case.rig.wait_for(ResultScreen)
        assert result.outcome is Outcome.PAID and result.order_no == payment.order_no
        case.check([TxState.PAID])
    else:
        case.wait_hits(rule, 2)
        case.rig.wait(lambda: not getattr(case.rig.journey.screen, "connection_ok", True))
        case.expire()
        assert case.rig.wait_for(ResultScreen).outcome is Outcome.EXPIRED
        case.check([TxState.EXPIRED])


@pytest.mark.parametrize("order", ["exists", "never_made"])
@pytest.mark.parametrize("fault", FAULTS)
def test_fault_at_settle_order_by_key(case: Case, fault: str, order: str) -> None:
    """The order request went unanswered (HQ made the order or not); asking by key fails twice, then answers."""
    create_fault = CUT_AFTER_REQUEST if order == "exists" else RESET
    case.net.journey.add_rule(create_fault, method="POST", path=CREATE, times=1)
    rule = case.net.worker.add_rule(FAULTS[fault], method="GET", path=BY_KEY, times=2)
    result = case.start_payment()
    assert isinstance(result, ResultScreen) and result.outcome is Outcome.NOT_STARTED
    case.wait_hits(rule, 2)
    case.check([TxState.CANCELLED if order == "exists" else TxState.ABANDONED])


@pytest.mark.parametrize("phone", ["pays", "does_not_pay"])
@pytest.mark.parametrize("close", ["cancel", "expire"])
@pytest.mark.parametrize("fault", FAULTS)
def test_fault_at_settle_order_status(case: Case, fault: str, close: str, phone: str) -> None:
    """The resident cancels or the countdown ends; the worker's status request fails twice (the phone paying as it
    first fails): the resident takes a slip, and the worker settles it when the status answers."""
    payment = case.start_payment()
    assert isinstance(payment, PaymentScreen)
    on_match = case.pays_once(payment.pay_url) if phone == "pays" else None
    rule = case.net.worker.add_rule(FAULTS[fault], method="GET", path=STATUS, times=2, on_match=on_match)
    unpaid = case.close(close)
    result = case.rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.UNKNOWN and result.order_no == payment.order_no  # slip, confirmed later
    case.wait_hits(rule, 2)
    case.check([TxState.PAID if phone == "pays" else unpaid])


@pytest.mark.parametrize("phone", ["pays", "does_not_pay"])
@pytest.mark.parametrize("close", ["cancel", "expire"])
@pytest.mark.parametrize("fault", FAULTS)
def test_fault_at_settle_cancel(case: Case, fault: str, close: str, phone: str) -> None:
    """The resident cancels or the countdown ends; the worker's cancel request fails (the phone paying as it first
    fails, before the cancel reaches HQ): the payment wins."""
    payment = case.start_payment()
    assert isinstance(payment, PaymentScreen)
    on_match = case.pays_once(payment.pay_url) if phone == "pays" else None
    rule = case.net.worker.add_rule(FAULTS[fault], method="POST", path=CANCEL, times=2, on_match=on_match)
    unpaid = case.close(close)
    result = case.rig.wait_for(ResultScreen)
    assert result.outcome is Outcome.UNKNOWN and result.order_no == payment.order_no
    case.wait_hits(rule, 1)
    case.check([TxState.PAID if phone == "pays" else unpaid])


@pytest.mark.parametrize("fault", ["pass", *FAULTS])
def test_payment_racing_the_cancel_wins(case: Case, fault: str) -> None:
    """The phone pays just as the worker's cancel leaves: HQ refuses the cancel (409, paid), and the payment stands,
    whether that answer arrives (pass) or is lost the first time."""
    payment = case.start_payment()
    assert isinstance(payment, PaymentScreen)
    case.net.worker.add_rule(
        PASS if fault == "pass" else FAULTS[fault], method="POST", path=CANCEL, times=1,
        on_match=case.pays_once(payment.pay_url),
    )
    case.rig.journey.cancel_payment()
    result = case.rig.wait_for(ResultScreen)
    assert result.outcome is (Outcome.PAID if fault == "pass" else Outcome.UNKNOWN)
    case.check([TxState.PAID])
    if fault == "pass":
        assert result.new_balance_fen == case.phone[0]["new_balance_fen"]
        case.rig.printer.wait_for_receipts(1)


# ---- longer outages ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["drop", "blackhole"])
def test_outage_through_a_payment_ends_with_staff_and_loses_nothing(case: Case, fault: str) -> None:
    """HQ is cut off while the QR is shown; the phone pays anyway; the resident cancels. The worker spends its three
    attempts and hands the payment to staff; staff retry while HQ is still cut off: three fresh attempts, then staff
    again; when the network is back, staff's retry finds the payment."""
    payment = case.start_payment()
    assert isinstance(payment, PaymentScreen)
    case.net.set_mode(FAULTS[fault])
    case.rig.wait(lambda: not getattr(case.rig.journey.screen, "connection_ok", True))
    case.pay(payment.pay_url)  # the phone has its own network
    case.rig.journey.cancel_payment()
    assert case.rig.wait_for(ResultScreen).outcome is Outcome.UNKNOWN
    tx = case.records()[0]

    def tries() -> list[int]:
        return [m.attempts for m in case.rig.store.outbox_for(tx.id) if m.kind is OutboxKind.SETTLE]

    for round_ in (1, 2):
        case.rig.wait(lambda: case.rig.store.get(tx.id).state is TxState.NEEDS_ATTENTION)
        assert case.rig.store.get(tx.id).attempts == MAX_ATTEMPTS
        assert tries() == [MAX_ATTEMPTS] * round_  # three per message: the retry's attempts are its own
        assert case.rig.store.pending_outbox() == []  # held for staff: nothing more is tried
        if round_ == 1:
            case.rig.worker.retry(tx.id)  # staff, from the maintenance menu, too early

    case.net.heal()
    case.rig.worker.retry(tx.id)
    case.check([TxState.PAID])
    assert [e.to_state for e in case.rig.store.history(tx.id)] == [
        TxState.NEW, TxState.AWAITING_PAYMENT, TxState.UNKNOWN, TxState.NEEDS_ATTENTION, TxState.UNKNOWN,
        TxState.NEEDS_ATTENTION, TxState.UNKNOWN, TxState.PAID,
    ]
    assert tries() == [MAX_ATTEMPTS, MAX_ATTEMPTS, 0]


def test_three_payments_in_a_row_through_a_flaky_network(case: Case) -> None:
    """Each kind of request of the terminal reset once, over three visits: one abandoned, one paid, one cancelled."""
    for proxy in (case.net.journey, case.net.worker):
        for path in (CREATE, BY_KEY, STATUS, CANCEL):
            proxy.add_rule(RESET, path=path, times=1)
    refused = case.start_payment()
    assert isinstance(refused, ResultScreen) and refused.outcome is Outcome.NOT_STARTED
    case.rig.journey.finish()

    paid = case.start_payment()
    assert isinstance(paid, PaymentScreen)
    case.pay(paid.pay_url)
    assert case.rig.wait_for(ResultScreen).outcome is Outcome.PAID  # after one failed poll
    case.rig.journey.finish()

    cancelled = case.start_payment()
    assert isinstance(cancelled, PaymentScreen)
    case.rig.journey.cancel_payment()
    assert case.rig.wait_for(ResultScreen).outcome is Outcome.UNKNOWN  # the worker's status request was reset
    case.check([TxState.ABANDONED, TxState.PAID, TxState.CANCELLED])
