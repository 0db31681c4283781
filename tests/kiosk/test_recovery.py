"""Start-up recovery: every transaction found in flight is queued for settling, then settled with the real HQ.

A "crash" is the store closed wherever the journey happened to be, then opened again with a new HQ client and a
new worker, as `kiosk/app.py` does at start: `recover(store)` before anything else, then the worker runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from journey_rig import pay_in_sandbox

from hq.seed import NEW_HOUSE
from hq.server import HqServer
from kiosk.domain import Order
from kiosk.hq_client import HqClient
from kiosk.outbox_worker import Intent, OutboxWorker
from kiosk.recovery import recover
from offline_queue.models import OutboxKind
from offline_queue.states import TERMINAL_STATES, TxState
from offline_queue.store import OutboxMessage, TransactionRecord, TransactionStore

ORDER: dict[str, Any] = {
    "terminal_id": "T-TEST",
    "service": "electricity",
    "house_id": NEW_HOUSE.house_id,
    "house_label": NEW_HOUSE.number,
    "meter_id": NEW_HOUSE.lighting_meter_id,
    "meter_label": "lighting:1",
    "amount_fen": 2500,
}


class Terminal:
    """The parts of a terminal that survive a crash (the database file) and those that do not."""

    def __init__(self, path: Path, hq_url: str) -> None:
        self.path = path
        self.hq_url = hq_url
        self.store = TransactionStore.open(path)
        self.client = HqClient(hq_url, connect_timeout_s=1.0, read_timeout_s=5.0)

    def crash_and_restart(self) -> int:
        """Lose everything in memory, open the file again and recover; returns what recover() found."""
        self.close()
        self.store = TransactionStore.open(self.path)
        self.client = HqClient(self.hq_url, connect_timeout_s=1.0, read_timeout_s=5.0)
        return recover(self.store)

    def worker(self) -> OutboxWorker:
        return OutboxWorker(self.store, self.client)

    def close(self) -> None:
        self.client.close()
        self.store.close()

    # -- what the journey does, step by step --

    def create(self, **order: Any) -> TransactionRecord:
        return self.store.create(**{**ORDER, **order})

    def send_create(self, tx: TransactionRecord) -> Order:
        """POST /orders under the transaction's key (the journey's request), without recording the answer."""
        return self.client.create_order(
            idempotency_key=tx.idempotency_key, terminal_id=tx.terminal_id, house_id=tx.house_id,
            meter_id=tx.meter_id, amount_fen=tx.amount_fen,
        )

    def record_created(self, tx: TransactionRecord, order: Order) -> TransactionRecord:
        return self.store.transition(
            tx.id, TxState.AWAITING_PAYMENT, reason="order_created", order_no=order.order_no, pay_url=order.pay_url,
            receipt_url=order.receipt_url, sent=[m.id for m in unsent(self.store, tx.id)],
        )


def unsent(store: TransactionStore, tx_id: str, kind: OutboxKind | None = None) -> list[OutboxMessage]:
    return [m for m in store.outbox_for(tx_id) if m.sent_at is None and (kind is None or m.kind is kind)]


def states(store: TransactionStore, tx_id: str) -> list[TxState]:
    return [e.to_state for e in store.history(tx_id)]


def hq_order(hq_server: HqServer, order_no: str) -> dict[str, Any]:
    answer: dict[str, Any] = requests.get(f"{hq_server.base_url}/api/v1/orders/{order_no}", timeout=5).json()
    return answer


def balance(client: HqClient, meter_id: str) -> int:
    return next(m.balance_fen for m in client.overview(NEW_HOUSE.house_id).meters if m.meter_id == meter_id)


@pytest.fixture
def terminal(tmp_path: Path, hq_server: HqServer) -> Iterator[Terminal]:
    t = Terminal(tmp_path / "terminal.db", hq_server.base_url)
    yield t
    t.close()


# ---- recover() on each state ---------------------------------------------------------------------------------------


def test_new_with_an_unsent_create_goes_unknown_and_the_create_is_superseded(terminal: Terminal) -> None:
    tx = terminal.create()
    [create] = unsent(terminal.store, tx.id, OutboxKind.CREATE_ORDER)
    assert terminal.crash_and_restart() == 1
    record = terminal.store.get(tx.id)
    assert record.state is TxState.UNKNOWN and states(terminal.store, tx.id) == [TxState.NEW, TxState.UNKNOWN]
    [settle] = unsent(terminal.store, tx.id)
    assert settle.kind is OutboxKind.SETTLE and settle.payload == {"intent": Intent.RECOVER}
    assert next(m for m in terminal.store.outbox_for(tx.id) if m.id == create.id).sent_at is not None
    assert terminal.store.history(tx.id)[-1].reason == "recovered_at_start"


def test_awaiting_payment_goes_unknown_with_a_settle_message(terminal: Terminal) -> None:
    tx = terminal.create()
    terminal.record_created(tx, terminal.send_create(tx))
    assert terminal.crash_and_restart() == 1
    assert terminal.store.get(tx.id).state is TxState.UNKNOWN
    assert [m.kind for m in unsent(terminal.store, tx.id)] == [OutboxKind.SETTLE]


def test_unknown_with_a_settle_message_is_left_queued_as_it_is(terminal: Terminal) -> None:
    tx = terminal.create()
    terminal.store.transition(
        tx.id, TxState.UNKNOWN, reason="create_no_answer", sent=[m.id for m in unsent(terminal.store, tx.id)],
        outbox=(OutboxKind.SETTLE, {"intent": Intent.CREATE_UNKNOWN}),
    )
    before = terminal.store.outbox_for(tx.id)
    assert terminal.crash_and_restart() == 1
    assert terminal.store.outbox_for(tx.id) == before  # no second message
    assert states(terminal.store, tx.id) == [TxState.NEW, TxState.UNKNOWN]
    assert unsent(terminal.store, tx.id)[0].payload == {"intent": Intent.CREATE_UNKNOWN}  # its intent kept


def test_unknown_without_a_settle_message_is_requeued_through_the_staff_path(terminal: Terminal) -> None:
    tx = terminal.create()
    terminal.store.transition(tx.id, TxState.UNKNOWN, sent=[m.id for m in unsent(terminal.store, tx.id)])
    assert unsent(terminal.store, tx.id) == []
    assert terminal.crash_and_restart() == 1
    assert states(terminal.store, tx.id) == [TxState.NEW, TxState.UNKNOWN, TxState.NEEDS_ATTENTION, TxState.UNKNOWN]
    assert [e.reason for e in terminal.store.history(tx.id)][-2:] == ["recovered_without_message", "recovered_at_start"]
    [settle] = unsent(terminal.store, tx.id)
    assert settle.kind is OutboxKind.SETTLE


def test_needs_attention_is_left_for_staff(terminal: Terminal) -> None:
    tx = terminal.create()
    terminal.store.transition(tx.id, TxState.UNKNOWN, sent=[m.id for m in unsent(terminal.store, tx.id)])
    terminal.store.transition(tx.id, TxState.NEEDS_ATTENTION, reason="attempts_used_up", attempts=3)
    before = (terminal.store.get(tx.id), terminal.store.outbox_for(tx.id), terminal.store.history(tx.id))
    assert terminal.crash_and_restart() == 0
    assert (terminal.store.get(tx.id), terminal.store.outbox_for(tx.id), terminal.store.history(tx.id)) == before
    terminal.worker().run_once()
    assert terminal.store.get(tx.id).state is TxState.NEEDS_ATTENTION


def test_settled_transactions_are_not_touched_and_recover_is_idempotent(terminal: Terminal) -> None:
    done = terminal.create()
    terminal.store.transition(done.id, TxState.ABANDONED, sent=[m.id for m in unsent(terminal.store, done.id)])
    live = terminal.create()
    assert terminal.crash_and_restart() == 1
    outbox = terminal.store.outbox_for(live.id)
    history = terminal.store.history(done.id)
    assert terminal.crash_and_restart() == 1  # found again (still unsettled), queued once only
    assert terminal.store.outbox_for(live.id) == outbox
    assert terminal.store.history(done.id) == history
    assert recover(terminal.store) == 1


# ---- then the worker settles each one with HQ ---------------------------------------------------------------------


def test_crash_before_the_create_was_sent_is_abandoned(terminal: Terminal) -> None:
    tx = terminal.create()
    terminal.crash_and_restart()
    terminal.worker().run_once()
    record = terminal.store.get(tx.id)
    assert record.state is TxState.ABANDONED and record.order_no is None
    assert terminal.store.pending_outbox() == []


def test_order_created_at_hq_then_crash_before_recording_it_is_cancelled_never_charged(
    terminal: Terminal, hq_server: HqServer
) -> None:
    tx = terminal.create()
    before = balance(terminal.client, tx.meter_id)
    order = terminal.send_create(tx)  # HQ made the order; the terminal died before writing awaiting_payment
    assert terminal.store.get(tx.id).state is TxState.NEW
    terminal.crash_and_restart()
    terminal.worker().run_once()
    record = terminal.store.get(tx.id)
    assert record.state is TxState.CANCELLED and record.order_no == order.order_no
    assert hq_order(hq_server, order.order_no)["status"] == "cancelled"
    assert pay_in_sandbox(order.pay_url)["status"] == "cancelled"  # the QR, had anyone kept it, pays nothing
    assert balance(terminal.client, tx.meter_id) == before


def test_awaiting_payment_then_crash_is_cancelled_never_charged(terminal: Terminal, hq_server: HqServer) -> None:
    tx = terminal.create()
    before = balance(terminal.client, tx.meter_id)
    order = terminal.send_create(tx)
    terminal.record_created(tx, order)
    terminal.crash_and_restart()
    terminal.worker().run_once()
    assert terminal.store.get(tx.id).state is TxState.CANCELLED
    assert hq_order(hq_server, order.order_no)["status"] == "cancelled"
    assert pay_in_sandbox(order.pay_url)["status"] == "cancelled"
    assert balance(terminal.client, tx.meter_id) == before


@pytest.mark.parametrize("recorded", [False, True], ids=["new", "awaiting_payment"])
def test_paid_at_hq_during_the_crash_is_paid(terminal: Terminal, hq_server: HqServer, recorded: bool) -> None:
    tx = terminal.create()
    order = terminal.send_create(tx)
    if recorded:
        terminal.record_created(tx, order)
    terminal.close()
    paid = pay_in_sandbox(order.pay_url)  # the resident's phone pays while the terminal is down
    terminal.store = TransactionStore.open(terminal.path)
    terminal.client = HqClient(terminal.hq_url, connect_timeout_s=1.0, read_timeout_s=5.0)
    assert recover(terminal.store) == 1
    terminal.worker().run_once()
    record = terminal.store.get(tx.id)
    assert record.state is TxState.PAID and record.order_no == order.order_no
    assert record.new_balance_fen == paid["new_balance_fen"] is not None
    assert hq_order(hq_server, order.order_no)["status"] == "paid"


def test_declined_during_the_crash_is_declined(terminal: Terminal) -> None:
    tx = terminal.create()
    order = terminal.send_create(tx)
    terminal.record_created(tx, order)
    pay_in_sandbox(order.pay_url, "decline")
    terminal.crash_and_restart()
    terminal.worker().run_once()
    assert terminal.store.get(tx.id).state is TxState.DECLINED


def test_every_in_flight_state_at_once_settles_correctly(terminal: Terminal, hq_server: HqServer) -> None:
    """One terminal dies with one transaction in each in-flight state; after restart each ends as it should."""
    store = terminal.store
    never_sent = terminal.create(amount_fen=1100)
    made_not_recorded = terminal.create(amount_fen=1200)
    order_made = terminal.send_create(made_not_recorded)
    awaiting = terminal.create(amount_fen=1300)
    order_awaiting = terminal.send_create(awaiting)
    terminal.record_created(awaiting, order_awaiting)
    paid_meanwhile = terminal.create(amount_fen=1400)
    order_paid = terminal.send_create(paid_meanwhile)
    terminal.record_created(paid_meanwhile, order_paid)
    unknown_queued = terminal.create(amount_fen=1500)
    order_unknown = terminal.send_create(unknown_queued)
    terminal.record_created(unknown_queued, order_unknown)
    store.transition(unknown_queued.id, TxState.UNKNOWN, outbox=(OutboxKind.SETTLE, {"intent": Intent.EXPIRE}))
    unknown_bare = terminal.create(amount_fen=1600)
    store.transition(unknown_bare.id, TxState.UNKNOWN, sent=[m.id for m in unsent(store, unknown_bare.id)])
    attention = terminal.create(amount_fen=1700)
    store.transition(attention.id, TxState.UNKNOWN, sent=[m.id for m in unsent(store, attention.id)])
    store.transition(attention.id, TxState.NEEDS_ATTENTION, attempts=3, last_error="HqNoAnswer")
    pay_in_sandbox(order_paid.pay_url)

    assert terminal.crash_and_restart() == 6
    worker = terminal.worker()
    assert worker.run_once() == 6
    store = terminal.store
    expected = {
        never_sent.id: TxState.ABANDONED,
        made_not_recorded.id: TxState.CANCELLED,
        awaiting.id: TxState.CANCELLED,
        paid_meanwhile.id: TxState.PAID,
        unknown_queued.id: TxState.EXPIRED,  # its intent survived the crash
        unknown_bare.id: TxState.ABANDONED,
        attention.id: TxState.NEEDS_ATTENTION,
    }
    assert {tx_id: store.get(tx_id).state for tx_id in expected} == expected
    for order in (order_made, order_awaiting, order_unknown):
        assert hq_order(hq_server, order.order_no)["status"] == "cancelled"
    assert hq_order(hq_server, order_paid.order_no)["status"] == "paid"
    assert [tx.id for tx in store.in_flight()] == [attention.id]
    assert store.pending_outbox() == []
    assert all(store.get(tx_id).state in TERMINAL_STATES for tx_id in expected if tx_id != attention.id)
    assert recover(store) == 0 and worker.run_once() == 0
