"""The outbox worker: settling by asking HQ, retries with backoff, holding while HQ is away, staff retry, threads.

Settling is checked against the real HQ on loopback; faults come from `ScriptedHq`, a stand-in for the three
HqClient calls the worker makes (`order`, `order_by_key`, `cancel_order`) that raises what it is told to.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import requests
from journey_rig import pay_in_sandbox

from hq.seed import MAIN_HOUSE
from hq.server import HqServer
from kiosk.domain import Order, OrderStatus, ProtocolError
from kiosk.hq_client import HqClient, HqError, HqNoAnswer, HqUnreachable
from kiosk.outbox_worker import Intent, OutboxWorker, QueueStatus, RetryPolicy
from offline_queue.models import OutboxKind
from offline_queue.states import TxState
from offline_queue.store import OutboxMessage, TransactionRecord, TransactionStore

T0 = datetime(2026, 11, 5, 8, 30, tzinfo=UTC)
ORDER: dict[str, Any] = {
    "terminal_id": "T-TEST",
    "service": "electricity",
    "house_id": MAIN_HOUSE.house_id,
    "house_label": MAIN_HOUSE.number,
    "meter_id": MAIN_HOUSE.lighting_meter_id,
    "meter_label": "lighting:1",
    "amount_fen": 3000,
}


# ---- helpers ---------------------------------------------------------------------------------------------------


class FakeClock:
    """The worker's clock, moved by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class ScriptedHq:
    """HQ's order API in memory; each call first takes the next scripted fault (None answers normally).

    `always` makes every call about one idempotency key raise; `calls` records (method, key) of every call.
    """

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}  # by order number
        self.keys: dict[str, str] = {}  # idempotency key -> order number
        self.script: deque[Exception | None] = deque()
        self.always: dict[str, Exception] = {}
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def add(self, key: str, status: OrderStatus = OrderStatus.AWAITING_PAYMENT, balance: int | None = None) -> Order:
        order_no = f"FAKE{len(self.orders):012d}"
        order = Order(
            order_no=order_no, status=status, house_id=ORDER["house_id"], meter_id=ORDER["meter_id"],
            amount_fen=3000, pay_url=f"http://hq/pay/{order_no}", receipt_url=f"http://hq/r/{order_no}",
            created_at=T0, expires_at=T0 + timedelta(minutes=10),
            paid_at=T0 if status is OrderStatus.PAID else None, new_balance_fen=balance,
        )
        self.orders[order_no] = order
        self.keys[key] = order_no
        return order

    def _key_of(self, order_no: str) -> str:
        return next((k for k, n in self.keys.items() if n == order_no), order_no)

    def _call(self, method: str, key: str) -> None:
        with self._lock:
            self.calls.append((method, key))
            if key in self.always:
                raise self.always[key]
            fault = self.script.popleft() if self.script else None
        if fault is not None:
            raise fault

    def order(self, order_no: str) -> Order:
        self._call("order", self._key_of(order_no))
        if order_no not in self.orders:
            raise HqError(404, "unknown_order", f"No order {order_no}.")
        return self.orders[order_no]

    def order_by_key(self, idempotency_key: str) -> Order:
        self._call("order_by_key", idempotency_key)
        if idempotency_key not in self.keys:
            raise HqError(404, "unknown_order", "No order was created with this Idempotency-Key.")
        return self.orders[self.keys[idempotency_key]]

    def cancel_order(self, order_no: str) -> Order:
        self._call("cancel_order", self._key_of(order_no))
        order = self.orders[order_no]
        if order.status is OrderStatus.AWAITING_PAYMENT:
            order = self.orders[order_no] = replace(order, status=OrderStatus.CANCELLED)
        return order

    def keys_asked(self) -> list[str]:
        return [key for _method, key in self.calls]


def as_client(fake: ScriptedHq) -> HqClient:
    return cast(HqClient, fake)


