"""Several threads writing at once: no "database is locked", nothing lost, the file intact."""

from __future__ import annotations

import threading

from queue_helpers import integrity_ok, new_order

from offline_queue import OutboxKind, ReceiptStatus, TransactionStore, TxState

THREADS = 4
OPS_PER_THREAD = 250
OPS_PER_CYCLE = 5  # create, awaiting payment, paid (+ message), mark sent, receipt


def test_concurrent_writers_from_four_threads(store: TransactionStore) -> None:
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    created: list[list[str]] = [[] for _ in range(THREADS)]

    def work(worker: int) -> None:
        try:
            start.wait()
            for cycle in range(OPS_PER_THREAD // OPS_PER_CYCLE):
                record = new_order(store, house_id=f"h_{worker}", amount_fen=100 + cycle)
                created[worker].append(record.id)
                store.transition(record.id, TxState.AWAITING_PAYMENT, order_no=f"EO{worker}X{cycle}")
                store.transition(
                    record.id,
                    TxState.PAID,
                    new_balance_fen=cycle,
                    outbox=(OutboxKind.SETTLE, {"order_no": f"EO{worker}X{cycle}"}),
                )
                store.mark_outbox_sent(store.outbox_for(record.id)[0].id)
                store.set_receipt_status(record.id, ReceiptStatus.PRINTED)
                # Readers run alongside the writers too (the GUI polls these).
                store.in_flight()
                store.count_by_state()
        except BaseException as exc:  # collected: an exception in a thread would otherwise be lost
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    cycles = THREADS * OPS_PER_THREAD // OPS_PER_CYCLE
    ids = [tx_id for per_worker in created for tx_id in per_worker]
    assert len(set(ids)) == cycles
    assert store.count_by_state()[TxState.PAID] == cycles
    assert store.in_flight() == []
    for tx_id in ids:
        assert [e.to_state for e in store.history(tx_id)] == [
            TxState.NEW,
            TxState.AWAITING_PAYMENT,
            TxState.PAID,
        ]
        assert store.get(tx_id).receipt_status is ReceiptStatus.PRINTED
    # Each cycle left its query_status message pending and its create_order sent.
    pending = store.pending_outbox()
    assert len(pending) == cycles
    assert {m.kind for m in pending} == {OutboxKind.SETTLE}
    assert integrity_ok(store)
