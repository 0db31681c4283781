"""Random sequences of orders, payments, cancels, faults, outages and crashes against the real store and worker.

HQ is `FakeHq`, a dict of orders by idempotency key that counts every create request and every charge, behind a
network that can be down (HqUnreachable), drop a request (no answer, 500, 429: not applied) or lose an answer
(the request was applied at HQ, the terminal hears nothing). The terminal side is the real `TransactionStore` and
the real `OutboxWorker` (`run_once`, with a clock the rules move), plus the journey's own steps as
`kiosk/journey.py` takes them: write, send the create, record the answer; poll; cancel or expire with a settle
message and `settle_now`; and a crash is the store closed and opened again, a new worker, and `recover`.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import tempfile
from collections import Counter, deque
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from kiosk.domain import Order, OrderStatus, ProtocolError
from kiosk.hq_client import HqClient, HqError, HqFailure, HqNoAnswer, HqUnreachable
from kiosk.journey import record_create_failure
from kiosk.outbox_worker import Intent, OutboxWorker, RetryPolicy
from kiosk.recovery import recover
from offline_queue.models import OutboxKind
from offline_queue.states import TERMINAL_STATES, InvalidTransition, TxState
from offline_queue.store import TransactionRecord, TransactionStore

# A passing run takes about 15 s; a failing one spends minutes shrinking to a short counterexample: let it.
pytestmark = pytest.mark.timeout(900)

T0 = datetime(2026, 11, 5, 8, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=3, base_s=1.0, cap_s=60.0)
ORDER = {
    "terminal_id": "T-STATEFUL",
    "service": "electricity",
    "house_id": "h_3_2_501",
    "house_label": "3-2-501",
    "meter_id": "m_3_2_501_l",
    "meter_label": "lighting:1",
}
DROPS = {
    "no_answer": lambda: HqNoAnswer("read timed out"),
    "500": lambda: HqError(500, "internal_error", "boom"),
    "429": lambda: HqError(429, "rate_limited", "slow down"),
    "garbled": lambda: ProtocolError("answer is not JSON"),
}
CREATE_OUTCOMES = st.sampled_from(
    [
        "ok", "ok", "no_answer", "500", "429", "garbled", "lose_answer", "unreachable", "refused",
        "crash_before_send", "crash_after_send",
    ]
)
_FINAL_AT_HQ = {
    TxState.PAID: {OrderStatus.PAID},
    TxState.DECLINED: {OrderStatus.DECLINED},
    TxState.CANCELLED: {OrderStatus.CANCELLED, OrderStatus.EXPIRED},
    TxState.EXPIRED: {OrderStatus.CANCELLED, OrderStatus.EXPIRED},
}


@dataclass
class HqOrder:
    order: Order
    key: str


class FakeHq:
    """HQ's orders by idempotency key, behind a network with faults; the client methods the terminal calls."""

    def __init__(self) -> None:
        self.orders: dict[str, HqOrder] = {}  # by key
        self.numbers: dict[str, str] = {}  # order number -> key
        self.create_requests: Counter[str] = Counter()  # create requests that reached HQ, per key
        self.charges: Counter[str] = Counter()
        self.up = True
        self.broken: str | None = None  # a DROPS name: every request fails so until HQ is mended
        self.faults: deque[str] = deque()  # one per coming request: a DROPS name, or "lose_answer"
        self.create_outcome = "ok"  # the journey's create request has its own fate, chosen by the rule
        self.balance = 10_000

    # -- the network --

    def _through(self) -> str | None:
        """Let a request through the network, or raise what the network does to it."""
        if not self.up:
            raise HqUnreachable("connection refused")
        if self.broken is not None:
            raise DROPS[self.broken]()
        fault = self.faults.popleft() if self.faults else None
        if fault in DROPS:
            raise DROPS[fault]()
        return fault

    @staticmethod
    def _answer(fault: str | None, order: Order) -> Order:
        if fault == "lose_answer":
            raise HqNoAnswer("connection reset after the request was sent")
        return order

    # -- HqClient --

    def create_order(
        self, *, idempotency_key: str, terminal_id: str, house_id: str, meter_id: str, amount_fen: int
    ) -> Order:
        fault, self.create_outcome = self.create_outcome, "ok"
        if fault == "unreachable":
            raise HqUnreachable("connection refused")
        if fault in DROPS:
            raise DROPS[fault]()
        self.create_requests[idempotency_key] += 1
        if fault == "refused":
            raise HqError(422, "amount_out_of_range", "no")
        if idempotency_key not in self.orders:
            order_no = f"ORD{len(self.numbers):013d}"
            order = Order(
                order_no=order_no, status=OrderStatus.AWAITING_PAYMENT, house_id=house_id, meter_id=meter_id,
                amount_fen=amount_fen, pay_url=f"http://hq/pay/{order_no}", receipt_url=f"http://hq/r/{order_no}",
                created_at=T0, expires_at=T0 + timedelta(minutes=10), paid_at=None, new_balance_fen=None,
            )
            self.orders[idempotency_key] = HqOrder(order, idempotency_key)
            self.numbers[order_no] = idempotency_key
        return self._answer(fault, self.orders[idempotency_key].order)

    def order(self, order_no: str) -> Order:
        fault = self._through()
        if order_no not in self.numbers:
            raise HqError(404, "unknown_order", order_no)
        return self._answer(fault, self.orders[self.numbers[order_no]].order)

    def order_by_key(self, idempotency_key: str) -> Order:
        fault = self._through()
        if idempotency_key not in self.orders:
            raise HqError(404, "unknown_order", "no order under this key")
        return self._answer(fault, self.orders[idempotency_key].order)

    def cancel_order(self, order_no: str) -> Order:
        fault = self._through()
        held = self.orders[self.numbers[order_no]]
        if held.order.status is OrderStatus.AWAITING_PAYMENT:
            held.order = replace(held.order, status=OrderStatus.CANCELLED)
        return self._answer(fault, held.order)  # a paid order comes back paid (the client's 409 handling)

    # -- the resident's phone --

    def open_orders(self) -> list[str]:
        return [k for k, o in self.orders.items() if o.order.status is OrderStatus.AWAITING_PAYMENT]  # oldest first

    def pay(self, key: str) -> None:
        held = self.orders[key]
        if held.order.status is OrderStatus.AWAITING_PAYMENT:
            self.balance += held.order.amount_fen
            self.charges[key] += 1
            held.order = replace(held.order, status=OrderStatus.PAID, paid_at=T0, new_balance_fen=self.balance)

    def decline(self, key: str) -> None:
        held = self.orders[key]
        if held.order.status is OrderStatus.AWAITING_PAYMENT:
            held.order = replace(held.order, status=OrderStatus.DECLINED)