def unknown_tx(
    store: TransactionStore, *, order_no: str | None = None, intent: str = Intent.CREATE_UNKNOWN, **order: Any
) -> TransactionRecord:
    """A transaction in `unknown` with a settle message, as the journey leaves it (with an order number if given)."""
    tx = store.create(**{**ORDER, **order})
    creates = [m.id for m in store.outbox_for(tx.id) if m.kind is OutboxKind.CREATE_ORDER]
    if order_no is not None:
        store.transition(tx.id, TxState.AWAITING_PAYMENT, reason="order_created", order_no=order_no, sent=creates)
        creates = []
    return store.transition(
        tx.id, TxState.UNKNOWN, reason=f"{intent}_requested", sent=creates,
        outbox=(OutboxKind.SETTLE, {"intent": intent}),
    )


def settle_message(store: TransactionStore, tx_id: str) -> OutboxMessage:
    """The transaction's newest settle message."""
    return [m for m in store.outbox_for(tx_id) if m.kind is OutboxKind.SETTLE][-1]


def wait_until(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.005)


def worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "kiosk-outbox"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TransactionStore]:
    opened = TransactionStore.open(tmp_path / "terminal.db")
    yield opened
    opened.close()


@pytest.fixture
def fake() -> ScriptedHq:
    return ScriptedHq()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(hq_server: HqServer) -> Iterator[HqClient]:
    real = HqClient(hq_server.base_url, connect_timeout_s=1.0, read_timeout_s=5.0)
    yield real
    real.close()


def create_at_hq(client: HqClient, tx: TransactionRecord) -> Order:
    return client.create_order(
        idempotency_key=tx.idempotency_key, terminal_id=tx.terminal_id, house_id=tx.house_id,
        meter_id=tx.meter_id, amount_fen=tx.amount_fen,
    )


def hq_status(hq_server: HqServer, order_no: str) -> dict[str, Any]:
    answer: dict[str, Any] = requests.get(f"{hq_server.base_url}/api/v1/orders/{order_no}", timeout=5).json()
    return answer


# ---- settling against the real HQ ---------------------------------------------------------------------------------


def test_unknown_create_that_never_reached_hq_is_abandoned(store: TransactionStore, client: HqClient) -> None:
    tx = unknown_tx(store)
    settled: list[TransactionRecord] = []
    worker = OutboxWorker(store, client, on_settled=settled.append)
    assert worker.run_once() == 1
    record = store.get(tx.id)
    assert record.state is TxState.ABANDONED and record.order_no is None
    assert [r.id for r in settled] == [tx.id]
    assert store.pending_outbox() == []
    assert [e.reason for e in store.history(tx.id)][-1] == "not_at_hq"


def test_unknown_create_found_awaiting_is_cancelled_at_hq(
    store: TransactionStore, client: HqClient, hq_server: HqServer
) -> None:
    tx = unknown_tx(store)
    order = create_at_hq(client, tx)  # HQ made the order; its answer never reached the terminal
    worker = OutboxWorker(store, client)
    worker.run_once()
    record = store.get(tx.id)
    assert record.state is TxState.CANCELLED and record.order_no == order.order_no
    assert hq_status(hq_server, order.order_no)["status"] == "cancelled"
    # The phone can no longer pay it: nothing is charged.
    assert pay_in_sandbox(order.pay_url)["status"] == "cancelled"
    assert store.pending_outbox() == []


def test_unknown_create_found_paid_is_paid_with_the_new_balance(
    store: TransactionStore, client: HqClient, hq_server: HqServer
) -> None:
    tx = unknown_tx(store)
    order = create_at_hq(client, tx)
    paid = pay_in_sandbox(order.pay_url)
    worker = OutboxWorker(store, client)
    worker.run_once()
    record = store.get(tx.id)
    assert record.state is TxState.PAID and record.order_no == order.order_no
    assert record.new_balance_fen == paid["new_balance_fen"] is not None
    assert hq_status(hq_server, order.order_no)["status"] == "paid"


