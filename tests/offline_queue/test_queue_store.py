"""TransactionStore: creation, every transition of the table, the outbox, reads, validation."""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from queue_helpers import ORDER, new_order, tx_in_state

from offline_queue import (
    TERMINAL_STATES,
    InvalidTransition,
    OutboxKind,
    ReceiptStatus,
    RecordNotFound,
    StoreError,
    TransactionRecord,
    TransactionStore,
    TxState,
)
from offline_queue.models import TransactionRow
from offline_queue.states import ALLOWED

ALLOWED_PAIRS = [(a, b) for a in TxState for b in sorted(ALLOWED[a])]
DISALLOWED_PAIRS = [(a, b) for a, b in itertools.product(TxState, TxState) if b not in ALLOWED[a]]


def _pair_id(pair: tuple[TxState, TxState]) -> str:
    return f"{pair[0]}->{pair[1]}"


class StepClock:
    """A clock that moves one second per call, so ordering by time is deterministic."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def clocked_store(db_path: Path) -> Iterator[TransactionStore]:
    store = TransactionStore.open(db_path, clock=StepClock(datetime(2026, 11, 22, 11, 0, tzinfo=UTC)))
    yield store
    store.close()


def _assert_utc(moment: datetime | None) -> None:
    assert moment is not None
    assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)


# -- create -------------------------------------------------------------------------------------------


def test_create_records_a_new_order_with_one_event_and_a_create_order_message(
    store: TransactionStore,
) -> None:
    record = new_order(store)
    assert record.state is TxState.NEW
    assert {f: getattr(record, f) for f in ORDER} == ORDER
    assert (record.order_no, record.pay_url, record.receipt_url, record.new_balance_fen) == (None,) * 4
    assert record.receipt_status is ReceiptStatus.NONE
    assert (record.attempts, record.last_error) == (0, None)
    assert record.created_at == record.updated_at
    assert not record.is_terminal

    [event] = store.history(record.id)
    assert (event.from_state, event.to_state, event.at) == (None, TxState.NEW, record.created_at)

    [message] = store.pending_outbox()
    assert message.kind is OutboxKind.CREATE_ORDER
    assert message.transaction_id == record.id
    assert message.idempotency_key == record.idempotency_key
    # Exactly the HQ request body, so a retry under the same key sends the same thing.
    assert message.payload == {
        "terminal_id": "T-0001",
        "house_id": "h_3_2_501",
        "meter_id": "m_3_2_501_l",
        "service": "electricity",
        "amount_fen": 10000,
    }
    assert (message.sent_at, message.attempts, message.next_attempt_at) == (None, 0, None)

    assert store.get(record.id) == record
    assert store.get_by_key(record.idempotency_key) == record


def test_idempotency_keys_are_unguessable_and_unique(store: TransactionStore) -> None:
    keys = {new_order(store).idempotency_key for _ in range(50)}
    assert len(keys) == 50
    # HQ accepts 16 to 64 characters of [A-Za-z0-9_-]; 32 url-safe characters carry 192 random bits.
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", key) for key in keys)


@pytest.mark.parametrize("amount", [0, -100, True, False, 100.0, 1.5, "100", None])
def test_amount_must_be_a_positive_int(store: TransactionStore, amount: Any) -> None:
    with pytest.raises(ValueError, match="amount_fen"):
        new_order(store, amount_fen=amount)
    assert sum(store.count_by_state().values()) == 0
    assert store.pending_outbox() == []


@pytest.mark.parametrize("field", ["terminal_id", "service", "house_id", "house_label", "meter_id"])
@pytest.mark.parametrize("value", ["", "  ", None, 7])
def test_identity_fields_must_be_non_empty_text(store: TransactionStore, field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=field):
        new_order(store, **{field: value})
    assert sum(store.count_by_state().values()) == 0


def test_create_is_atomic_when_the_outbox_write_fails(store: TransactionStore) -> None:
    with store.engine.begin() as conn:  # the last of create's three inserts fails, as a full disk would
        conn.exec_driver_sql(
            "CREATE TRIGGER outbox_refuses BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    with pytest.raises(StoreError, match="disk full"):
        new_order(store)
    assert sum(store.count_by_state().values()) == 0
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM transaction_events").scalar_one() == 0
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER outbox_refuses")
    assert new_order(store).state is TxState.NEW  # the connection that failed is usable again


def test_a_failed_mark_rolls_the_whole_transition_back(store: TransactionStore) -> None:
    record = new_order(store)
    other = new_order(store, house_id="h_other")
    [others_create] = store.outbox_for(other.id)
    with pytest.raises(RecordNotFound):  # another transaction's message: refused, and nothing of it stays
        store.transition(
            record.id, TxState.UNKNOWN, outbox=(OutboxKind.SETTLE, {"k": 1}), sent=[others_create.id], attempts=1
        )
    assert store.get(record.id) == record
    assert len(store.history(record.id)) == 1
    assert [m.kind for m in store.outbox_for(record.id)] == [OutboxKind.CREATE_ORDER]
    assert store.outbox_for(other.id)[0].sent_at is None


def test_record_fields_are_the_table_columns_in_order(store: TransactionStore) -> None:
    # The write paths select and insert a record's fields by name, in this order.
    columns = [c.name for c in TransactionRow.__table__.columns]
    assert [f.name for f in dataclasses.fields(TransactionRecord)] == columns


# -- transitions --------------------------------------------------------------------------------------


@pytest.mark.parametrize("pair", ALLOWED_PAIRS, ids=_pair_id)
def test_every_allowed_transition(store: TransactionStore, pair: tuple[TxState, TxState]) -> None:
    source, target = pair
    before = tx_in_state(store, source)
    events_before = store.history(before.id)

    after = store.transition(before.id, target, reason="hq said so", detail={"http_status": 200})

    assert after.state is target
    assert after.is_terminal == (target in TERMINAL_STATES)
    assert after.updated_at >= before.updated_at
    assert store.get(before.id) == after
    events = store.history(before.id)
    assert events[:-1] == events_before
    last = events[-1]
    assert (last.from_state, last.to_state, last.reason) == (source, target, "hq said so")
    assert last.detail == {"http_status": 200}
    assert last.at == after.updated_at


@pytest.mark.parametrize("pair", DISALLOWED_PAIRS, ids=_pair_id)
def test_every_disallowed_transition_raises_and_changes_nothing(
    store: TransactionStore, pair: tuple[TxState, TxState]
) -> None:
    source, target = pair
    before = tx_in_state(store, source)
    events_before = store.history(before.id)
    outbox_before = store.outbox_for(before.id)

    with pytest.raises(InvalidTransition) as info:
        store.transition(
            before.id,
            target,
            reason="should not happen",
            order_no="EO-NEVER",
            last_error="never written",
            outbox=(OutboxKind.SETTLE, {"order_no": "EO-NEVER"}),
        )

    assert (info.value.current, info.value.target) == (source, target)
    assert store.get(before.id) == before
    assert store.history(before.id) == events_before
    assert store.outbox_for(before.id) == outbox_before


def test_the_table_covers_every_pair() -> None:
    assert len(ALLOWED_PAIRS) + len(DISALLOWED_PAIRS) == len(TxState) ** 2


def test_transition_sets_the_fields_hq_returned(store: TransactionStore) -> None:
    record = new_order(store)
    record = store.transition(
        record.id,
        TxState.AWAITING_PAYMENT,
        order_no="EO7KQ2M4X9ZP3R8T",
        pay_url="http://hq/sandbox/checkout/EO7KQ2M4X9ZP3R8T",
        receipt_url="http://hq/r/EO7KQ2M4X9ZP3R8T",
        attempts=1,
    )
    record = store.transition(record.id, TxState.PAID, new_balance_fen=14210, last_error=None)
    assert (record.order_no, record.new_balance_fen, record.attempts) == ("EO7KQ2M4X9ZP3R8T", 14210, 1)
    assert record.pay_url == "http://hq/sandbox/checkout/EO7KQ2M4X9ZP3R8T"
    assert record.receipt_url == "http://hq/r/EO7KQ2M4X9ZP3R8T"
    assert record.is_terminal


def test_transition_to_unknown_records_the_error(store: TransactionStore) -> None:
    record = new_order(store)
    record = store.transition(record.id, TxState.UNKNOWN, last_error="read timeout after 10 s", attempts=1)
    assert (record.last_error, record.attempts) == ("read timeout after 10 s", 1)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"state": "paid"}, TypeError),
        ({"amount_fen": 1}, TypeError),
        ({"idempotency_key": "x" * 32}, TypeError),
        ({"new_balance_fen": True}, ValueError),
        ({"new_balance_fen": 1.5}, ValueError),
        ({"attempts": -1}, ValueError),
        ({"order_no": ""}, ValueError),
        ({"pay_url": 42}, ValueError),
    ],
)
def test_transition_refuses_bad_fields_and_changes_nothing(
    store: TransactionStore, fields: dict[str, Any], error: type[Exception]
) -> None:
    record = new_order(store)
    with pytest.raises(error):
        store.transition(record.id, TxState.AWAITING_PAYMENT, **fields)
    assert store.get(record.id) == record
    assert len(store.history(record.id)) == 1


def test_an_order_number_is_never_replaced(store: TransactionStore) -> None:
    record = store.transition(new_order(store).id, TxState.AWAITING_PAYMENT, order_no="EO-FIRST")
    with pytest.raises(ValueError, match="EO-FIRST"):
        store.transition(record.id, TxState.UNKNOWN, order_no="EO-SECOND")
    assert store.get(record.id) == record
    # The same number again is fine (HQ replayed its answer).
    assert store.transition(record.id, TxState.UNKNOWN, order_no="EO-FIRST").order_no == "EO-FIRST"


def test_transition_of_an_unknown_id(store: TransactionStore) -> None:
    with pytest.raises(RecordNotFound):
        store.transition("no-such-id", TxState.AWAITING_PAYMENT)


# -- outbox -------------------------------------------------------------------------------------------


def test_outbox_message_is_written_with_the_transition(store: TransactionStore) -> None:
    record = store.transition(new_order(store).id, TxState.AWAITING_PAYMENT, order_no="EO1")
    record = store.transition(
        record.id,
        TxState.UNKNOWN,
        reason="cancel sent, no answer yet",
        outbox=(OutboxKind.SETTLE, {"order_no": "EO1"}),
    )
    messages = store.outbox_for(record.id)
    assert [m.kind for m in messages] == [OutboxKind.CREATE_ORDER, OutboxKind.SETTLE]
    assert messages[1].payload == {"order_no": "EO1"}
    assert messages[1].created_at == store.history(record.id)[-1].at == record.updated_at


@pytest.mark.parametrize(
    "outbox",
    [("send_sms", {}), (OutboxKind.SETTLE, {"when": datetime.now(UTC)}), ("settle", [1])],
)
def test_bad_outbox_message_stops_the_transition(store: TransactionStore, outbox: Any) -> None:
    record = new_order(store)
    with pytest.raises(ValueError):
        store.transition(record.id, TxState.UNKNOWN, outbox=outbox)
    assert store.get(record.id) == record
    assert len(store.outbox_for(record.id)) == 1


def test_pending_outbox_is_oldest_first_and_mark_sent_removes(store: TransactionStore) -> None:
    first, second, third = (new_order(store, house_id=f"h{n}") for n in range(3))
    store.transition(first.id, TxState.UNKNOWN, outbox=(OutboxKind.SETTLE, {"key": "k"}))
    pending = store.pending_outbox()
    assert [(m.transaction_id, m.kind) for m in pending] == [
        (first.id, OutboxKind.CREATE_ORDER),
        (second.id, OutboxKind.CREATE_ORDER),
        (third.id, OutboxKind.CREATE_ORDER),
        (first.id, OutboxKind.SETTLE),
    ]
    sent = store.mark_outbox_sent(pending[1].id)
    _assert_utc(sent.sent_at)
    assert store.mark_outbox_sent(pending[1].id) == sent  # the first delivery time stays
    assert [m.id for m in store.pending_outbox()] == [pending[0].id, pending[2].id, pending[3].id]
    assert store.outbox_for(second.id) == [sent]  # kept, never deleted
    with pytest.raises(RecordNotFound):
        store.mark_outbox_sent(10_000)


# -- receipts and reads -------------------------------------------------------------------------------


def test_receipt_status(store: TransactionStore) -> None:
    record = tx_in_state(store, TxState.PAID)
    history = store.history(record.id)
    updated = store.set_receipt_status(record.id, ReceiptStatus.PRINTED)
    assert updated.receipt_status is ReceiptStatus.PRINTED
    assert (updated.state, updated.order_no) == (record.state, record.order_no)
    assert store.set_receipt_status(record.id, "failed").receipt_status is ReceiptStatus.FAILED
    assert store.history(record.id) == history  # not a state change
    with pytest.raises(ValueError):
        store.set_receipt_status(record.id, "lost")
    with pytest.raises(RecordNotFound):
        store.set_receipt_status("no-such-id", ReceiptStatus.PRINTED)


def test_in_flight_last_for_house_and_counts(clocked_store: TransactionStore) -> None:
    store = clocked_store
    older = new_order(store, house_id="h_1")
    paid = tx_in_state(store, TxState.PAID)
    waiting = tx_in_state(store, TxState.AWAITING_PAYMENT)
    stuck = tx_in_state(store, TxState.NEEDS_ATTENTION)
    newest_for_h1 = new_order(store, house_id="h_1", amount_fen=5000)

    assert [r.id for r in store.in_flight()] == [older.id, waiting.id, stuck.id, newest_for_h1.id]
    assert store.last_for_house("h_1") == newest_for_h1
    assert store.last_for_house(ORDER["house_id"]) == store.get(stuck.id)
    assert store.last_for_house("h_nobody") is None
    counts = store.count_by_state()
    assert set(counts) == set(TxState)
    assert counts[TxState.NEW] == 2
    assert counts[TxState.PAID] == counts[TxState.AWAITING_PAYMENT] == counts[TxState.NEEDS_ATTENTION] == 1
    assert sum(counts.values()) == 5
    assert paid.id not in {r.id for r in store.in_flight()}


def test_unknown_ids_and_keys(store: TransactionStore) -> None:
    with pytest.raises(RecordNotFound):
        store.get("no-such-id")
    with pytest.raises(RecordNotFound):
        store.history("no-such-id")
    assert store.get_by_key("no-such-key") is None


def test_every_datetime_comes_back_aware_utc(db_path: Path) -> None:
    # A clock in China Standard Time: the store still keeps and returns UTC.
    cst = timezone(timedelta(hours=8))
    store = TransactionStore.open(db_path, clock=lambda: datetime(2026, 11, 22, 11, 0, tzinfo=cst))
    record = tx_in_state(store, TxState.PAID)
    store.mark_outbox_sent(store.pending_outbox()[0].id)
    store.close()

    store = TransactionStore.open(db_path)
    try:
        record = store.get(record.id)
        moments: list[datetime | None] = [record.created_at, record.updated_at]
        moments += [e.at for e in store.history(record.id)]
        moments += [m.created_at for m in store.outbox_for(record.id)]
        moments += [m.sent_at for m in store.outbox_for(record.id)]
        for moment in moments:
            _assert_utc(moment)
        assert record.created_at == datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    finally:
        store.close()


def test_a_naive_clock_is_refused(db_path: Path) -> None:
    store = TransactionStore.open(db_path, clock=lambda: datetime(2026, 11, 22, 3, 0))
    try:
        with pytest.raises(StoreError, match="naive"):
            new_order(store)
        assert sum(store.count_by_state().values()) == 0
    finally:
        store.close()


def test_records_are_frozen_snapshots(store: TransactionStore) -> None:
    record = new_order(store)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.state = TxState.PAID  # type: ignore[misc]
    store.transition(record.id, TxState.AWAITING_PAYMENT)
    assert record.state is TxState.NEW  # a snapshot, not a live object
