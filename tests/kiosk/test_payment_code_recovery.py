"""A crash while paying with a payment code, and the worker settling such payments: asked for, never sent again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from journey_rig import pay_in_sandbox

from hq.seed import DEMO_HOUSES
from hq.server import HqServer
from kiosk.code_payment import pay_with_code
from kiosk.domain import Order, OrderStatus
from kiosk.hq_client import HqClient
from kiosk.outbox_worker import Intent, OutboxWorker
from kiosk.qr_payload import Payload, parse
from kiosk.recovery import recover
from offline_queue.models import OutboxKind
from offline_queue.states import TxState
from offline_queue.store import TransactionRecord, TransactionStore

PAYS = "134567890123456781"
CONFIRMS = "286543210987654328"
HOUSE = DEMO_HOUSES[-5]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TransactionStore]:
    with TransactionStore.open(tmp_path / "terminal.db") as store:
        yield store


@pytest.fixture
def client(hq_server: HqServer) -> Iterator[HqClient]:
    client = HqClient(hq_server.base_url, connect_timeout_s=1.0, read_timeout_s=5.0)
    yield client
    client.close()


def code(raw: str) -> Payload:
    payload = parse(raw)
    assert isinstance(payload, Payload)
    return payload


def awaiting_payment(store: TransactionStore, client: HqClient) -> tuple[TransactionRecord, Order]:
    """A transaction whose order HQ made and whose QR is on screen."""
    tx = store.create(
        terminal_id="T-TEST", service="electricity", house_id=HOUSE.house_id, house_label=HOUSE.number,
        meter_id=HOUSE.lighting_meter_id, meter_label="lighting:1", amount_fen=1500,
    )
    order = client.create_order(
        idempotency_key=tx.idempotency_key, terminal_id="T-TEST", house_id=HOUSE.house_id,
        meter_id=HOUSE.lighting_meter_id, amount_fen=1500,
    )
    sent = [m.id for m in store.outbox_for(tx.id)]
    tx = store.transition(tx.id, TxState.AWAITING_PAYMENT, order_no=order.order_no, pay_url=order.pay_url, sent=sent)
    return tx, order


def settle_messages(store: TransactionStore, tx_id: str) -> list[Any]:
    return [m for m in store.outbox_for(tx_id) if m.kind is OutboxKind.SETTLE]


def test_crash_before_the_code_left_cancels_the_order(store: TransactionStore, client: HqClient) -> None:
    tx, order = awaiting_payment(store, client)
    store.transition(  # written, then the power went before the request left
        tx.id, TxState.PAYING, reason="payment_code",
        outbox=(OutboxKind.PAYMENT_CODE, {"idempotency_key": "k" * 32, "order_no": order.order_no,
                                          "wallet": "wechat_pay", "code": "****6781"}),
    )
    assert recover(store) == 1
    tx = store.get(tx.id)
    assert tx.state is TxState.UNKNOWN
    assert all(m.sent_at is not None for m in store.outbox_for(tx.id) if m.kind is not OutboxKind.SETTLE)
    [settle] = settle_messages(store, tx.id)
    assert settle.payload == {"intent": Intent.RECOVER}
    OutboxWorker(store, client).run_once()
    assert store.get(tx.id).state is TxState.CANCELLED
    assert client.order(order.order_no).status is OrderStatus.CANCELLED


def test_crash_while_the_payer_confirms_waits_for_the_payer(store: TransactionStore, client: HqClient) -> None:
    tx, order = awaiting_payment(store, client)
    answer = pay_with_code(store, client, tx.id, order.order_no, code(CONFIRMS))
    assert answer.tx.state is TxState.PAYING and answer.order is not None
    assert answer.order.status is OrderStatus.CONFIRMING
    assert recover(store) == 1  # the power went while the resident looked at the phone

    clock = Clock()
    worker = OutboxWorker(store, client, clock=clock, recheck_s=5.0)
    assert worker.run_once() == 1
    assert store.get(tx.id).state is TxState.UNKNOWN  # not cancelled: the payer may still confirm
    assert [m.attempts for m in settle_messages(store, tx.id)] == [0]  # and no attempt spent
    assert worker.run_once() == 0  # not asked again before its time
    pay_in_sandbox(order.pay_url)  # the payer confirms
    clock.now += timedelta(seconds=6)
    assert worker.run_once() == 1
    settled = store.get(tx.id)
    assert settled.state is TxState.PAID and settled.new_balance_fen is not None


def test_a_cancel_while_confirming_reverses_the_payment(store: TransactionStore, client: HqClient) -> None:
    tx, order = awaiting_payment(store, client)
    pay_with_code(store, client, tx.id, order.order_no, code(CONFIRMS))
    store.transition(tx.id, TxState.UNKNOWN, reason="cancel_requested",
                     outbox=(OutboxKind.SETTLE, {"intent": Intent.CANCEL}))
    OutboxWorker(store, client).run_once()
    assert store.get(tx.id).state is TxState.CANCELLED
    assert client.order(order.order_no).status is OrderStatus.CANCELLED
    assert pay_in_sandbox(order.pay_url)["status"] == "cancelled"


def test_the_submission_is_written_before_it_is_sent(store: TransactionStore, client: HqClient) -> None:
    tx, order = awaiting_payment(store, client)
    seen: list[tuple[TxState, list[OutboxKind]]] = []

    class Watching(HqClient):
        def pay_with_code(self, order_no: str, *, idempotency_key: str, payment_code: str) -> Order:
            record = store.get(tx.id)
            unsent = [m for m in store.outbox_for(tx.id) if m.sent_at is None]
            seen.append((record.state, [m.kind for m in unsent]))
            assert unsent[0].payload["idempotency_key"] == idempotency_key
            return super().pay_with_code(order_no, idempotency_key=idempotency_key, payment_code=payment_code)

    watching = Watching(client.base_url)
    try:
        answer = pay_with_code(store, watching, tx.id, order.order_no, code(PAYS))
    finally:
        watching.close()
    assert seen == [(TxState.PAYING, [OutboxKind.PAYMENT_CODE])]
    assert answer.tx.state is TxState.PAID
    assert all(m.sent_at is not None for m in store.outbox_for(tx.id))