@pytest.mark.parametrize(("intent", "expected"), [(Intent.EXPIRE, TxState.EXPIRED), (Intent.CANCEL, TxState.CANCELLED)])
def test_a_closed_order_is_cancelled_at_hq_and_recorded_for_its_intent(
    store: TransactionStore, client: HqClient, hq_server: HqServer, intent: str, expected: TxState
) -> None:
    tx = store.create(**ORDER)
    order = create_at_hq(client, tx)
    store.transition(tx.id, TxState.AWAITING_PAYMENT, order_no=order.order_no, sent=[store.outbox_for(tx.id)[0].id])
    store.transition(tx.id, TxState.UNKNOWN, outbox=(OutboxKind.SETTLE, {"intent": intent}))
    OutboxWorker(store, client).run_once()
    assert store.get(tx.id).state is expected
    assert hq_status(hq_server, order.order_no)["status"] == "cancelled"


def test_a_payment_that_raced_the_cancel_wins(store: TransactionStore, client: HqClient) -> None:
    tx = store.create(**ORDER)
    order = create_at_hq(client, tx)
    store.transition(tx.id, TxState.AWAITING_PAYMENT, order_no=order.order_no, sent=[store.outbox_for(tx.id)[0].id])
    store.transition(tx.id, TxState.UNKNOWN, outbox=(OutboxKind.SETTLE, {"intent": Intent.EXPIRE}))
    paid = pay_in_sandbox(order.pay_url)
    OutboxWorker(store, client).run_once()
    record = store.get(tx.id)
    assert record.state is TxState.PAID and record.new_balance_fen == paid["new_balance_fen"]


# ---- the same outcomes from the scripted HQ ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "intent", "expected"),
    [
        (OrderStatus.AWAITING_PAYMENT, Intent.CANCEL, TxState.CANCELLED),
        (OrderStatus.AWAITING_PAYMENT, Intent.EXPIRE, TxState.EXPIRED),
        (OrderStatus.PAID, Intent.CANCEL, TxState.PAID),
        (OrderStatus.DECLINED, Intent.CANCEL, TxState.DECLINED),
        (OrderStatus.EXPIRED, Intent.CANCEL, TxState.EXPIRED),
        (OrderStatus.CANCELLED, Intent.RECOVER, TxState.CANCELLED),
    ],
)
def test_hq_answer_decides_the_state(
    store: TransactionStore, fake: ScriptedHq, status: OrderStatus, intent: str, expected: TxState
) -> None:
    tx = store.create(**ORDER)
    order = fake.add(tx.idempotency_key, status, balance=777 if status is OrderStatus.PAID else None)
    store.transition(tx.id, TxState.AWAITING_PAYMENT, order_no=order.order_no, sent=[store.outbox_for(tx.id)[0].id])
    store.transition(tx.id, TxState.UNKNOWN, outbox=(OutboxKind.SETTLE, {"intent": intent}))
    OutboxWorker(store, as_client(fake)).run_once()
    record = store.get(tx.id)
    assert record.state is expected
    assert record.new_balance_fen == (777 if expected is TxState.PAID else None)
    cancels = [c for c in fake.calls if c[0] == "cancel_order"]
    assert len(cancels) == (1 if status is OrderStatus.AWAITING_PAYMENT else 0)  # only an open order is cancelled


# ---- retries ----------------------------------------------------------------------------------------------------

RETRYABLE = [
    pytest.param(lambda: HqNoAnswer("read timed out"), id="no-answer"),
    pytest.param(lambda: HqError(500, "internal_error", "boom"), id="500"),
    pytest.param(lambda: HqError(503, "busy", "try again"), id="503"),
    pytest.param(lambda: HqError(429, "rate_limited", "slow down"), id="429"),
    pytest.param(lambda: ProtocolError("answer is not JSON"), id="protocol"),
]


