"""The terminal's threads on one store at once, thousands of operations: no "database is locked", nothing lost.

As in the running terminal (docs/architecture.md, Threads): the `hq` lane writes each journey's transaction and
its answers, the real outbox worker (its own thread, woken by the journey) settles every cancelled order, the
`printer` lane records receipts, and the GUI side reads the queue's counts and the house's last payment. Every
write is then found in the file, with its history, and SQLite's integrity check passes.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from queue_helpers import integrity_ok, new_order

from kiosk.domain import Order, OrderStatus
from kiosk.hq_client import HqClient
from kiosk.outbox_worker import Intent, OutboxWorker
from offline_queue import OutboxKind, ReceiptStatus, TransactionStore, TxState

OPS_PER_THREAD = 1000
JOURNEY_OPS_PER_CYCLE = 4  # create, awaiting payment, cancel (unknown + settle) or paid, read the house's last
CYCLES = OPS_PER_THREAD // JOURNEY_OPS_PER_CYCLE
T0 = datetime(2026, 11, 5, tzinfo=UTC)


class CancellingHq:
    """Answers the worker like HQ would: an order still open is cancelled, unless the resident paid it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.orders: dict[str, Order] = {}
        self.requests = 0

    def open(self, order_no: str, paid: bool) -> None:
        with self._lock:
            self.orders[order_no] = Order(
                order_no=order_no, status=OrderStatus.PAID if paid else OrderStatus.AWAITING_PAYMENT,
                house_id="h", meter_id="m", amount_fen=100, pay_url="http://hq/p", receipt_url="http://hq/r",
                created_at=T0, expires_at=T0 + timedelta(minutes=10), paid_at=T0 if paid else None,
                new_balance_fen=1234 if paid else None,
            )

    def order(self, order_no: str) -> Order:
        with self._lock:
            self.requests += 1
            return self.orders[order_no]

    def cancel_order(self, order_no: str) -> Order:
        with self._lock:
            self.requests += 1
            order = self.orders[order_no]
            if order.status is OrderStatus.AWAITING_PAYMENT:
                order = self.orders[order_no] = replace(order, status=OrderStatus.CANCELLED)
            return order

    def order_by_key(self, idempotency_key: str) -> Order:
        raise AssertionError("every transaction here has its order number")