class WorkerView:
    """What the worker may call: no create_order (settling never creates or repeats an order)."""

    def __init__(self, hq: FakeHq) -> None:
        self.order = hq.order
        self.order_by_key = hq.order_by_key
        self.cancel_order = hq.cancel_order


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class TerminalMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="kiosk-outbox-stateful-"))
        self.path = self.folder / "terminal.db"
        self.hq = FakeHq()
        self.clock = Clock()
        self.rand = random.Random(20261105).random
        self.store = TransactionStore.open(self.path)
        self.worker = self._new_worker()
        self.keys: dict[str, str] = {}  # tx id -> idempotency key, of every transaction ever created
        self.on_screen: list[str] = []  # transactions whose QR a journey shows (awaiting_payment)
        self.called_back: list[TransactionRecord] = []

    def _new_worker(self) -> OutboxWorker:
        return OutboxWorker(
            self.store, cast(HqClient, WorkerView(self.hq)), policy=POLICY, clock=self.clock, rand=self.rand
        )

    def _client(self) -> HqClient:
        return cast(HqClient, self.hq)

    def _restart(self) -> None:
        self.store.close()
        self.store = TransactionStore.open(self.path)
        self.worker = self._new_worker()
        self.on_screen.clear()  # the screens are gone with the process
        recover(self.store)

    # ---- the journey ----------------------------------------------------------------------------------------

    @initialize(
        outcomes=st.lists(CREATE_OUTCOMES, min_size=1, max_size=4),
        broken=st.sampled_from([None, None, "500", "no_answer"]),
    )
    def a_few_orders_first(self, outcomes: list[str], broken: str | None) -> None:
        """Every run starts with some transactions, so the rules below always have something to work on, and
        half of them with HQ failing every settle request until mended (so attempts run out)."""
        for n, outcome in enumerate(outcomes):
            self._start_payment(outcome, 1000 + n)
        self.hq.broken = broken

    @rule(
        outcome=CREATE_OUTCOMES,
        amount=st.integers(min_value=100, max_value=50_000),
        phone=st.sampled_from([None, "pay", "decline"]),
    )
    def new_order(self, outcome: str, amount: int, phone: str | None = None) -> None:
        """The journey's `_start_payment`: write, send the create under the key, record HQ's answer; then perhaps
        the resident's phone at once pays or declines whatever order HQ has under the key."""
        self._start_payment(outcome, amount)
        key = list(self.keys.values())[-1]
        if phone is not None and key in self.hq.orders:
            (self.hq.pay if phone == "pay" else self.hq.decline)(key)

    def _start_payment(self, outcome: str, amount: int) -> None:
        tx = self.store.create(**ORDER, amount_fen=amount)
        self.keys[tx.id] = tx.idempotency_key
        if outcome == "crash_before_send":
            self._restart()
            return
        sent = [m.id for m in self.store.outbox_for(tx.id) if m.kind is OutboxKind.CREATE_ORDER]
        self.hq.create_outcome = "ok" if outcome.startswith("crash") else outcome
        try:
            order = self._client().create_order(
                idempotency_key=tx.idempotency_key, terminal_id=tx.terminal_id, house_id=tx.house_id,
                meter_id=tx.meter_id, amount_fen=tx.amount_fen,
            )
        except (HqFailure, ProtocolError) as exc:
            if record_create_failure(self.store, tx.id, exc, sent):
                self.worker.wake()
            return
        if outcome == "crash_after_send":  # HQ made the order; the terminal died before writing it down
            self._restart()
            return
        self.store.transition(
            tx.id, TxState.AWAITING_PAYMENT, reason="order_created", order_no=order.order_no, pay_url=order.pay_url,
            receipt_url=order.receipt_url, sent=sent,
        )
        self.on_screen.append(tx.id)

    def _on_screen_at(self, index: int) -> TransactionRecord:
        return self.store.get(self.on_screen[index % len(self.on_screen)])

    @precondition(lambda self: self.on_screen)
    @rule(index=st.integers(min_value=0, max_value=50))
    def journey_polls(self, index: int) -> None:
        """`_poll`: ask for the order; a final answer is recorded and ends the payment screen."""
        tx = self._on_screen_at(index)
        assert tx.order_no is not None
        try:
            order = self._client().order(tx.order_no)
        except (HqFailure, ProtocolError):
            return  # the screen says the connection is shaky and polls again
        if order.status is OrderStatus.AWAITING_PAYMENT:
            return
        state = {OrderStatus.PAID: TxState.PAID, OrderStatus.DECLINED: TxState.DECLINED}.get(
            order.status, TxState.CANCELLED if order.status is OrderStatus.CANCELLED else TxState.EXPIRED
        )
        self.store.transition(tx.id, state, reason=f"hq_{order.status.value}", new_balance_fen=order.new_balance_fen)
        self.on_screen.remove(tx.id)

    @precondition(lambda self: self.on_screen)
    @rule(index=st.integers(min_value=0, max_value=50), expire=st.booleans())
    def resident_cancels(self, index: int, expire: bool) -> None:
        """`_close_order`: unknown with a settle message in one transaction, then settle_now."""
        tx = self._on_screen_at(index)
        intent = Intent.EXPIRE if expire else Intent.CANCEL
        with contextlib.suppress(InvalidTransition):  # a poll recorded the outcome first: that stands
            self.store.transition(
                tx.id, TxState.UNKNOWN, reason=f"{intent}_requested", outbox=(OutboxKind.SETTLE, {"intent": intent})
            )
        self.on_screen.remove(tx.id)
        self.worker.settle_now(tx.id, self.called_back.append)

    def _in(self, state: TxState) -> list[TransactionRecord]:
        return [tx for tx in self.store.in_flight() if tx.state is state]  # one query, oldest first

    @precondition(lambda self: self._in(TxState.UNKNOWN))
    @rule(index=st.integers(min_value=0, max_value=50))
    def late_poll_answer(self, index: int) -> None:
        """A status poll sent just before the cancel answers after it: its answer is recorded as it is."""
        unknown = self._in(TxState.UNKNOWN)
        tx = unknown[index % len(unknown)]
        if tx.order_no is None:
            return
        try:
            order = self._client().order(tx.order_no)
        except (HqFailure, ProtocolError):
            return
        if order.status in (OrderStatus.PAID, OrderStatus.DECLINED):
            state = TxState.PAID if order.status is OrderStatus.PAID else TxState.DECLINED
            self.store.transition(
                tx.id, state, reason=f"hq_{order.status.value}", new_balance_fen=order.new_balance_fen
            )

    # ---- the phone -------------------------------------------------------------------------------------------

    @precondition(lambda self: self.hq.open_orders())
    @rule(index=st.integers(min_value=0, max_value=50), pays=st.booleans())
    def phone(self, index: int, pays: bool) -> None:
        """The resident's phone pays or declines any order still open at HQ (even one no QR was shown for)."""
        keys = self.hq.open_orders()
        key = keys[index % len(keys)]
        if pays:
            self.hq.pay(key)
        else:
            self.hq.decline(key)

    # ---- the worker, the network, time and crashes ----------------------------------------------------------------

    @rule(wait=st.sampled_from([0.0, 1.0, 4.0, 61.0]), passes=st.sampled_from([1, 3]))
    def send(self, wait: float, passes: int) -> None:
        """Time passes (backoffs fall due), then the worker makes a pass; perhaps again, and again."""
        for _ in range(passes):
            self.clock.now += timedelta(seconds=wait)
            self.worker.run_once()

    @rule(kind=st.sampled_from(sorted(DROPS)), times=st.sampled_from([1, 3, 8]))
    def fail(self, kind: str, times: int) -> None:
        """The next requests fail in a way a retry can fix; HQ never saw them."""
        self.hq.faults.extend([kind] * times)

    @rule(broken=st.sampled_from([None, *sorted(DROPS)]))
    def hq_health(self, broken: str | None) -> None:
        """HQ starts failing every request in a way a retry could fix (but not yet), or is mended."""
        self.hq.broken = broken

    @rule()
    def time_out(self) -> None:
        """The next request reaches HQ and is applied, but its answer is lost."""
        self.hq.faults.append("lose_answer")

    @rule(up=st.booleans(), noticed=st.booleans())
    def network(self, up: bool, noticed: bool) -> None:
        """The network goes down or comes back; the connectivity monitor may or may not have noticed yet."""
        self.hq.up = up
        if noticed or up:  # when HQ answers again the monitor releases the worker (that is what it is for)
            self.worker.set_online(up)

    @rule()
    def crash_and_restart(self) -> None:
        self._restart()

    @precondition(lambda self: self._in(TxState.NEEDS_ATTENTION))
    @rule()
    def staff_retry(self) -> None:
        self.worker.retry(self._in(TxState.NEEDS_ATTENTION)[0].id)

    @rule()
    def everything_settles_once_hq_is_back(self) -> None:
        self._settle_everything()

    def _drain(self) -> None:
        self.hq.up = True
        self.hq.broken = None
        self.hq.faults.clear()
        self.worker.set_online(True)
        for _ in range(POLICY.max_attempts + 2):
            self.clock.now += timedelta(seconds=POLICY.cap_s)
            self.worker.run_once()

    def _settle_everything(self) -> None:
        for tx_id in list(self.on_screen):  # every payment screen ends by its countdown
            self.on_screen.remove(tx_id)
            self.store.transition(
                tx_id, TxState.UNKNOWN, reason="expire_requested", outbox=(OutboxKind.SETTLE, {"intent": "expire"})
            )
        self._drain()
        left = {tx.id: tx.state for tx in self.store.in_flight()}
        assert set(left.values()) <= {TxState.NEEDS_ATTENTION}, left
        for tx_id in left:  # staff retry with HQ healthy: three fresh attempts, and they succeed
            self.worker.retry(tx_id)
        self._drain()
        assert self.store.in_flight() == []
        assert self.store.pending_outbox() == []
        for tx_id, key in self.keys.items():  # and through the store's own API: every record there, settled
            record = self.store.get_by_key(key)
            assert record is not None and record.id == tx_id and record.is_terminal

    # ---- invariants ------------------------------------------------------------------------------------------------

    def _snapshot(self) -> tuple[dict[str, tuple[str, TxState, str | None, int]], list[tuple[str, str, int, bool]]]:
        """Every transaction (by key: id, state, order number, attempts) and every outbox message (transaction,
        kind, attempts, sent?), read straight from the file in two queries: cheap enough for every step."""
        with self.store.engine.connect() as conn:
            txs = {
                key: (tx_id, TxState(state), order_no, attempts)
                for tx_id, key, state, order_no, attempts in conn.exec_driver_sql(
                    "SELECT id, idempotency_key, state, order_no, attempts FROM transactions"
                )
            }
            messages = [
                (tx_id, kind, attempts, sent_at is not None)
                for tx_id, kind, attempts, sent_at in conn.exec_driver_sql(
                    "SELECT transaction_id, kind, attempts, sent_at FROM outbox ORDER BY id"
                )
            ]
        return txs, messages

    @invariant()
    def the_books_agree(self) -> None:
        # No double charge, and the terminal never sends a create twice (settling asks, never repeats).
        assert all(n <= 1 for n in self.hq.charges.values()), self.hq.charges
        assert all(n <= 1 for n in self.hq.create_requests.values()), self.hq.create_requests
        txs, messages = self._snapshot()
        assert len(txs) == len(self.keys)
        counts = Counter[TxState]()
        for tx_id, key in self.keys.items():
            assert key in txs and txs[key][0] == tx_id, "a transaction was lost"
            _id, state, order_no, attempts = txs[key]
            counts[state] += 1
            held = self.hq.orders.get(key)
            at_hq = held.order.status if held else None
            # PAID here only if HQ has it paid; and nothing HQ charged is shown as anything but paid.
            if state is TxState.PAID:
                assert at_hq is OrderStatus.PAID, (state, at_hq)
            if state in _FINAL_AT_HQ:
                assert at_hq in _FINAL_AT_HQ[state], (state, at_hq)
            if state is TxState.ABANDONED:
                assert held is None, "abandoned, yet the order exists at HQ"
            if state in TERMINAL_STATES and state is not TxState.PAID:
                assert self.hq.charges[key] == 0
            if held is not None and order_no is not None:
                assert order_no == held.order.order_no  # one transaction, one HQ order
            mine = [m for m in messages if m[0] == tx_id]
            assert all(m[2] <= POLICY.max_attempts for m in mine), mine
            assert attempts <= POLICY.max_attempts
            pending = [m for m in mine if not m[3] and m[1] == OutboxKind.SETTLE]
            if state is TxState.UNKNOWN:
                assert len(pending) == 1, "unknown, yet nothing (or too much) will settle it"
            if state is TxState.NEEDS_ATTENTION:
                assert pending == [], "needs attention, yet a spent message is still queued"
            assert not any(not m[3] and m[1] == OutboxKind.CREATE_ORDER for m in mine), "a create left unsent"
        assert counts[TxState.NEW] == 0  # the journey records every create's outcome; a crash recovers it
        assert counts[TxState.AWAITING_PAYMENT] == len(self.on_screen)

    def teardown(self) -> None:
        try:
            self._settle_everything()
        finally:
            self.store.close()
            shutil.rmtree(self.folder, ignore_errors=True)