@pytest.mark.parametrize("fault", RETRYABLE)
@pytest.mark.parametrize("draw", [0.0, 0.5, 0.999])
def test_retryable_failure_backs_off_with_full_jitter_then_needs_attention(
    store: TransactionStore, fake: ScriptedHq, clock: FakeClock, fault: Callable[[], Exception], draw: float
) -> None:
    policy = RetryPolicy(max_attempts=3, base_s=2.0, cap_s=3.0)  # bounds 2 s, then min(3, 4) = 3 s
    statuses: list[QueueStatus] = []
    worker = OutboxWorker(
        store, as_client(fake), policy=policy, clock=clock, rand=lambda: draw, on_status=statuses.append
    )
    tx = unknown_tx(store)
    fake.script.extend(fault() for _ in range(10))

    for attempt, bound in ((1, 2.0), (2, 3.0)):
        assert worker.run_once() == 1
        message = settle_message(store, tx.id)
        assert message.attempts == attempt and message.sent_at is None
        assert message.last_error is not None
        assert message.next_attempt_at is not None
        assert clock.now <= message.next_attempt_at <= clock.now + timedelta(seconds=bound)
        assert message.next_attempt_at == clock.now + timedelta(seconds=draw * bound)
        assert store.get(tx.id).state is TxState.UNKNOWN
        if draw > 0:  # not due yet: nothing is asked
            calls = len(fake.calls)
            clock.now = message.next_attempt_at - timedelta(microseconds=1)
            assert worker.run_once() == 0 and len(fake.calls) == calls
        clock.now = message.next_attempt_at

    assert worker.run_once() == 1
    record = store.get(tx.id)
    assert record.state is TxState.NEEDS_ATTENTION
    assert record.attempts == 3 and record.last_error is not None
    assert type(fault()).__name__ in record.last_error
    assert settle_message(store, tx.id).attempts == 3
    assert store.pending_outbox() == []  # done with: nothing left that the worker could try
    assert len(fake.calls) == 3  # three attempts in all, each one request (the lookup)
    assert statuses[-1] == QueueStatus(waiting=0, needs_attention=1)

    clock.advance(3600)  # left for staff: never tried again by itself
    worker.run_once()
    assert len(fake.calls) == 3 and store.get(tx.id).state is TxState.NEEDS_ATTENTION


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(max_attempts=10, base_s=1.0, cap_s=60.0)
    assert [policy.delay(n, lambda: 1.0) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert all(policy.delay(n, lambda: 0.0) == 0 for n in range(1, 9))


def test_a_failure_on_the_cancel_is_retried_and_the_order_then_cancelled(
    store: TransactionStore, fake: ScriptedHq, clock: FakeClock
) -> None:
    tx = unknown_tx(store)
    fake.add(tx.idempotency_key)
    fake.script.extend([None, HqNoAnswer("reset")])  # the lookup answers, the cancel gets no answer
    worker = OutboxWorker(store, as_client(fake), clock=clock, rand=lambda: 0.0)
    worker.run_once()
    assert store.get(tx.id).state is TxState.UNKNOWN and settle_message(store, tx.id).attempts == 1
    worker.run_once()
    assert store.get(tx.id).state is TxState.CANCELLED
    assert [m for m, _k in fake.calls] == ["order_by_key", "cancel_order", "order_by_key", "cancel_order"]


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(HqError(422, "invalid_request", "bad"), id="422"),
        pytest.param(HqError(409, "conflict", "no"), id="409"),
        pytest.param(HqError(403, "forbidden", "terminal not allowed"), id="403"),
        pytest.param(HqError(404, "not_found", "no such route"), id="404-other-code"),
    ],
)
def test_a_4xx_needs_attention_after_one_attempt(
    store: TransactionStore, fake: ScriptedHq, clock: FakeClock, fault: HqError
) -> None:
    tx = unknown_tx(store)
    fake.script.append(fault)
    worker = OutboxWorker(store, as_client(fake), clock=clock)
    worker.run_once()
    record = store.get(tx.id)
    assert record.state is TxState.NEEDS_ATTENTION and record.attempts == 1
    assert record.last_error is not None and fault.code in record.last_error
    assert [e.reason for e in store.history(tx.id)][-1] == "refused_by_hq"
    assert len(fake.calls) == 1