def run_threads(*targets: Callable[[], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(targets))

    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                start.wait()
                target()
            except BaseException as exc:  # collected: an exception in a thread would otherwise be lost
                errors.append(exc)

        return run

    threads = [threading.Thread(target=guarded(t), name=t.__name__) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return errors


def test_journey_worker_printer_and_reader_at_once(store: TransactionStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    hq = CancellingHq()
    to_print: queue.Queue[str] = queue.Queue()
    worker = OutboxWorker(
        store, cast(HqClient, hq),
        on_settled=lambda record: to_print.put(record.id) if record.state is TxState.PAID else None,
    )
    journey_done = threading.Event()
    created: list[str] = []
    cancelled: list[str] = []
    paid_by_poll: list[str] = []
    printed: dict[str, ReceiptStatus] = {}  # the last status the printer lane wrote, per transaction
    reads: Counter[int] = Counter()

    def hq_lane() -> None:
        """The journey: write before sending, record HQ's answer; cancel half, see the other half paid."""
        for cycle in range(CYCLES):
            house = f"h_{cycle % 7}"
            tx = new_order(store, house_id=house, amount_fen=100 + cycle)
            created.append(tx.id)
            order_no = f"ORD{cycle:013d}"
            hq.open(order_no, paid=cycle % 4 == 1)  # some residents pay just as they press cancel
            [create] = store.outbox_for(tx.id)
            store.transition(tx.id, TxState.AWAITING_PAYMENT, reason="order_created", order_no=order_no,
                             sent=[create.id])
            if cycle % 2:
                store.transition(tx.id, TxState.UNKNOWN, reason="cancel_requested",
                                 outbox=(OutboxKind.SETTLE, {"intent": Intent.CANCEL}))
                cancelled.append(tx.id)
                worker.wake()
            else:
                store.transition(tx.id, TxState.PAID, reason="hq_paid", new_balance_fen=cycle)
                paid_by_poll.append(tx.id)
                to_print.put(tx.id)
            store.last_for_house(house)  # the next resident of that house sees how it ended
        journey_done.set()

    def printer_lane() -> None:
        """Receipts of paid transactions; with none waiting, staff reprint an earlier one."""
        for n in range(OPS_PER_THREAD):
            try:
                tx_id = to_print.get(timeout=0.001 if printed else 5)
            except queue.Empty:
                tx_id = next(iter(printed))  # a reprint
            status = ReceiptStatus.FAILED if n % 10 == 9 else ReceiptStatus.PRINTED
            store.set_receipt_status(tx_id, status)
            printed[tx_id] = status

    def gui() -> None:
        """What the idle screen and staff menu read while all this goes on."""
        for n in range(OPS_PER_THREAD):
            kind = n % 4
            if kind == 0:
                store.count_by_state()
            elif kind == 1:
                store.in_flight()
            elif kind == 2:
                store.pending_outbox()
            elif created:
                store.history(created[n % len(created)])
            reads[kind] += 1

    worker.start()
    began = time.monotonic()
    try:
        errors = run_threads(hq_lane, printer_lane, gui)
        deadline = time.monotonic() + 30
        while store.in_flight() and time.monotonic() < deadline:
            worker.wake()
            time.sleep(0.01)
    finally:
        worker.stop()
    elapsed = time.monotonic() - began

    assert errors == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert not any("locked" in r.getMessage() for r in caplog.records)
    assert len(created) == CYCLES and len(set(created)) == CYCLES
    assert store.in_flight() == [] and store.pending_outbox() == []

    counts = store.count_by_state()
    raced = [tx_id for tx_id in cancelled if int(str(store.get(tx_id).order_no)[3:]) % 4 == 1]
    assert counts[TxState.CANCELLED] == len(cancelled) - len(raced)
    assert counts[TxState.PAID] == len(paid_by_poll) + len(raced)
    assert sum(counts.values()) == CYCLES
    for tx_id in paid_by_poll:
        assert [e.to_state for e in store.history(tx_id)] == [TxState.NEW, TxState.AWAITING_PAYMENT, TxState.PAID]
    for tx_id in cancelled:
        record = store.get(tx_id)
        assert [e.to_state for e in store.history(tx_id)] == [
            TxState.NEW, TxState.AWAITING_PAYMENT, TxState.UNKNOWN, record.state,
        ]
        assert [m.kind for m in store.outbox_for(tx_id)] == [OutboxKind.CREATE_ORDER, OutboxKind.SETTLE]
    for tx_id in created:  # every receipt write is there, the last one standing
        assert store.get(tx_id).receipt_status is printed.get(tx_id, ReceiptStatus.NONE)
    assert hq.requests == 2 * len(cancelled) - len(raced)  # looked up each, cancelled the open ones: nothing twice
    assert integrity_ok(store)
    assert elapsed < 60, f"took {elapsed:.1f} s"


def test_many_writers_on_the_same_transactions(store: TransactionStore) -> None:
    """Four threads hammer the same few rows: each write is serialised, none lost, none "locked"."""
    rows = [new_order(store, house_id=f"h_{n}") for n in range(4)]
    for record in rows:
        store.transition(record.id, TxState.UNKNOWN, sent=[store.outbox_for(record.id)[0].id],
                         outbox=(OutboxKind.SETTLE, {"intent": "cancel"}))
    settles = {record.id: store.outbox_for(record.id)[1].id for record in rows}
    ops = 1000

    def receipts() -> None:
        for n in range(ops):
            store.set_receipt_status(rows[n % 4].id, ReceiptStatus.PRINTED if n % 2 else ReceiptStatus.FAILED)

    def failed_attempts() -> None:
        for n in range(ops):
            store.outbox_failed(settles[rows[n % 4].id], error=f"attempt {n}", next_attempt_at=None)

    def creators() -> None:
        for n in range(ops // 2):
            record = new_order(store, house_id="h_new", amount_fen=100 + n)
            store.transition(record.id, TxState.ABANDONED, reason="hq_unreachable",
                             sent=[store.outbox_for(record.id)[0].id])

    def readers() -> None:
        for n in range(ops):
            (store.count_by_state, store.in_flight, store.pending_outbox)[n % 3]()

    assert run_threads(receipts, failed_attempts, creators, readers) == []
    assert store.count_by_state()[TxState.ABANDONED] == ops // 2
    assert {m.transaction_id for m in store.pending_outbox()} == set(settles)
    for record in rows:  # every counted failure is there
        message = store.outbox_for(record.id)[1]
        assert message.attempts == ops // 4 and message.sent_at is None
    assert store.get(rows[3].id).receipt_status is ReceiptStatus.PRINTED  # the last write to it (n = 999)
    assert integrity_ok(store)