TerminalMachine.TestCase.settings = settings(
    max_examples=50,
    stateful_step_count=35,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_terminal_outbox_state_machine = TerminalMachine.TestCase


def test_the_fake_hq_counts_what_it_should() -> None:
    """The model itself: idempotent creates, one charge, a lost answer still applied, the network's faults."""
    hq = FakeHq()
    first = hq.create_order(idempotency_key="k" * 20, terminal_id="T", house_id="h", meter_id="m", amount_fen=100)
    again = hq.create_order(idempotency_key="k" * 20, terminal_id="T", house_id="h", meter_id="m", amount_fen=100)
    assert first == again and hq.create_requests["k" * 20] == 2
    hq.pay("k" * 20)
    hq.pay("k" * 20)
    assert hq.charges["k" * 20] == 1 and hq.order(first.order_no).status is OrderStatus.PAID
    hq.create_outcome = "lose_answer"
    with pytest.raises(HqNoAnswer):
        hq.create_order(idempotency_key="j" * 20, terminal_id="T", house_id="h", meter_id="m", amount_fen=100)
    assert "j" * 20 in hq.orders
    hq.faults.append("lose_answer")  # a cancel applied at HQ whose answer is lost
    with pytest.raises(HqNoAnswer):
        hq.cancel_order(hq.orders["j" * 20].order.order_no)
    assert hq.orders["j" * 20].order.status is OrderStatus.CANCELLED
    hq.up = False
    with pytest.raises(HqUnreachable):
        hq.order_by_key("j" * 20)
    assert not hasattr(WorkerView(hq), "create_order")