def test_404_for_a_known_order_number_needs_attention_not_abandoned(
    store: TransactionStore, fake: ScriptedHq, clock: FakeClock
) -> None:
    """HQ gave this order number itself; "no such order" now is HQ's trouble, not proof nothing was charged."""
    tx = unknown_tx(store, order_no="GONE000000000000", intent=Intent.CANCEL)  # not in the fake's books
    OutboxWorker(store, as_client(fake), clock=clock).run_once()
    record = store.get(tx.id)
    assert record.state is TxState.NEEDS_ATTENTION and record.attempts == 1


# ---- holding while HQ is unreachable ----------------------------------------------------------------------------


def test_unreachable_spends_no_attempt_and_holds_until_online(
    store: TransactionStore, fake: ScriptedHq, clock: FakeClock
) -> None:
    txs = [unknown_tx(store) for _ in range(3)]
    fake.script.append(HqUnreachable("connection refused"))
    statuses: list[QueueStatus] = []
    worker = OutboxWorker(store, as_client(fake), clock=clock, on_status=statuses.append)

    assert worker.run_once() == 0
    assert len(fake.calls) == 1  # nothing else was tried in that pass
    assert not worker.online
    assert all(settle_message(store, t.id).attempts == 0 for t in txs)
    assert all(settle_message(store, t.id).next_attempt_at is None for t in txs)
    assert statuses[-1] == QueueStatus(waiting=3, needs_attention=0)

    for _ in range(5):  # however long it lasts, no request and no attempt is spent
        clock.advance(600)
        assert worker.run_once() == 0
    assert len(fake.calls) == 1
    assert all(store.get(t.id).state is TxState.UNKNOWN for t in txs)

    worker.set_online(True)
    assert worker.run_once() == 3
    assert all(store.get(t.id).state is TxState.ABANDONED for t in txs)
    assert statuses[-1] == QueueStatus(waiting=0, needs_attention=0)


def test_offline_worker_does_not_ask_at_all(store: TransactionStore, fake: ScriptedHq) -> None:
    unknown_tx(store)
    worker = OutboxWorker(store, as_client(fake))
    worker.set_online(False)
    assert worker.run_once() == 0 and fake.calls == []


# ---- one failure does not hold back the others ---------------------------------------------------------------


def test_one_failing_transaction_does_not_hold_back_the_others(
    store: TransactionStore, fake: ScriptedHq, clock: FakeClock
) -> None:
    txs = [unknown_tx(store, amount_fen=1000 + n) for n in range(5)]
    for tx in txs:
        fake.add(tx.idempotency_key)
    stuck = txs[1]
    fake.always[stuck.idempotency_key] = HqError(500, "internal_error", "this one breaks HQ")
    worker = OutboxWorker(store, as_client(fake), clock=clock, rand=lambda: 1.0)

    assert worker.run_once() == 5
    for tx in txs:
        assert store.get(tx.id).state is (TxState.UNKNOWN if tx is stuck else TxState.CANCELLED)
    # The stuck one waits its turn again and again, then goes to staff; the others were never held.
    for _ in range(4):
        clock.advance(60)
        worker.run_once()
    record = store.get(stuck.id)
    assert record.state is TxState.NEEDS_ATTENTION and record.attempts == 3
    assert fake.keys_asked().count(stuck.idempotency_key) == 3


def test_oldest_first_one_message_per_transaction_per_pass(store: TransactionStore, fake: ScriptedHq) -> None:
    txs = [unknown_tx(store, amount_fen=1000 + n) for n in range(4)]
    OutboxWorker(store, as_client(fake)).run_once()
    assert fake.keys_asked() == [t.idempotency_key for t in txs]


# ---- staff retry --------------------------------------------------------------------------------------------------


def test_staff_retry_gives_three_fresh_attempts_under_the_same_key(
    store: TransactionStore, fake: ScriptedHq, clock: FakeClock
) -> None:
    tx = unknown_tx(store)
    fake.add(tx.idempotency_key)
    worker = OutboxWorker(store, as_client(fake), clock=clock, rand=lambda: 0.0)
    fake.script.extend(HqNoAnswer("timed out") for _ in range(3))
    for _ in range(3):
        worker.run_once()
    assert store.get(tx.id).state is TxState.NEEDS_ATTENTION

    record = worker.retry(tx.id)
    assert record.state is TxState.UNKNOWN and record.idempotency_key == tx.idempotency_key
    fake.script.extend(HqNoAnswer("timed out") for _ in range(2))
    worker.run_once()
    assert store.get(tx.id).state is TxState.UNKNOWN, "the first fresh attempt failing used up the retry"
    worker.run_once()
    assert store.get(tx.id).state is TxState.UNKNOWN
    worker.run_once()  # the third fresh attempt answers
    record = store.get(tx.id)
    assert record.state is TxState.CANCELLED
    assert set(fake.keys_asked()) == {tx.idempotency_key}
    assert all(m.attempts <= 3 for m in store.outbox_for(tx.id))
    assert store.pending_outbox() == []
    assert [e.to_state for e in store.history(tx.id)][-3:] == [
        TxState.NEEDS_ATTENTION, TxState.UNKNOWN, TxState.CANCELLED,
    ]


def test_staff_retry_that_fails_three_times_needs_attention_again(
    store: TransactionStore, fake: ScriptedHq, clock: FakeClock
) -> None:
    tx = unknown_tx(store)
    fake.always[tx.idempotency_key] = HqError(502, "bad_gateway", "down")
    worker = OutboxWorker(store, as_client(fake), clock=clock, rand=lambda: 0.0)
    for _ in range(3):
        worker.run_once()
    worker.retry(tx.id)
    for _ in range(5):
        worker.run_once()
    record = store.get(tx.id)
    assert record.state is TxState.NEEDS_ATTENTION and record.attempts == 3
    assert len(fake.calls) == 6


def legacy_needs_attention(store: TransactionStore) -> TransactionRecord:
    """What older versions left: a transaction needing attention with its used-up settle message still unsent."""
    tx = unknown_tx(store)
    message = settle_message(store, tx.id)
    for _ in range(3):
        store.outbox_failed(message.id, error="HqNoAnswer: timed out", next_attempt_at=None)
    return store.transition(tx.id, TxState.NEEDS_ATTENTION, reason="attempts_used_up", attempts=3)


def test_an_exhausted_message_left_pending_by_an_older_version_is_retired(
    store: TransactionStore, fake: ScriptedHq, clock: FakeClock
) -> None:
    tx = legacy_needs_attention(store)
    worker = OutboxWorker(store, as_client(fake), clock=clock, rand=lambda: 0.0)
    assert worker.run_once() == 1 and fake.calls == []  # not asked again
    assert store.pending_outbox() == [] and store.get(tx.id).state is TxState.NEEDS_ATTENTION


def test_staff_retry_supersedes_an_exhausted_message_left_pending(
    store: TransactionStore, fake: ScriptedHq, clock: FakeClock
) -> None:
    tx = legacy_needs_attention(store)
    worker = OutboxWorker(store, as_client(fake), clock=clock, rand=lambda: 0.0)
    fake.script.extend(HqNoAnswer("timed out") for _ in range(2))
    worker.retry(tx.id)  # before any pass retired the old message
    for _ in range(3):
        worker.run_once()
    assert store.get(tx.id).state is TxState.ABANDONED
    assert all(m.attempts <= 3 for m in store.outbox_for(tx.id))


# ---- settle_now and callbacks --------------------------------------------------------------------------------------


def test_settle_now_goes_before_older_work_and_calls_back(store: TransactionStore, fake: ScriptedHq) -> None:
    older = [unknown_tx(store, amount_fen=1000 + n) for n in range(3)]
    urgent = unknown_tx(store, intent=Intent.CANCEL)
    for tx in [*older, urgent]:
        fake.add(tx.idempotency_key)
    done: list[TransactionRecord] = []
    settled: list[TransactionRecord] = []
    worker = OutboxWorker(store, as_client(fake), on_settled=settled.append)
    worker.settle_now(urgent.id, done.append)
    assert worker.run_once() == 4
    assert fake.keys_asked()[:2] == [urgent.idempotency_key] * 2  # looked up and cancelled first
    assert [r.id for r in done] == [urgent.id] and done[0].state is TxState.CANCELLED
    assert [r.id for r in settled] == [urgent.id] + [t.id for t in older]


def test_settle_now_while_unreachable_calls_back_with_the_unknown_record(
    store: TransactionStore, fake: ScriptedHq
) -> None:
    other = unknown_tx(store)
    urgent = unknown_tx(store, intent=Intent.CANCEL)
    fake.script.append(HqUnreachable("no route"))
    done: list[TransactionRecord] = []
    worker = OutboxWorker(store, as_client(fake))
    worker.settle_now(urgent.id, done.append)
    assert worker.run_once() == 0
    assert [r.state for r in done] == [TxState.UNKNOWN]
    assert fake.keys_asked() == [urgent.idempotency_key]  # held: the other one was not tried
    assert settle_message(store, other.id).attempts == 0


def test_settle_now_of_a_settled_transaction_just_calls_back(store: TransactionStore, fake: ScriptedHq) -> None:
    tx = unknown_tx(store)
    worker = OutboxWorker(store, as_client(fake))
    worker.run_once()
    done: list[TransactionRecord] = []
    worker.settle_now(tx.id, done.append)
    assert worker.run_once() == 0
    assert [r.state for r in done] == [TxState.ABANDONED] and len(fake.calls) == 1


def test_status_callback_counts_waiting_and_needing_attention(store: TransactionStore, fake: ScriptedHq) -> None:
    statuses: list[QueueStatus] = []
    worker = OutboxWorker(store, as_client(fake), on_status=statuses.append)
    store.create(**ORDER)  # a journey's order not yet sent
    live = store.create(**ORDER)
    store.transition(live.id, TxState.AWAITING_PAYMENT, order_no="LIVE000000000001")  # QR on screen
    refused = unknown_tx(store)
    fake.always[refused.idempotency_key] = HqError(422, "invalid_request", "no")
    for n in range(2):
        fake.add(unknown_tx(store, amount_fen=2000 + n).idempotency_key)
    worker.run_once()
    assert statuses == [QueueStatus(waiting=2, needs_attention=1)]
    worker.run_once()
    assert statuses[-1] == QueueStatus(waiting=2, needs_attention=1) and len(statuses) == 2


def test_a_transaction_settled_meanwhile_by_the_journey_keeps_that_answer(
    store: TransactionStore, fake: ScriptedHq
) -> None:
    tx = unknown_tx(store, order_no="RACE000000000001", intent=Intent.CANCEL)
    store.transition(tx.id, TxState.PAID, reason="poll_saw_paid", new_balance_fen=5)  # before the worker ran
    settled: list[TransactionRecord] = []
    OutboxWorker(store, as_client(fake), on_settled=settled.append).run_once()
    assert store.get(tx.id).state is TxState.PAID
    assert store.pending_outbox() == [] and settled == [] and fake.calls == []


# ---- the thread ----------------------------------------------------------------------------------------------------


def test_thread_delivers_on_wake_and_stops_cleanly(store: TransactionStore, client: HqClient) -> None:
    settled: list[TransactionRecord] = []
    worker = OutboxWorker(store, client, on_settled=settled.append)
    worker.start()
    try:
        tx = unknown_tx(store)
        order = create_at_hq(client, tx)
        worker.wake()
        wait_until(lambda: store.get(tx.id).is_terminal)
        assert store.get(tx.id).state is TxState.CANCELLED and store.get(tx.id).order_no == order.order_no
        later = unknown_tx(store)
        worker.wake()
        wait_until(lambda: store.get(later.id).is_terminal)
        wait_until(lambda: len(settled) == 2)  # the callback comes just after the store's write
        assert [r.id for r in settled] == [tx.id, later.id]
    finally:
        worker.stop()
    assert worker_threads() == []


def test_thread_settle_now_calls_back_from_the_worker(store: TransactionStore, fake: ScriptedHq) -> None:
    tx = unknown_tx(store, intent=Intent.CANCEL)
    fake.add(tx.idempotency_key)
    worker = OutboxWorker(store, as_client(fake))
    worker.set_online(False)  # nothing is done until told (the pass at start is held)
    worker.start()
    done = threading.Event()
    records: list[TransactionRecord] = []
    try:
        worker.set_online(True)
        worker.settle_now(tx.id, lambda r: (records.append(r), done.set()))
        assert done.wait(5)
        assert records[0].state is TxState.CANCELLED
    finally:
        worker.stop()
    assert worker_threads() == []


def test_thread_holds_while_unreachable_and_resumes_when_online(store: TransactionStore, fake: ScriptedHq) -> None:
    txs = [unknown_tx(store, amount_fen=1000 + n) for n in range(3)]
    fake.script.append(HqUnreachable("refused"))
    worker = OutboxWorker(store, as_client(fake))
    worker.start()
    try:
        worker.wake()
        wait_until(lambda: not worker.online)
        time.sleep(0.3)
        assert len(fake.calls) == 1  # held: no busy loop, no attempt
        worker.wake()  # new work written meanwhile does not release it either
        time.sleep(0.1)
        assert len(fake.calls) == 1
        worker.set_online(True)
        wait_until(lambda: all(store.get(t.id).is_terminal for t in txs))
    finally:
        worker.stop()
    assert worker_threads() == []
    assert all(settle_message(store, t.id).attempts == 0 for t in txs)


def test_thread_waits_for_the_backoff_then_retries_by_itself(store: TransactionStore, fake: ScriptedHq) -> None:
    tx = unknown_tx(store)
    fake.script.append(HqNoAnswer("timed out"))
    worker = OutboxWorker(store, as_client(fake), policy=RetryPolicy(3, base_s=0.2, cap_s=0.2), rand=lambda: 1.0)
    began = time.monotonic()
    worker.start()
    try:
        worker.wake()
        wait_until(lambda: store.get(tx.id).is_terminal)
    finally:
        worker.stop()
    assert time.monotonic() - began >= 0.2
    assert len(fake.calls) == 2 and store.get(tx.id).state is TxState.ABANDONED


def test_stop_without_start_and_twice_is_harmless(store: TransactionStore, fake: ScriptedHq) -> None:
    worker = OutboxWorker(store, as_client(fake))
    worker.stop()
    worker.start()
    worker.stop()
    worker.stop()
    assert worker_threads() == []


def test_thread_is_idle_once_a_transaction_needs_attention(store: TransactionStore, fake: ScriptedHq) -> None:
    """Nothing is due: the thread sleeps until woken instead of passing over the queue again and again."""
    tx = unknown_tx(store)
    fake.always[tx.idempotency_key] = HqError(422, "invalid_request", "no")
    passes: list[QueueStatus] = []
    worker = OutboxWorker(store, as_client(fake), on_status=passes.append)
    worker.start()
    try:
        worker.wake()
        wait_until(lambda: store.get(tx.id).state is TxState.NEEDS_ATTENTION and passes)
        time.sleep(0.1)
        before = len(passes)
        time.sleep(0.5)
        assert len(passes) - before <= 1, f"{len(passes) - before} passes in 0.5 s with nothing due"
    finally:
        worker.stop()
